"""Mutable simulation state for a batch of ``n`` environments, kept apart from the frozen parameters.

Every array has the batch as its leading axis; the single env is a batch of one. Counters that a step
reports live in ``step`` (reset at the start of each step) and ``totals`` (reset with the episode), both
indexed by :data:`COUNTERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum
from functools import cached_property
from typing import NamedTuple

import numpy as np

from lrm_gym.core.compiled import inlined
from lrm_gym.core.params import Params
from lrm_gym.core.rng import WORDS as RNG_WORDS

# The column names below are IntEnum members: the compiled kernels read them as compile-time constants, and
# the tuples and dicts of names after each (COUNTERS, C, ...) are derived from them.


class Counter(IntEnum):
    """Columns of ``State.step`` and ``State.totals``: quantities summed over the slots closed (and the task
    decided) during a step. The reward components come last: a step's reward is their sum."""

    BASELINE_J = 0
    DEMAND_J = 1
    AUXILIARY_J = 2
    WASTE_J = 3
    CHARGE_J = 4
    DISCHARGE_J = 5
    SLOTS_CLOSED = 6
    TASKS_ARRIVED = 7
    TASKS_DISPATCHED = 8
    TASKS_CORRECT = 9
    TASKS_DROPPED = 10
    TASKS_DEFERRED = 11
    WAIT_SLOTS = 12
    AUXILIARY_COST = 13
    AUXILIARY_CARBON_G = 14
    REWARD_QUALITY = 15
    REWARD_AUXILIARY = 16
    REWARD_WASTE = 17
    REWARD_WAITING = 18
    REWARD_DROP = 19


class TaskField(IntEnum):
    """Fields of a queued task record, the last axis of ``State.queue``."""

    CLASS = 0
    DIFFICULTY = 1  # true number of skills m
    ESTIMATE = 2  # difficulty the router sees
    TABLE = 3  # difficulty index used for option tables (hidden index when not visible)
    SLACK = 4
    AGE = 5
    U_SKILL = 6
    U_STEPS = 7
    DONE = 8  # dispatched or dropped in this slot (1.0) or not (0.0)
    PROMPT_TOKENS = 9  # this task's prompt length (the class's, or drawn from its request trace)


class IntField(IntEnum):
    """Integer scalars of each env, the columns of ``State.ints``."""

    SLOT = 0  # current slot index
    TRUNCATED = 1  # 1 once the episode is over
    Q_LEN = 2  # tasks in the queue
    N_PRESENT = 3  # tasks to decide in this slot (the first n_present of the queue)
    HEAD = 4  # index of the task being decided
    SLOT_DEFERRED = 5  # tasks deferred in this slot
    TASK_OPTION = 6  # option of the task decided this step, NO_OPTION for defer
    CARBON_START = 7  # first slot of this episode's window in the carbon series (lrm_gym.core.grid)
    PRICE_START = 8  # first slot of this episode's window in the price series
    ARRIVAL_OFFSET = 9  # `trace` arrivals: the trace slot replayed in slot 0 (drawn at reset)


class FloatField(IntEnum):
    """Float scalars of each env, the columns of ``State.floats``."""

    BASELINE_J = 0  # this slot's baseline
    STORAGE_J = 1
    ARRIVAL_CARRY = 2  # fractional arrivals carried by the `constant` kind
    SLOT_TASK_J = 3  # task energy dispatched in this slot
    TASK_ENERGY_J = 4  # of the task decided this step
    TASK_TOKENS = 5
    TASK_CORRECT = 6  # 1.0 or 0.0


def _names(columns: type[IntEnum]) -> tuple[str, ...]:
    return tuple(member.name.lower() for member in columns)


COUNTERS: tuple[str, ...] = _names(Counter)
"""Counter names, in column order (the ``info`` keys)."""
# name -> column dicts, for code that looks columns up by their info key (and for earlier callers of C, I, F, Q)
C = {name: i for i, name in enumerate(COUNTERS)}
REWARD_COUNTERS = [int(c) for c in Counter if c.name.startswith("REWARD_")]
FIRST_REWARD_COUNTER = Counter.REWARD_QUALITY
assert list(range(FIRST_REWARD_COUNTER, len(Counter))) == REWARD_COUNTERS, "reward counters must come last"
INTEGER_COUNTERS = tuple(int(c) for c in Counter if c.name.startswith(("TASKS_", "SLOTS_", "WAIT_")))
"""Columns of the counters that count (tasks, slots), reported as ``int``."""

NO_OPTION = -1

QUEUE_FIELDS: tuple[str, ...] = _names(TaskField)
Q = {name: i for i, name in enumerate(QUEUE_FIELDS)}
INT_FIELDS: tuple[str, ...] = _names(IntField)
I = {name: i for i, name in enumerate(INT_FIELDS)}  # noqa: E741 (the index of the int columns)
FLOAT_FIELDS: tuple[str, ...] = _names(FloatField)
F = {name: i for i, name in enumerate(FLOAT_FIELDS)}


class _Column:
    """``state.<name>``: a writeable view of one column of ``state.ints`` or ``state.floats``."""

    def __init__(self, array: str, index: int) -> None:
        self.array, self.index = array, int(index)

    def __get__(self, state: State, owner: type | None = None) -> np.ndarray:
        return getattr(state, self.array)[:, self.index]


@dataclass
class State:
    """State of ``n`` environments, as few arrays as possible: the compiled kernels take each as an argument.

    Per-env scalars live in ``ints`` and ``floats`` (columns :data:`INT_FIELDS`, :data:`FLOAT_FIELDS`), read
    and written through views named after them (``state.slot``, ``state.storage_j``, ...). The queue is one
    float64 array ``(n, queue_capacity, len(QUEUE_FIELDS))`` of task records, FIFO from index 0; integer
    fields (class, difficulty, slack, ...) are small and stored exactly. ``rng`` holds each env's random
    stream (:mod:`lrm_gym.core.rng`). Arrays are only ever updated in place, never replaced.
    """

    ints: np.ndarray  # (n, len(INT_FIELDS)) int64
    floats: np.ndarray  # (n, len(FLOAT_FIELDS)) float64
    supply_path: np.ndarray  # (n, horizon + forecast horizon) baseline energy per slot
    forecast_j: np.ndarray  # (n, H)
    queue: np.ndarray  # (n, queue_capacity, len(QUEUE_FIELDS)) task records
    tokens_left: np.ndarray  # (n, M) model capacity left in this slot
    slot_served: np.ndarray  # (n, 2, M) tokens [0] and tasks [1] each model served in this slot
    step: np.ndarray  # (n, len(COUNTERS))
    totals: np.ndarray  # (n, len(COUNTERS))
    mask: np.ndarray  # (n, 1 + O) bool, valid actions for the head task
    rng: np.ndarray  # (n, rng.WORDS) uint64 generator state

    slot = _Column("ints", IntField.SLOT)
    truncated = _Column("ints", IntField.TRUNCATED)
    q_len = _Column("ints", IntField.Q_LEN)
    n_present = _Column("ints", IntField.N_PRESENT)
    head = _Column("ints", IntField.HEAD)
    slot_deferred = _Column("ints", IntField.SLOT_DEFERRED)
    task_option = _Column("ints", IntField.TASK_OPTION)
    carbon_start = _Column("ints", IntField.CARBON_START)
    price_start = _Column("ints", IntField.PRICE_START)
    arrival_offset = _Column("ints", IntField.ARRIVAL_OFFSET)
    baseline_j = _Column("floats", FloatField.BASELINE_J)
    storage_j = _Column("floats", FloatField.STORAGE_J)
    arrival_carry = _Column("floats", FloatField.ARRIVAL_CARRY)
    slot_task_j = _Column("floats", FloatField.SLOT_TASK_J)
    task_energy_j = _Column("floats", FloatField.TASK_ENERGY_J)
    task_tokens = _Column("floats", FloatField.TASK_TOKENS)
    task_correct = _Column("floats", FloatField.TASK_CORRECT)

    @classmethod
    def allocate(cls, params: Params, n: int) -> State:
        length = params.horizon_slots + params.supply.forecast_horizon
        ints = np.zeros((n, len(INT_FIELDS)), np.int64)
        ints[:, IntField.TASK_OPTION] = NO_OPTION
        return cls(
            ints=ints,
            floats=np.zeros((n, len(FLOAT_FIELDS))),
            supply_path=np.zeros((n, length)),
            forecast_j=np.zeros((n, params.supply.forecast_horizon)),
            queue=_empty_queue(n, params.queue_capacity),
            tokens_left=np.zeros((n, params.n_models)),
            slot_served=np.zeros((n, 2, params.n_models)),
            step=np.zeros((n, len(COUNTERS))),
            totals=np.zeros((n, len(COUNTERS))),
            mask=np.eye(1, 1 + params.n_options, dtype=bool).repeat(n, axis=0),
            rng=np.zeros((n, RNG_WORDS), np.uint64),
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays in field order (:class:`StateArrays`' order) as a plain tuple: what the kernels of
        :mod:`lrm_gym.core.dynamics` take (numba reads a named tuple argument twice as slowly)."""
        return self._arrays

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, ...]:
        # built once: the arrays are only ever updated in place (a pickle or deepcopy keeps the sharing)
        return tuple(getattr(self, f.name) for f in fields(self))

    def copy_rows_from(self, other: State, rows: np.ndarray) -> None:
        """Overwrite rows ``rows`` of this state with rows ``0..len(rows)-1`` of ``other``."""
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(other, f.name)


def _empty_queue(n: int, capacity: int) -> np.ndarray:
    queue = np.zeros((n, capacity, len(QUEUE_FIELDS)))
    # difficulty 1 keeps table lookups of an empty slot valid
    queue[..., TaskField.DIFFICULTY] = 1.0
    queue[..., TaskField.TABLE] = 1.0
    return queue


class StateArrays(NamedTuple):
    """A :class:`State`'s arrays inside compiled code (same names, same order; ``tests/test_env.py`` checks)."""

    ints: np.ndarray
    floats: np.ndarray
    supply_path: np.ndarray
    forecast_j: np.ndarray
    queue: np.ndarray
    tokens_left: np.ndarray
    slot_served: np.ndarray
    step: np.ndarray
    totals: np.ndarray
    mask: np.ndarray
    rng: np.ndarray


def queued_tasks(truncated: int, q_len: int, n_present: int, head: int, slot_deferred: int) -> int:
    """The ``tasks_queued`` total of one env from its ``ints`` columns: at a slot boundary the queue is
    compacted; mid-slot it is the undecided plus the deferred tasks. Plain Python for the single env's info;
    :data:`queued_tasks_compiled` is the same function compiled, for the vector env's."""
    return q_len if truncated else n_present - head + slot_deferred


queued_tasks_compiled = inlined(queued_tasks)
