"""Transitions of the simulator for a batch of environments (docs/model.md sections 5, 10 and 11), compiled with numba.

One *step* is one routing decision. A slot opens (baseline, forecast, arrivals), its present tasks are
decided one per step (defer or dispatch to an option), then it closes (energy balance with storage,
penalties, deferred tasks age) and the next slot opens. Slots with nothing left to decide close inside the
same step. Tasks whose every option is over capacity are handled without a decision: deferred while they
have slack, dropped when they have none.

Every transition is a compiled function of one env (one row of a :class:`State`), and the one entry point
loops over the rows it is given inside compiled code. The single env calls it with one row, the vector
env with all of its rows, and the theory experiments with their batches: one core, and the loop over
environments never runs in Python. Each row draws only from its own random stream (``State.rng``), so a
row's trajectory depends on its seed and actions alone, whatever batch it runs in.

The entry point takes the parameter arrays (``params.kernel``) and the state arrays (``state.arrays()``)
as separate arguments because that is what crossing into compiled code costs least for; inside, they are
regrouped as the named tuples :class:`~lrm_gym.core.tables.KernelTables` and :class:`Rows`. ``rows`` are
int64 indices into the state and are not range-checked in compiled code (the envs pass their own).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import fields
from typing import NamedTuple

import numpy as np

from lrm_gym.core import rng
from lrm_gym.core.compiled import compiled, inlined, prefetch
from lrm_gym.core.observation import observation_layout, observe_row
from lrm_gym.core.outcomes import sample_outcome
from lrm_gym.core.params import JOULES_PER_KWH, Params
from lrm_gym.core.state import COUNTERS, NO_OPTION, C, F, I, Q, State
from lrm_gym.core.storage import balance_slot
from lrm_gym.core.supply import forecast_into, sample_path
from lrm_gym.core.tables import (
    ARRIVAL_CONSTANT,
    ARRIVAL_POISSON,
    CLS_HI,
    CLS_LO,
    CLS_PROMPT,
    CLS_SLACK,
    CLS_VALUE,
    CLS_WEIGHT_CDF,
    MOD_CAPACITY,
    MOD_JOULES_PER_TOKEN,
    MOD_TOKENS_PER_STEP,
    OPT_CAP,
    OPT_MODEL,
    S_ARRIVAL_DISPERSION,
    S_ARRIVAL_KIND,
    S_CHARGE_EFFICIENCY,
    S_DIFFICULTY_NOISE,
    S_DIFFICULTY_VISIBLE,
    S_DISCHARGE_EFFICIENCY,
    S_EXPECTED_QUALITY,
    S_HORIZON,
    S_IDLE_J,
    S_MAX_CHARGE,
    S_MAX_DIFFICULTY,
    S_MAX_DISCHARGE,
    S_REWARD_AUX,
    S_REWARD_DROP,
    S_REWARD_WAIT,
    S_REWARD_WASTE,
    S_STORAGE_CAPACITY,
    S_STORAGE_INITIAL,
    SLOT_ARRIVAL_RATE,
    SLOT_CARBON,
    SLOT_PRICE,
    KernelTables,
)


class InvalidActionError(ValueError):
    """An action outside the action space or masked for the current task."""


class Rows(NamedTuple):
    """The arrays of a :class:`State` inside compiled code (same names, same order)."""

    ints: np.ndarray
    floats: np.ndarray
    supply_path: np.ndarray
    forecast_j: np.ndarray
    queue: np.ndarray
    tokens_left: np.ndarray
    step: np.ndarray
    totals: np.ndarray
    mask: np.ndarray
    rng: np.ndarray


# Columns as compile-time constants (numba reads module-level ints, not dict lookups).
_SLOT, _TRUNCATED, _Q_LEN, _N_PRESENT, _HEAD = I["slot"], I["truncated"], I["q_len"], I["n_present"], I["head"]
_SLOT_DEFERRED, _TASK_OPTION = I["slot_deferred"], I["task_option"]
_BASELINE, _STORAGE, _CARRY, _SLOT_TASK_J = F["baseline_j"], F["storage_j"], F["arrival_carry"], F["slot_task_j"]
_TASK_ENERGY, _TASK_TOKENS, _TASK_CORRECT = F["task_energy_j"], F["task_tokens"], F["task_correct"]
_Q_CLASS, _Q_DIFFICULTY, _Q_ESTIMATE, _Q_TABLE = Q["class"], Q["difficulty"], Q["estimate"], Q["table"]
_Q_SLACK, _Q_AGE, _Q_U_SKILL, _Q_U_STEPS, _Q_DONE = Q["slack"], Q["age"], Q["u_skill"], Q["u_steps"], Q["done"]
_C_BASELINE, _C_DEMAND, _C_AUX, _C_WASTE = C["baseline_j"], C["demand_j"], C["auxiliary_j"], C["waste_j"]
_C_CHARGE, _C_DISCHARGE, _C_SLOTS = C["charge_j"], C["discharge_j"], C["slots_closed"]
_C_ARRIVED, _C_DISPATCHED, _C_CORRECT = C["tasks_arrived"], C["tasks_dispatched"], C["tasks_correct"]
_C_DROPPED, _C_DEFERRED, _C_WAIT = C["tasks_dropped"], C["tasks_deferred"], C["wait_slots"]
_C_COST, _C_CARBON = C["auxiliary_cost"], C["auxiliary_carbon_g"]
_C_R_QUALITY, _C_R_AUX, _C_R_WASTE = C["reward_quality"], C["reward_auxiliary"], C["reward_waste"]
_C_R_WAITING, _C_R_DROP = C["reward_waiting"], C["reward_drop"]
_REWARD_START = COUNTERS.index("reward_quality")
assert all(k.startswith("reward_") for k in COUNTERS[_REWARD_START:]), "reward counters must come last"
_ARRIVAL_RATE_EPS = 1e-9  # `constant` arrivals: 0.1 * 10 must count as 1 task, not 0.9999...


# ----------------------------------------------------------------------------------------------------------
# Transitions of one env (row r)
# ----------------------------------------------------------------------------------------------------------


@inlined
def _reset_row(t: KernelTables, s: Rows, r: int) -> None:
    """A new episode: fresh supply path, storage, empty queue, slot 0 opened, advanced to a decision."""
    s.step[r, :] = 0.0
    s.ints[r, _SLOT] = 0
    s.ints[r, _TRUNCATED] = 0
    s.ints[r, _Q_LEN] = 0
    sample_path(t, s.supply_path[r], s.rng[r])
    s.floats[r, _STORAGE] = t.scalars[S_STORAGE_INITIAL]
    s.floats[r, _CARRY] = 0.0
    _clear_task(s, r)
    _open_slot(t, s, r)
    _advance(t, s, r)
    for k in range(s.step.shape[1]):  # arrivals and any empty slots closed during the reset
        s.totals[r, k] = s.step[r, k]


@inlined
def _clear_task(s: Rows, r: int) -> None:
    s.ints[r, _TASK_OPTION] = NO_OPTION
    s.floats[r, _TASK_ENERGY] = 0.0
    s.floats[r, _TASK_TOKENS] = 0.0
    s.floats[r, _TASK_CORRECT] = 0.0


@inlined
def _step_row(t: KernelTables, s: Rows, r: int, action: int) -> float:
    """One decision on row ``r`` (already checked against its mask); returns the step reward."""
    s.step[r, :] = 0.0
    _clear_task(s, r)
    if s.ints[r, _TRUNCATED] == 0:
        if action == 0:
            s.ints[r, _SLOT_DEFERRED] += 1
            s.step[r, _C_DEFERRED] += 1.0
            s.ints[r, _HEAD] += 1
        else:
            _dispatch(t, s, r, action - 1)
        _advance(t, s, r)
    reward = 0.0
    for k in range(s.step.shape[1]):
        s.totals[r, k] += s.step[r, k]
        if k >= _REWARD_START:
            reward += s.step[r, k]
    return reward


@inlined
def _dispatch(t: KernelTables, s: Rows, r: int, option: int) -> None:
    """Run the head task on ``option``: outcome, energy, capacity, quality reward."""
    head = s.ints[r, _HEAD]
    task = s.queue[r, head]
    cls, m = int(task[_Q_CLASS]), int(task[_Q_DIFFICULTY])
    model, cap = t.option_tab[option, OPT_MODEL], t.option_tab[option, OPT_CAP]
    steps, correct = sample_outcome(t.step_cdf, t.gamma_pow, model, cap, m, task[_Q_U_SKILL], task[_Q_U_STEPS])
    tokens = t.class_tab[cls, CLS_PROMPT] + t.model_tab[model, MOD_TOKENS_PER_STEP] * steps
    energy = tokens * t.model_tab[model, MOD_JOULES_PER_TOKEN]
    s.tokens_left[r, model] -= tokens
    s.floats[r, _SLOT_TASK_J] += energy
    task[_Q_DONE] = 1.0
    s.ints[r, _HEAD] = head + 1
    value = t.class_tab[cls, CLS_VALUE]
    correct_f = 1.0 if correct else 0.0
    quality = value * (t.accuracy[cls, m, option] if t.scalars[S_EXPECTED_QUALITY] > 0 else correct_f)
    s.step[r, _C_DISPATCHED] += 1.0
    s.step[r, _C_CORRECT] += correct_f
    s.step[r, _C_WAIT] += task[_Q_AGE]
    s.step[r, _C_R_QUALITY] += quality
    s.ints[r, _TASK_OPTION] = option
    s.floats[r, _TASK_ENERGY] = energy
    s.floats[r, _TASK_TOKENS] = tokens
    s.floats[r, _TASK_CORRECT] = correct_f


@inlined
def _compute_mask(t: KernelTables, s: Rows, r: int) -> bool:
    """Cache the head task's mask in ``s.mask[r]``; True when some option can run it."""
    task = s.queue[r, s.ints[r, _HEAD]]
    cls = int(task[_Q_CLASS])
    s.mask[r, 0] = task[_Q_SLACK] > 0
    feasible = False
    for o in range(t.option_tab.shape[0]):
        ok = t.worst_tokens[cls, o] <= s.tokens_left[r, t.option_tab[o, OPT_MODEL]]
        s.mask[r, 1 + o] = ok
        feasible = feasible or ok
    return feasible


@inlined
def _advance(t: KernelTables, s: Rows, r: int) -> None:
    """Move row ``r`` to its next decision: settle decision-free tasks, close and open slots as needed."""
    while True:
        if s.ints[r, _HEAD] < s.ints[r, _N_PRESENT]:
            if _compute_mask(t, s, r):
                return
            _settle_without_decision(t, s, r)
        else:
            _close_slot(t, s, r)
            s.ints[r, _SLOT] += 1
            if s.ints[r, _SLOT] >= t.scalars[S_HORIZON]:
                s.ints[r, _TRUNCATED] = 1
                s.mask[r, :] = False
                s.mask[r, 0] = True  # only the (ignored) defer action once the episode is over
                return
            _open_slot(t, s, r)


@inlined
def _settle_without_decision(t: KernelTables, s: Rows, r: int) -> None:
    """A head task with no feasible option: deferred if it has slack, else dropped."""
    task = s.queue[r, s.ints[r, _HEAD]]
    if task[_Q_SLACK] > 0:
        s.ints[r, _SLOT_DEFERRED] += 1
        s.step[r, _C_DEFERRED] += 1.0
    else:
        task[_Q_DONE] = 1.0
        s.step[r, _C_DROPPED] += 1.0
        s.step[r, _C_R_DROP] -= t.scalars[S_REWARD_DROP]
    s.ints[r, _HEAD] += 1


@inlined
def _close_slot(t: KernelTables, s: Rows, r: int) -> None:
    """Energy balance, penalties and queue ageing for the current slot."""
    sc = t.scalars
    demand = s.floats[r, _SLOT_TASK_J] + sc[S_IDLE_J]
    baseline = s.floats[r, _BASELINE]
    charge, discharge, auxiliary, waste, level = balance_slot(
        baseline,
        demand,
        s.floats[r, _STORAGE],
        sc[S_STORAGE_CAPACITY],
        sc[S_CHARGE_EFFICIENCY],
        sc[S_DISCHARGE_EFFICIENCY],
        sc[S_MAX_CHARGE],
        sc[S_MAX_DISCHARGE],
    )
    s.floats[r, _STORAGE] = level
    slot = s.ints[r, _SLOT]
    aux_kwh = auxiliary / JOULES_PER_KWH
    waste_kwh = waste / JOULES_PER_KWH
    step = s.step[r]
    step[_C_BASELINE] += baseline
    step[_C_DEMAND] += demand
    step[_C_AUX] += auxiliary
    step[_C_WASTE] += waste
    step[_C_CHARGE] += charge
    step[_C_DISCHARGE] += discharge
    step[_C_SLOTS] += 1.0
    step[_C_COST] += aux_kwh * t.slot_tab[slot, SLOT_PRICE]
    step[_C_CARBON] += aux_kwh * t.slot_tab[slot, SLOT_CARBON]
    step[_C_R_AUX] -= sc[S_REWARD_AUX] * aux_kwh
    step[_C_R_WASTE] -= sc[S_REWARD_WASTE] * waste_kwh
    step[_C_R_WAITING] -= sc[S_REWARD_WAIT] * s.ints[r, _SLOT_DEFERRED]
    _age_and_compact(s, r)


@inlined
def _age_and_compact(s: Rows, r: int) -> None:
    """Deferred tasks lose a slot of slack and gain a slot of age; decided tasks leave the queue (FIFO kept)."""
    queue = s.queue[r]
    kept = 0
    for i in range(s.ints[r, _N_PRESENT]):
        if queue[i, _Q_DONE] > 0:
            continue
        queue[i, _Q_SLACK] -= 1.0
        queue[i, _Q_AGE] += 1.0
        if kept != i:
            for f in range(queue.shape[1]):  # element loop: a slice copy would allocate (overlap guard)
                queue[kept, f] = queue[i, f]
        kept += 1
    s.ints[r, _Q_LEN] = kept


@inlined
def _open_slot(t: KernelTables, s: Rows, r: int) -> None:
    """Baseline and forecast for the slot, arrivals into the queue, capacity refilled."""
    slot = s.ints[r, _SLOT]
    s.floats[r, _BASELINE] = s.supply_path[r, slot]
    forecast_into(t, s.supply_path[r], slot, s.forecast_j[r], s.rng[r])
    for i in range(s.tokens_left.shape[1]):
        s.tokens_left[r, i] = t.model_tab[i, MOD_CAPACITY]
    s.floats[r, _SLOT_TASK_J] = 0.0
    s.ints[r, _SLOT_DEFERRED] = 0
    s.ints[r, _HEAD] = 0

    arrived = _arrivals(t, s, r)
    accepted = min(arrived, s.queue.shape[1] - s.ints[r, _Q_LEN])
    overflow = arrived - accepted
    s.step[r, _C_ARRIVED] += arrived
    s.step[r, _C_DROPPED] += overflow
    s.step[r, _C_R_DROP] -= t.scalars[S_REWARD_DROP] * overflow
    for _ in range(accepted):
        _enqueue(t, s, r)
    s.ints[r, _N_PRESENT] = s.ints[r, _Q_LEN]


@inlined
def _arrivals(t: KernelTables, s: Rows, r: int) -> int:
    """Tasks arriving in the current slot (``constant``, ``poisson`` or ``negbin``)."""
    sc = t.scalars
    rate = t.slot_tab[s.ints[r, _SLOT], SLOT_ARRIVAL_RATE]
    kind = int(sc[S_ARRIVAL_KIND])
    if kind == ARRIVAL_CONSTANT:
        total = s.floats[r, _CARRY] + rate
        count = math.floor(total + _ARRIVAL_RATE_EPS)
        s.floats[r, _CARRY] = total - count
        return int(count)
    if kind == ARRIVAL_POISSON:
        return rng.poisson(s.rng[r], rate)
    k = sc[S_ARRIVAL_DISPERSION]
    return rng.negative_binomial(s.rng[r], k, k / (k + rate))


@inlined
def _enqueue(t: KernelTables, s: Rows, r: int) -> None:
    """Append one new task: class, true difficulty, the router's estimate, and its outcome uniforms."""
    sc, stream = t.scalars, s.rng[r]
    n_classes = t.class_tab.shape[0]
    u = rng.uniform(stream)
    cls = 0
    while cls < n_classes - 1 and t.class_tab[cls, CLS_WEIGHT_CDF] <= u:
        cls += 1
    lo, hi = int(t.class_tab[cls, CLS_LO]), int(t.class_tab[cls, CLS_HI])
    difficulty = lo + min(int(rng.uniform(stream) * (hi - lo + 1)), hi - lo)
    max_difficulty = sc[S_MAX_DIFFICULTY]
    if sc[S_DIFFICULTY_VISIBLE] == 0:
        estimate = (lo + hi) / 2.0
        table = int(max_difficulty) + 1  # the class-average column
    elif sc[S_DIFFICULTY_NOISE] > 0:
        noisy = difficulty + sc[S_DIFFICULTY_NOISE] * rng.standard_normal(stream)
        estimate = min(max(noisy, 1.0), max_difficulty)
        table = int(np.rint(estimate))
    else:
        estimate = float(difficulty)
        table = difficulty
    task = s.queue[r, s.ints[r, _Q_LEN]]
    task[_Q_CLASS] = cls
    task[_Q_DIFFICULTY] = difficulty
    task[_Q_ESTIMATE] = estimate
    task[_Q_TABLE] = table
    task[_Q_SLACK] = t.class_tab[cls, CLS_SLACK]
    task[_Q_AGE] = 0.0
    task[_Q_U_SKILL] = rng.uniform(stream)
    task[_Q_U_STEPS] = rng.uniform(stream)
    task[_Q_DONE] = 0.0
    s.ints[r, _Q_LEN] += 1


# ----------------------------------------------------------------------------------------------------------
# Entry points: loop over rows in compiled code
# ----------------------------------------------------------------------------------------------------------


_PREFETCH_AHEAD = 4  # rows ahead whose state lines are prefetched (the queue head half as far ahead)
_LINE = 8  # float64 or int64 values per 64-byte cache line


@inlined
def _prefetch_row(s: Rows, r: int) -> None:
    """Start loading the lines of row ``r``'s per-env arrays that a step reads or writes."""
    prefetch(s.ints, r * s.ints.shape[1])
    prefetch(s.floats, r * s.floats.shape[1])
    for i in range(0, s.step.shape[1], _LINE):
        prefetch(s.step, r * s.step.shape[1] + i)
        prefetch(s.totals, r * s.totals.shape[1] + i)
    prefetch(s.mask, r * s.mask.shape[1])
    prefetch(s.tokens_left, r * s.tokens_left.shape[1])
    prefetch(s.rng, r * s.rng.shape[1])
    if s.forecast_j.shape[1] > 0:
        prefetch(s.forecast_j, r * s.forecast_j.shape[1])


@inlined
def _prefetch_queue(s: Rows, r: int) -> None:
    """Start loading row ``r``'s head task record and the preview records after it (its ints are loaded)."""
    width = s.queue.shape[2]
    start = (r * s.queue.shape[1] + min(s.ints[r, _HEAD], s.queue.shape[1] - 1)) * width
    end = min(start + 5 * width, (r + 1) * s.queue.shape[1] * width)
    for i in range(start, end, _LINE):
        prefetch(s.queue, i)


_RESET, _STEP, _OBSERVE = 0, 1, 2  # what the kernel does to each row


@compiled
def _kernel(
    op,
    scalars, option_tab, worst_tokens, step_cdf, gamma_pow, class_tab, model_tab, accuracy, slot_tab,
    supply_shape, trace, obs_head,
    ints, floats, supply_path, forecast_j, queue, tokens_left, step, totals, mask, rng_state,
    rows, actions, resetting, rewards, obs, truncated,
):  # fmt: skip
    """The one entry point: for each row, ``_RESET`` starts an episode, ``_STEP`` applies its action (or, where
    ``resetting``, starts an episode with reward 0), ``_OBSERVE`` changes nothing; then writes the row's
    observation into ``obs`` and its truncation into ``truncated`` when they are given (non-empty).

    Returns -1, or for ``_STEP`` the index of the first bad action (checked before anything changes).
    """
    if op == _STEP:
        n_actions = mask.shape[1]
        for k in range(rows.size):
            a = actions[k]
            if a < 0 or a >= n_actions:
                return k
            if (resetting.size == 0 or not resetting[k]) and not mask[rows[k], a]:  # an autoreset ignores it
                return k
    t = KernelTables(
        scalars, option_tab, worst_tokens, step_cdf, gamma_pow, class_tab, model_tab, accuracy, slot_tab,
        supply_shape, trace, obs_head,
    )  # fmt: skip
    s = Rows(ints, floats, supply_path, forecast_j, queue, tokens_left, step, totals, mask, rng_state)
    for k in range(rows.size):
        if k + _PREFETCH_AHEAD < rows.size:
            _prefetch_row(s, rows[k + _PREFETCH_AHEAD])
        if k + _PREFETCH_AHEAD // 2 < rows.size:
            _prefetch_queue(s, rows[k + _PREFETCH_AHEAD // 2])
        r = rows[k]
        if op == _RESET:
            _reset_row(t, s, r)
        elif op == _STEP:
            if resetting.size > 0 and resetting[k]:
                _reset_row(t, s, r)
                rewards[k] = 0.0
            else:
                rewards[k] = _step_row(t, s, r, actions[k])
        if obs.shape[0] > 0:
            observe_row(t, s, r, obs[k])
        if truncated.size > 0:
            truncated[k] = s.ints[r, _TRUNCATED] != 0
    return -1


# The kernel takes the arrays positionally: their names must follow KernelTables and State field order
# (the state's `rng` is `rng_state` there, not to shadow the rng module).
_EXPECTED_ARGUMENTS = ("op", *KernelTables._fields, *Rows._fields[:-1], "rng_state")
_names = tuple(inspect.signature(_kernel.py_func).parameters)[: len(_EXPECTED_ARGUMENTS)]
assert _names == _EXPECTED_ARGUMENTS, f"kernel arguments out of order: {_names}"
assert Rows._fields == tuple(f.name for f in fields(State)), "Rows must list State's arrays in field order"


# ----------------------------------------------------------------------------------------------------------
# Python API
# ----------------------------------------------------------------------------------------------------------

# Empty arrays for what an operation does not use (one compiled signature serves every operation).
_NO_ROWS_FLAGS = np.zeros(0, bool)
_NO_ACTIONS = np.zeros(0, np.int64)
_NO_REWARDS = np.zeros(0)
_NO_OBS = np.zeros((0, 0), np.float32)


def seed_rows(state: State, rows: np.ndarray, seeds: np.ndarray | list[int]) -> None:
    """Start the random stream of ``rows[k]`` from ``seeds[k]`` (non-negative integers)."""
    seeds = np.asarray(seeds)
    if seeds.shape != rows.shape or seeds.dtype.kind not in "iu" or (seeds < 0).any():
        raise ValueError(f"expected {rows.size} non-negative integer seed(s), got {seeds!r}")
    rng.seed_rows(state.rng, rows, seeds.astype(np.uint64))


def seed_rows_from(generator: np.random.Generator, state: State, rows: np.ndarray) -> None:
    """Seed row ``r`` with ``start + r``, ``start`` drawn from ``generator``: for envs reset before any seed was
    given (Gymnasium seeds ``generator`` from fresh entropy then)."""
    seed_rows(state, rows, int(generator.integers(2**62)) + rows)


def reset_rows(params: Params, state: State, rows: np.ndarray, obs: np.ndarray | None = None) -> None:
    """Start new episodes in ``rows`` (each continuing its own random stream; see :func:`seed_rows`).

    With ``obs`` (``(len(rows), observation_layout(params).size)`` float32), also write their first
    observations there.
    """
    _kernel(
        _RESET,
        *params.kernel,
        *state.arrays(),
        rows,
        _NO_ACTIONS,
        _NO_ROWS_FLAGS,
        _NO_REWARDS,
        _NO_OBS if obs is None else obs,
        _NO_ROWS_FLAGS,
    )


def step_rows(
    params: Params,
    state: State,
    rows: np.ndarray,
    actions: np.ndarray,
    resetting: np.ndarray | None = None,
    obs: np.ndarray | None = None,
    truncated: np.ndarray | None = None,
) -> np.ndarray:
    """Apply one routing decision per row and advance to the next decision; return the step rewards.

    ``actions`` is an int64 array like ``rows``. Rows flagged in ``resetting`` (bool, like ``rows``) start
    a new episode instead, ignoring their action, with reward 0. ``step`` holds each row's counters for this
    step afterwards and ``totals`` the episode's. With ``obs``, the next observations are written there, and
    with ``truncated`` (bool, like ``rows``) whether each row's episode is over (read while the row is in
    cache). Raises :class:`InvalidActionError`, changing nothing, if an action is out of range or masked.
    """
    rewards = np.empty(rows.size)
    bad = _kernel(
        _STEP,
        *params.kernel,
        *state.arrays(),
        rows,
        actions,
        _NO_ROWS_FLAGS if resetting is None else resetting,
        rewards,
        _NO_OBS if obs is None else obs,
        _NO_ROWS_FLAGS if truncated is None else truncated,
    )
    if bad >= 0:
        raise _invalid_action(state, int(rows[bad]), int(actions[bad]))
    return rewards


def _invalid_action(state: State, row: int, action: int) -> InvalidActionError:
    n_actions = state.mask.shape[1]
    where = f" of sub-env {row}" if state.mask.shape[0] > 1 else ""
    if not 0 <= action < n_actions:
        return InvalidActionError(f"actions must lie in [0, {n_actions}): got action {action}{where}")
    valid = np.flatnonzero(state.mask[row]).tolist()
    return InvalidActionError(f"action {action}{where} is masked for the current task (valid actions: {valid})")


def observe(params: Params, state: State, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Fresh observation arrays ``(len(rows), dim)`` per key for the head task of each row."""
    layout = observation_layout(params)
    obs = np.empty((rows.size, layout.size), np.float32)
    _kernel(
        _OBSERVE, *params.kernel, *state.arrays(), rows, _NO_ACTIONS, _NO_ROWS_FLAGS, _NO_REWARDS, obs, _NO_ROWS_FLAGS
    )
    return layout.split(obs)


def action_mask(state: State, rows: np.ndarray) -> np.ndarray:
    """Valid actions ``(len(rows), 1 + O)`` for each row's current task (only defer once an episode is over)."""
    return state.mask[rows]
