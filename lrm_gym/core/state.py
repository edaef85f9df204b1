"""Mutable simulation state for a batch of ``n`` environments, kept apart from the frozen parameters.

Every array has the batch as its leading axis; the single env is a batch of one. Counters that a step
reports live in ``step`` (reset at the start of each step) and ``totals`` (reset with the episode), both
indexed by :data:`COUNTERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from lrm_gym.core.params import Params
from lrm_gym.core.rng import WORDS as RNG_WORDS

COUNTERS: tuple[str, ...] = (
    "baseline_j",
    "demand_j",
    "auxiliary_j",
    "waste_j",
    "charge_j",
    "discharge_j",
    "slots_closed",
    "tasks_arrived",
    "tasks_dispatched",
    "tasks_correct",
    "tasks_dropped",
    "tasks_deferred",
    "wait_slots",
    "auxiliary_cost",
    "auxiliary_carbon_g",
    "reward_quality",
    "reward_auxiliary",
    "reward_waste",
    "reward_waiting",
    "reward_drop",
)
"""Quantities summed over the slots closed (and the task decided) during a step."""
C = {name: i for i, name in enumerate(COUNTERS)}
REWARD_COUNTERS = [
    C[k] for k in ("reward_quality", "reward_auxiliary", "reward_waste", "reward_waiting", "reward_drop")
]

NO_OPTION = -1

QUEUE_FIELDS: tuple[str, ...] = (
    "class",
    "difficulty",  # true number of skills m
    "estimate",  # difficulty the router sees
    "table",  # difficulty index used for option tables (hidden index when not visible)
    "slack",
    "age",
    "u_skill",
    "u_steps",
    "done",  # dispatched or dropped in this slot (1.0) or not (0.0)
)
"""Fields of a queued task record, the last axis of ``State.queue``."""
Q = {name: i for i, name in enumerate(QUEUE_FIELDS)}


INT_FIELDS: tuple[str, ...] = (
    "slot",  # current slot index
    "truncated",  # 1 once the episode is over
    "q_len",  # tasks in the queue
    "n_present",  # tasks to decide in this slot (the first n_present of the queue)
    "head",  # index of the task being decided
    "slot_deferred",  # tasks deferred in this slot
    "task_option",  # option of the task decided this step, NO_OPTION for defer
)
"""Integer scalars of each env, the columns of ``State.ints``."""
I = {name: i for i, name in enumerate(INT_FIELDS)}  # noqa: E741 (the index of the int columns)

FLOAT_FIELDS: tuple[str, ...] = (
    "baseline_j",  # this slot's baseline
    "storage_j",
    "arrival_carry",  # fractional arrivals carried by the `constant` kind
    "slot_task_j",  # task energy dispatched in this slot
    "task_energy_j",  # of the task decided this step
    "task_tokens",
    "task_correct",  # 1.0 or 0.0
)
"""Float scalars of each env, the columns of ``State.floats``."""
F = {name: i for i, name in enumerate(FLOAT_FIELDS)}


class _Column:
    """``state.<name>``: a writeable view of one column of ``state.ints`` or ``state.floats``."""

    def __init__(self, array: str, index: int) -> None:
        self.array, self.index = array, index

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
    step: np.ndarray  # (n, len(COUNTERS))
    totals: np.ndarray  # (n, len(COUNTERS))
    mask: np.ndarray  # (n, 1 + O) bool, valid actions for the head task
    rng: np.ndarray  # (n, rng.WORDS) uint64 generator state

    slot = _Column("ints", I["slot"])
    truncated = _Column("ints", I["truncated"])
    q_len = _Column("ints", I["q_len"])
    n_present = _Column("ints", I["n_present"])
    head = _Column("ints", I["head"])
    slot_deferred = _Column("ints", I["slot_deferred"])
    task_option = _Column("ints", I["task_option"])
    baseline_j = _Column("floats", F["baseline_j"])
    storage_j = _Column("floats", F["storage_j"])
    arrival_carry = _Column("floats", F["arrival_carry"])
    slot_task_j = _Column("floats", F["slot_task_j"])
    task_energy_j = _Column("floats", F["task_energy_j"])
    task_tokens = _Column("floats", F["task_tokens"])
    task_correct = _Column("floats", F["task_correct"])

    @classmethod
    def allocate(cls, params: Params, n: int) -> State:
        length = params.horizon_slots + params.supply.forecast_horizon
        ints = np.zeros((n, len(INT_FIELDS)), np.int64)
        ints[:, I["task_option"]] = NO_OPTION
        return cls(
            ints=ints,
            floats=np.zeros((n, len(FLOAT_FIELDS))),
            supply_path=np.zeros((n, length)),
            forecast_j=np.zeros((n, params.supply.forecast_horizon)),
            queue=_empty_queue(n, params.queue_capacity),
            tokens_left=np.zeros((n, params.n_models)),
            step=np.zeros((n, len(COUNTERS))),
            totals=np.zeros((n, len(COUNTERS))),
            mask=np.eye(1, 1 + params.n_options, dtype=bool).repeat(n, axis=0),
            rng=np.zeros((n, RNG_WORDS), np.uint64),
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays in field order, as the kernels of :mod:`lrm_gym.core.dynamics` take them."""
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
    queue[..., Q["difficulty"]] = 1.0
    queue[..., Q["table"]] = 1.0
    return queue
