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


@dataclass
class State:
    """State of ``n`` environments. Queue arrays are ``(n, queue_capacity)``, FIFO from index 0."""

    slot: np.ndarray  # (n,) current slot index
    truncated: np.ndarray  # (n,) episode over
    supply_path: np.ndarray  # (n, horizon + forecast horizon) baseline energy per slot
    baseline_j: np.ndarray  # (n,) this slot's baseline
    forecast_j: np.ndarray  # (n, H)
    storage_j: np.ndarray  # (n,)
    arrival_carry: np.ndarray  # (n,) fractional arrivals carried by the `constant` kind
    q_class: np.ndarray
    q_difficulty: np.ndarray  # true number of skills m
    q_estimate: np.ndarray  # difficulty the router sees
    q_table: np.ndarray  # difficulty index used for option tables (hidden index when not visible)
    q_slack: np.ndarray
    q_age: np.ndarray
    q_u_skill: np.ndarray
    q_u_steps: np.ndarray
    q_done: np.ndarray  # dispatched or dropped in this slot
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
            q_class=np.zeros((n, q), np.int64),
            q_difficulty=np.ones((n, q), np.int64),
            q_estimate=np.zeros((n, q)),
            q_table=np.ones((n, q), np.int64),
            q_slack=np.zeros((n, q), np.int64),
            q_age=np.zeros((n, q), np.int64),
            q_u_skill=np.zeros((n, q)),
            q_u_steps=np.zeros((n, q)),
            q_done=np.zeros((n, q), bool),
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


def row_block(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``array[rows]`` for increasing, unique ``rows``, to be read at once (not kept across state updates).

    When ``rows`` is every row this is ``array`` itself: a batch stepping all its envs copies nothing.
    """
    return array if rows.size == array.shape[0] else array.take(rows, axis=0)


def flat_index(array: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Index into ``array.reshape(-1)`` of ``array[rows, columns]`` (``columns`` may add trailing axes)."""
    width = array.shape[1]
    return (rows * width).reshape(rows.shape + (1,) * (np.ndim(columns) - rows.ndim)) + columns
