"""Mutable simulation state for a batch of ``n`` environments, kept apart from the frozen parameters.

Every array has the batch as its leading axis; the single env is a batch of one. Counters that a step
reports live in ``step`` (reset at the start of each step) and ``totals`` (reset with the episode), both
indexed by :data:`COUNTERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from lrm_gym.core.params import Params

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


@dataclass
class State:
    """State of ``n`` environments.

    The queue is one float64 array ``(n, queue_capacity, len(QUEUE_FIELDS))`` of task records, FIFO from
    index 0: a task is one contiguous record, so reading the head task, moving tasks and enqueueing are one
    gather or scatter each. Integer fields (class, difficulty, slack, ...) are small and stored exactly.
    """

    slot: np.ndarray  # (n,) current slot index
    truncated: np.ndarray  # (n,) episode over
    supply_path: np.ndarray  # (n, horizon + forecast horizon) baseline energy per slot
    baseline_j: np.ndarray  # (n,) this slot's baseline
    forecast_j: np.ndarray  # (n, H)
    storage_j: np.ndarray  # (n,)
    arrival_carry: np.ndarray  # (n,) fractional arrivals carried by the `constant` kind
    queue: np.ndarray  # (n, queue_capacity, len(QUEUE_FIELDS)) task records
    q_len: np.ndarray  # (n,) tasks in the queue
    n_present: np.ndarray  # (n,) tasks to decide in this slot (the first n_present of the queue)
    head: np.ndarray  # (n,) index of the task being decided
    tokens_left: np.ndarray  # (n, M) model capacity left in this slot
    slot_task_j: np.ndarray  # (n,) task energy dispatched in this slot
    slot_deferred: np.ndarray  # (n,) tasks deferred in this slot
    step: np.ndarray  # (n, len(COUNTERS))
    totals: np.ndarray  # (n, len(COUNTERS))
    task_option: np.ndarray  # (n,) option of the task decided this step, NO_OPTION for defer
    task_energy_j: np.ndarray
    task_tokens: np.ndarray
    task_correct: np.ndarray
    mask: np.ndarray  # (n, 1 + O) valid actions for the head task, cached by `dynamics.advance`

    @classmethod
    def allocate(cls, params: Params, n: int) -> State:
        q = params.queue_capacity
        length = params.horizon_slots + params.supply.forecast_horizon
        return cls(
            slot=np.zeros(n, np.int64),
            truncated=np.zeros(n, bool),
            supply_path=np.zeros((n, length)),
            baseline_j=np.zeros(n),
            forecast_j=np.zeros((n, params.supply.forecast_horizon)),
            storage_j=np.zeros(n),
            arrival_carry=np.zeros(n),
            queue=_empty_queue(n, q),
            q_len=np.zeros(n, np.int64),
            n_present=np.zeros(n, np.int64),
            head=np.zeros(n, np.int64),
            tokens_left=np.zeros((n, params.n_models)),
            slot_task_j=np.zeros(n),
            slot_deferred=np.zeros(n, np.int64),
            step=np.zeros((n, len(COUNTERS))),
            totals=np.zeros((n, len(COUNTERS))),
            task_option=np.full(n, NO_OPTION, np.int64),
            task_energy_j=np.zeros(n),
            task_tokens=np.zeros(n),
            task_correct=np.zeros(n, bool),
            mask=np.eye(1, 1 + params.n_options, dtype=bool).repeat(n, axis=0),
        )

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


def records(state: State) -> np.ndarray:
    """The queue as ``(n * capacity, fields)`` rows (a view): task ``(row, position)`` is ``row * capacity +
    position``."""
    return state.queue.reshape(-1, len(QUEUE_FIELDS))


def record_index(state: State, rows: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Index into :func:`records` of ``(rows, position)``; ``position`` may carry trailing axes."""
    return _outer_index(rows, state.queue.shape[1], position)


def row_block(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``array[rows]`` for increasing, unique ``rows``, to be read at once (not kept across state updates).

    When ``rows`` is every row this is ``array`` itself: a batch stepping all its envs copies nothing.
    """
    return array if rows.size == array.shape[0] else array.take(rows, axis=0)


def flat_index(array: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Index into ``array.reshape(-1)`` of ``array[rows, columns]`` (``columns`` may add trailing axes)."""
    return _outer_index(rows, array.shape[1], columns)


def _outer_index(rows: np.ndarray, width: int, columns: np.ndarray) -> np.ndarray:
    extra = np.ndim(columns) - rows.ndim
    start = rows * width
    return (start if extra <= 0 else start.reshape(rows.shape + (1,) * extra)) + columns
