"""Slot-level transitions (docs/model.md section 18): one step decides every task of a slot, through the per-task
transitions of :mod:`lrm_gym.core.dynamics`.

A slot action does not replace the simulator: a compiled *rule* turns it into one per-task action at a time,
and each is applied by the same inlined transition the per-task envs run (``dynamics._step_row``), inside
one compiled loop over the slot's decisions. The per-task and slot-level envs are one simulator by
construction: a slot action whose rule makes the per-task choices of some per-task policy gives that policy's
trajectory, reward for reward (summed over the slot), counter for counter.

Action modes (:data:`MODES`), every action a vector in ``[-1, 1]``:

- ``allowance`` (3 values ``x``): the supply-tracking rule with its three parameters chosen per slot,
  ``offset = x[0]`` (in units of the critical slot energy ``b*``), ``reserve = (x[1] + 1) / 2`` (a fraction
  of storage capacity), ``gain = (x[2] + 1) / 2`` (the fraction per slot of the storage above the reserve
  that may be spent). For the task with ``left`` tasks still to decide in the slot, in queue order::

      allowance = (baseline + gain * (storage - reserve * capacity) + offset * b* - committed) / left

  (``committed``: idle plus the energy dispatched so far this slot); the task runs on the most accurate valid
  option whose expected energy fits the allowance (ties to the cheaper); when none fits, it is deferred if
  it has slack, the forecast's next slot has more baseline than this one and at least ``b*``, and the next
  slot's arrivals (mean plus three standard deviations at the busiest hour) cannot overflow the queue;
  else it runs on its cheapest valid option. Supply, storage, committed demand and forecast are read at the
  observation's float32 precision, as the per-task ``SupplyTracking`` policy reads them, so that
  ``x = (0, 2 reserve - 1, 2 / rebalance_slots - 1)`` makes exactly its choices. No random draws.
- ``class-routing`` / ``type-routing`` (``R * (1 + O)`` values): one row of ``1 + O`` weights
  ``w = (x + 1) / 2`` (defer, then the options) per task class (``class-routing``, ``R = C``) or per decision
  type (``type-routing``: every (class, difficulty index) a task can show, :func:`routing_rows`). Each
  task draws its entry with probability proportional to its row's weights (defer excluded when the task
  has no slack; equal weights when the row's weights are all 0); a drawn option that the token capacity left
  masks is replaced by the valid option closest in expected energy (the per-task static policies' rule).
  One uniform per decision from a *policy stream*: a second random stream per env, seeded from the env's
  seed (``seed ^ POLICY_STREAM_KEY``), separate from the exogenous stream, so the supply, arrivals and
  outcomes of a seed are those of the per-task env whatever the action.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from lrm_gym.core import rng
from lrm_gym.core.compiled import compiled, inlined
from lrm_gym.core.dynamics import _reset_row, _step_row  # the per-task transitions, shared on purpose
from lrm_gym.core.params import Params
from lrm_gym.core.slot_layout import slot_positions
from lrm_gym.core.state import COUNTERS, Counter, FloatField, IntField, State, StateArrays, TaskField
from lrm_gym.core.tables import KernelTables, Scalar, SlotColumn

MODES = ("allowance", "class-routing", "type-routing")
"""Values of the slot envs' ``action`` make kwarg."""
ALLOWANCE_SIZE = 3
"""Values of an ``allowance`` action: offset, reserve, gain."""
POLICY_STREAM_KEY = 0x5EED5107D15A7C11
"""XORed into the env's seed to seed the policy stream (routing draws)."""

_ALLOWANCE, _ROUTING = 0, 1


class SlotScalar(IntEnum):
    """Positions in ``SlotTables.scalars``."""

    MODE = 0  # _ALLOWANCE or _ROUTING
    DEFER_RULE = 1  # 1.0 when the allowance rule may defer (the scenario has a forecast)
    BUSIEST_ARRIVALS = 2  # arrival rate at the busiest hour (the deferral's queue-room check)
    QUEUE_CAPACITY = 3
    SLOT_UNIT_J = 4  # Params.slot_energy_unit_j


class SlotTables(NamedTuple):
    """What the slot rules read beyond ``params.kernel``."""

    scalars: np.ndarray  # (len(SlotScalar),)
    energy_mean: np.ndarray  # (C, D, O) expected task energy (J)
    row_of: np.ndarray  # (C, D) int64: the routing row of each (class, difficulty index)
    demand_options: np.ndarray  # (C, D, 3) int64: cheapest, reference and most accurate option per type


class RoutingRows(NamedTuple):
    """The rows of a routing action: ``row_of[c, d]`` is the row of (class ``c``, difficulty index ``d``);
    row ``k`` stands for (``cls[k]``, ``difficulty[k]``) and is labelled ``labels[k]``."""

    row_of: np.ndarray  # (C, D) int64
    labels: tuple[str, ...]
    cls: np.ndarray  # (R,) int64
    difficulty: np.ndarray  # (R,) int64: the difficulty index of the row (-1 for a class row)


def routing_rows(params: Params, mode: str) -> RoutingRows:
    """The rows of a ``class-routing`` or ``type-routing`` action.

    ``class-routing``: one row per class. ``type-routing``: one row per (class, difficulty index) a task can
    show, class by class, difficulty ascending: the class's range when difficulty is exact, every difficulty
    ``1..max`` when the estimate is noisy (it is clipped to that range, not the class's), the class average
    when it is hidden (docs/model.md section 6). Indices no task can show map to the class's first row.
    """
    n_d = params.max_difficulty + 2
    row_of = np.zeros((params.n_classes, n_d), np.int64)
    if mode == "class-routing":
        row_of[:] = np.arange(params.n_classes)[:, None]
        classes = np.arange(params.n_classes)
        return RoutingRows(row_of, params.class_names, classes, np.full(params.n_classes, -1))
    labels: list[str] = []
    cls: list[int] = []
    index: list[int] = []
    for c, name in enumerate(params.class_names):
        if not params.difficulty_visible:
            shown = [params.hidden_difficulty_index]
        elif params.difficulty_noise > 0:
            shown = list(range(1, params.max_difficulty + 1))
        else:
            shown = list(range(int(params.class_difficulty_lo[c]), int(params.class_difficulty_hi[c]) + 1))
        row_of[c, :] = len(labels)
        for d in shown:
            row_of[c, d] = len(labels)
            labels.append(f"{name}/hidden" if d == params.hidden_difficulty_index else f"{name}/m={d}")
            cls.append(c)
            index.append(d)
    return RoutingRows(row_of, tuple(labels), np.array(cls, np.int64), np.array(index, np.int64))


def action_size(params: Params, mode: str) -> int:
    """Length of a slot action in ``mode``."""
    check_mode(mode)
    if mode == "allowance":
        return ALLOWANCE_SIZE
    return len(routing_rows(params, mode).labels) * (1 + params.n_options)


def check_mode(mode: object) -> str:
    if mode not in MODES:
        raise ValueError(f"action must be one of {list(MODES)}, got {mode!r}")
    return str(mode)


def slot_tables(params: Params, mode: str) -> SlotTables:
    """The slot rules' tables for ``params`` and action ``mode``."""
    check_mode(mode)
    scalars = np.zeros(len(SlotScalar))
    scalars[SlotScalar.MODE] = _ALLOWANCE if mode == "allowance" else _ROUTING
    scalars[SlotScalar.DEFER_RULE] = 1.0 if params.supply.forecast_horizon > 0 else 0.0
    scalars[SlotScalar.BUSIEST_ARRIVALS] = params.arrival_rate * params.arrival_profile.max()
    scalars[SlotScalar.QUEUE_CAPACITY] = params.queue_capacity
    scalars[SlotScalar.SLOT_UNIT_J] = params.slot_energy_unit_j
    energy, accuracy = params.energy_mean_j, params.accuracy
    cheapest = np.argmin(energy, axis=-1)
    richest = np.lexsort((energy, -accuracy), axis=-1)[..., 0]  # most accurate, ties to the cheaper
    demand = np.stack([cheapest, params.reference_option, richest], axis=-1).astype(np.int64)
    row_of = routing_rows(params, "class-routing" if mode == "allowance" else mode).row_of
    return SlotTables(
        scalars=scalars,
        energy_mean=np.ascontiguousarray(energy, dtype=np.float64),
        row_of=np.ascontiguousarray(row_of),
        demand_options=np.ascontiguousarray(demand),
    )


@dataclass
class SlotState:
    """What the slot envs keep beside the per-task :class:`~lrm_gym.core.state.State`, per row."""

    policy_rng: np.ndarray  # (n, rng.WORDS) uint64: the policy stream
    slot_step: np.ndarray  # (n, len(COUNTERS)): the counters of the last slot step (of the reset, after one)
    decisions: np.ndarray  # (n,) int64: per-task decisions made in the last slot step

    @classmethod
    def allocate(cls, n: int) -> SlotState:
        return cls(np.zeros((n, rng.WORDS), np.uint64), np.zeros((n, len(COUNTERS))), np.zeros(n, np.int64))


# ----------------------------------------------------------------------------------------------------------
# The rules: a slot action and the head task -> one per-task action (valid under the head task's mask)
# ----------------------------------------------------------------------------------------------------------


@inlined
def _as_observed(value_j: float, per_unit: float, unit_j: float) -> float:
    """``value_j`` as the per-task observation shows it (float32 in units of ``b*``), back in joules."""
    return float(np.float32(value_j * per_unit)) * unit_j


@inlined
def _allowance_action(t: KernelTables, st: SlotTables, s: StateArrays, r: int, action: np.ndarray) -> int:
    """The ``allowance`` rule (module docstring), written as the per-task ``SupplyTracking`` computes it."""
    sc = t.scalars
    unit = st.scalars[SlotScalar.SLOT_UNIT_J]
    per_unit = sc[Scalar.INVERSE_SLOT_ENERGY_UNIT]
    offset_j = action[0] * unit
    reserve = (action[1] + 1.0) * 0.5
    gain = (action[2] + 1.0) * 0.5
    baseline = _as_observed(s.floats[r, FloatField.BASELINE_J], per_unit, unit)
    committed = _as_observed(s.floats[r, FloatField.SLOT_TASK_J] + sc[Scalar.IDLE_J], per_unit, unit)
    storage = _as_observed(s.floats[r, FloatField.STORAGE_J], per_unit, unit)
    release = (storage - reserve * sc[Scalar.STORAGE_CAPACITY_J]) * gain
    head = s.ints[r, IntField.HEAD]
    left = max(float(s.ints[r, IntField.N_PRESENT] - head), 1.0)
    allowance = (baseline + release + offset_j - committed) / left

    task = s.queue[r, head]
    cls, index = int(task[TaskField.CLASS]), int(task[TaskField.TABLE])
    n_options = st.energy_mean.shape[2]
    top = 0.0
    for o in range(n_options):
        top = max(top, st.energy_mean[cls, index, o])
    best, best_score, cheapest, cheapest_energy = -1, -np.inf, -1, np.inf
    for o in range(n_options):
        if not s.mask[r, 1 + o]:
            continue
        energy = st.energy_mean[cls, index, o]
        if energy < cheapest_energy:
            cheapest, cheapest_energy = o, energy
        if energy <= allowance:
            score = t.accuracy[cls, index, o] - 1e-12 * energy / top
            if score > best_score:
                best, best_score = o, score
    if best >= 0:
        return 1 + best
    if st.scalars[SlotScalar.DEFER_RULE] > 0 and s.mask[r, 0]:
        next_supply = _as_observed(s.forecast_j[r, 0], per_unit, unit)
        richer_next = next_supply > baseline and next_supply >= unit
        busiest = st.scalars[SlotScalar.BUSIEST_ARRIVALS]
        queued = float(s.ints[r, IntField.N_PRESENT] - head + s.ints[r, IntField.SLOT_DEFERRED])
        room = queued + busiest + 3.0 * np.sqrt(busiest) <= st.scalars[SlotScalar.QUEUE_CAPACITY]
        if richer_next and room:
            return 0
    return 1 + cheapest


@inlined
def _routing_action(st: SlotTables, s: StateArrays, r: int, action: np.ndarray, u: float) -> int:
    """The routing rule (module docstring): draw from the head task's row by ``u``, then replace a masked option."""
    task = s.queue[r, s.ints[r, IntField.HEAD]]
    cls, index = int(task[TaskField.CLASS]), int(task[TaskField.TABLE])
    n = 1 + st.energy_mean.shape[2]
    base = st.row_of[cls, index] * n
    first = 0 if s.mask[r, 0] else 1  # defer only while the task has slack
    total = 0.0
    for a in range(first, n):
        total += (action[base + a] + 1.0) * 0.5
    equal = not total > 0.0
    if equal:
        total = float(n - first)
    target, cumulative, choice = u * total, 0.0, -1
    for a in range(first, n):
        weight = 1.0 if equal else (action[base + a] + 1.0) * 0.5
        if weight <= 0.0:
            continue
        choice = a  # the last entry with weight, should rounding leave target at the total
        cumulative += weight
        if target < cumulative:
            break
    if choice > 0 and not s.mask[r, choice]:
        drawn = st.energy_mean[cls, index, choice - 1]
        best, gap = -1, np.inf
        for o in range(n - 1):
            if s.mask[r, 1 + o] and abs(st.energy_mean[cls, index, o] - drawn) < gap:
                best, gap = o, abs(st.energy_mean[cls, index, o] - drawn)
        choice = 1 + best
    return choice


@inlined
def observe_slot_row(t: KernelTables, st: SlotTables, s: StateArrays, r: int, out: np.ndarray) -> None:
    """Write row ``r``'s slot observation into ``out`` (laid out by :func:`slot_positions`)."""
    sc = t.scalars
    n_classes = t.class_tab.shape[0]
    horizon = s.forecast_j.shape[1]
    at = slot_positions(n_classes, horizon)
    per_unit = sc[Scalar.INVERSE_SLOT_ENERGY_UNIT]
    slot = s.ints[r, IntField.SLOT]
    table_slot = min(slot, t.slot_tab.shape[0] - 1)
    out[at.baseline] = s.floats[r, FloatField.BASELINE_J] * per_unit
    out[at.storage] = s.floats[r, FloatField.STORAGE_J] * per_unit
    for h in range(horizon):
        out[at.forecast + h] = s.forecast_j[r, h] * per_unit
    out[at.price] = t.slot_tab[table_slot, SlotColumn.PRICE_PER_KWH]
    out[at.sin_hour] = t.slot_tab[table_slot, SlotColumn.SIN_HOUR]
    out[at.cos_hour] = t.slot_tab[table_slot, SlotColumn.COS_HOUR]
    out[at.progress] = slot / sc[Scalar.HORIZON_SLOTS]
    for i in range(at.to_decide, at.size):
        out[i] = 0.0
    if s.ints[r, IntField.TRUNCATED] != 0:
        return
    demand0, demand1, demand2 = sc[Scalar.IDLE_J], sc[Scalar.IDLE_J], sc[Scalar.IDLE_J]
    for i in range(s.ints[r, IntField.HEAD], s.ints[r, IntField.N_PRESENT]):
        task = s.queue[r, i]
        cls, index = int(task[TaskField.CLASS]), int(task[TaskField.TABLE])
        out[at.to_decide + cls] += 1.0
        if task[TaskField.AGE] > 0:
            out[at.carried + cls] += 1.0
        out[at.difficulty + cls] += task[TaskField.ESTIMATE]
        demand0 += st.energy_mean[cls, index, st.demand_options[cls, index, 0]]
        demand1 += st.energy_mean[cls, index, st.demand_options[cls, index, 1]]
        demand2 += st.energy_mean[cls, index, st.demand_options[cls, index, 2]]
    for c in range(n_classes):
        if out[at.to_decide + c] > 0:
            out[at.difficulty + c] /= out[at.to_decide + c]
    out[at.demand_cheapest] = demand0 * per_unit
    out[at.demand_reference] = demand1 * per_unit
    out[at.demand_richest] = demand2 * per_unit


# ----------------------------------------------------------------------------------------------------------
# Entry point: loop over rows, and within a row over the slot's decisions, in compiled code
# ----------------------------------------------------------------------------------------------------------

_RESET, _STEP = 0, 1


@compiled
def _slot_kernel(
    op: int,
    tables: tuple,
    slot_tabs: tuple,
    arrays: tuple,
    rows: np.ndarray,
    actions: np.ndarray,
    resetting: np.ndarray,
    policy_rng: np.ndarray,
    slot_step: np.ndarray,
    decisions: np.ndarray,
    rewards: np.ndarray,
    obs: np.ndarray,
    truncated: np.ndarray,
) -> None:
    """For each of ``rows``: ``_RESET`` starts an episode; ``_STEP`` decides every task of the row's slot with
    the rule of its action (``actions[k]``), or where ``resetting`` starts an episode with reward 0. Then writes
    the row's slot observation and truncation. ``slot_step[r]`` holds the step's counters (the reset's after a
    reset), ``decisions[r]`` its number of per-task decisions."""
    t = KernelTables(*tables)
    st = SlotTables(*slot_tabs)
    s = StateArrays(*arrays)
    routing = st.scalars[SlotScalar.MODE] == _ROUTING
    n_counters = s.step.shape[1]
    for k in range(rows.size):
        r = rows[k]
        if op == _RESET or (resetting.size > 0 and resetting[k]):
            _reset_row(t, s, r)
            for j in range(n_counters):
                slot_step[r, j] = s.step[r, j]
            decisions[r] = 0
            if op == _STEP:
                rewards[k] = 0.0
        else:
            reward = 0.0
            for j in range(n_counters):
                slot_step[r, j] = 0.0
            decisions[r] = 0
            while s.ints[r, IntField.TRUNCATED] == 0:
                if routing:
                    action = _routing_action(st, s, r, actions[k], rng.uniform(policy_rng[r]))
                else:
                    action = _allowance_action(t, st, s, r, actions[k])
                reward += _step_row(t, s, r, action)
                decisions[r] += 1
                for j in range(n_counters):
                    slot_step[r, j] += s.step[r, j]
                if s.step[r, Counter.SLOTS_CLOSED] > 0:
                    break
            rewards[k] = reward
        observe_slot_row(t, st, s, r, obs[k])
        truncated[k] = s.ints[r, IntField.TRUNCATED] != 0


# ----------------------------------------------------------------------------------------------------------
# Python API
# ----------------------------------------------------------------------------------------------------------

_NO_ACTIONS = np.zeros((0, 0))
_NO_FLAGS = np.zeros(0, bool)
_NO_REWARDS = np.zeros(0)


def seed_slot_rows(state: State, slots: SlotState, rows: np.ndarray, seeds: np.ndarray) -> None:
    """Start row ``rows[k]``'s exogenous stream from ``seeds[k]`` (as the per-task envs do) and its policy
    stream from ``seeds[k] ^ POLICY_STREAM_KEY``."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    rng.seed_rows(state.rng, rows, seeds)
    rng.seed_rows(slots.policy_rng, rows, seeds ^ np.uint64(POLICY_STREAM_KEY))


def reset_slot_rows(
    params: Params, tables: SlotTables, state: State, slots: SlotState, rows: np.ndarray, obs: np.ndarray
) -> np.ndarray:
    """Start new episodes in ``rows`` (continuing their streams); write their slot observations into ``obs``
    (``(len(rows), size)`` float32); return their truncation flags."""
    truncated = np.empty(rows.size, bool)
    _slot_kernel(
        _RESET, params.kernel_arrays, tuple(tables), state.arrays(), rows, _NO_ACTIONS, _NO_FLAGS,
        slots.policy_rng, slots.slot_step, slots.decisions, _NO_REWARDS, obs, truncated,
    )  # fmt: skip
    return truncated


def step_slot_rows(
    params: Params,
    tables: SlotTables,
    state: State,
    slots: SlotState,
    rows: np.ndarray,
    actions: np.ndarray,
    obs: np.ndarray,
    truncated: np.ndarray,
    resetting: np.ndarray | None = None,
) -> np.ndarray:
    """Decide every task of each row's current slot with its action (``(len(rows), action_size)`` float64 in
    ``[-1, 1]``, checked by the caller); return the slot rewards. Rows flagged in ``resetting`` start a new
    episode instead, with reward 0. Observations and truncation flags are written into ``obs`` and
    ``truncated``."""
    rewards = np.empty(rows.size)
    _slot_kernel(
        _STEP, params.kernel_arrays, tuple(tables), state.arrays(), rows, actions,
        _NO_FLAGS if resetting is None else resetting, slots.policy_rng, slots.slot_step, slots.decisions,
        rewards, obs, truncated,
    )  # fmt: skip
    return rewards


# ----------------------------------------------------------------------------------------------------------
# Building actions from their meaning
# ----------------------------------------------------------------------------------------------------------


def allowance_action(offset: float = 0.0, reserve: float = 0.5, gain: float = 0.125) -> np.ndarray:
    """The ``allowance`` action ``[offset, 2 reserve - 1, 2 gain - 1]`` (float32) for an ``offset`` in units of
    the critical slot energy (``[-1, 1]``), a ``reserve`` fraction of storage capacity and a per-slot ``gain``
    (both ``[0, 1]``). The defaults are ``SupplyTracking``'s (``reserve=0.5``, ``rebalance_slots=8``)."""
    for name, value, low in (("offset", offset, -1.0), ("reserve", reserve, 0.0), ("gain", gain, 0.0)):
        if not low <= value <= 1.0:
            raise ValueError(f"{name} must lie in [{low:g}, 1], got {value!r}")
    return np.array([offset, 2.0 * reserve - 1.0, 2.0 * gain - 1.0], np.float32)


def routing_action(weights: np.ndarray) -> np.ndarray:
    """The routing action (flat float32, ``2 w - 1``) for ``weights`` ``(rows, 1 + O)`` in ``[0, 1]``: per routing
    row (:func:`routing_rows`), the weights of defer and of each option."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or not np.all((weights >= 0.0) & (weights <= 1.0)):
        raise ValueError(f"weights must be a (rows, 1 + options) array of values in [0, 1], got shape {weights.shape}")
    return (2.0 * weights - 1.0).astype(np.float32).ravel()
