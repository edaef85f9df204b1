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
as two plain tuples, which is what crossing into compiled code costs least for; inside, they are regrouped
as the named tuples :class:`~lrm_gym.core.tables.KernelTables` (``t``) and
:class:`~lrm_gym.core.state.StateArrays` (``s``). ``rows`` are int64 indices of the state's rows (``r`` one
of them) and are not range-checked in compiled code (the envs pass their own).
"""

from __future__ import annotations

import math

import numpy as np

from lrm_gym.core import rng
from lrm_gym.core.arrivals import draw_prompt_tokens, draw_trace_offset, trace_arrivals
from lrm_gym.core.batch_energy import batch_joules_per_token
from lrm_gym.core.compiled import compiled, inlined, prefetch
from lrm_gym.core.grid import draw_windows, slot_carbon, slot_price
from lrm_gym.core.kinds import ARRIVAL_CONSTANT, ARRIVAL_POISSON, ARRIVAL_TRACE
from lrm_gym.core.observation import observation_layout, observe_row
from lrm_gym.core.outcomes import sample_outcome
from lrm_gym.core.params import Params
from lrm_gym.core.state import (
    FIRST_REWARD_COUNTER,
    NO_OPTION,
    Counter,
    FloatField,
    IntField,
    State,
    StateArrays,
    TaskField,
)
from lrm_gym.core.storage import balance_slot
from lrm_gym.core.supply import forecast_into, sample_path
from lrm_gym.core.tables import ClassColumn, KernelTables, ModelColumn, OptionColumn, Scalar, SlotColumn
from lrm_gym.core.units import JOULES_PER_KWH


class InvalidActionError(ValueError):
    """An action outside the action space or masked for the current task."""


_ARRIVAL_RATE_EPS = 1e-9  # `constant` arrivals: 0.1 * 10 must count as 1 task, not 0.9999...


# ----------------------------------------------------------------------------------------------------------
# Transitions of one env (row r)
# ----------------------------------------------------------------------------------------------------------


@inlined
def _reset_row(t: KernelTables, s: StateArrays, r: int) -> None:
    """A new episode: fresh supply path, storage, empty queue, slot 0 opened, advanced to a decision."""
    s.step[r, :] = 0.0
    s.ints[r, IntField.SLOT] = 0
    s.ints[r, IntField.TRUNCATED] = 0
    s.ints[r, IntField.Q_LEN] = 0
    sample_path(t, s.supply_path[r], s.rng[r])
    draw_windows(t, s, r)  # no draw without a measured price or carbon series
    if int(t.scalars[Scalar.ARRIVAL_KIND]) == ARRIVAL_TRACE:
        draw_trace_offset(t, s, r)
    s.floats[r, FloatField.STORAGE_J] = t.scalars[Scalar.STORAGE_INITIAL_J]
    s.floats[r, FloatField.ARRIVAL_CARRY] = 0.0
    _clear_task(s, r)
    _open_slot(t, s, r)
    _advance(t, s, r)
    for k in range(s.step.shape[1]):  # arrivals and any empty slots closed during the reset
        s.totals[r, k] = s.step[r, k]


@inlined
def _clear_task(s: StateArrays, r: int) -> None:
    s.ints[r, IntField.TASK_OPTION] = NO_OPTION
    s.floats[r, FloatField.TASK_ENERGY_J] = 0.0
    s.floats[r, FloatField.TASK_TOKENS] = 0.0
    s.floats[r, FloatField.TASK_CORRECT] = 0.0


@inlined
def _step_row(t: KernelTables, s: StateArrays, r: int, action: int) -> float:
    """One decision on row ``r`` (already checked against its mask); returns the step reward."""
    s.step[r, :] = 0.0
    _clear_task(s, r)
    if s.ints[r, IntField.TRUNCATED] == 0:
        if action == 0:
            s.ints[r, IntField.SLOT_DEFERRED] += 1
            s.step[r, Counter.TASKS_DEFERRED] += 1.0
            s.ints[r, IntField.HEAD] += 1
        else:
            _dispatch(t, s, r, action - 1)
        _advance(t, s, r)
    reward = 0.0
    for k in range(s.step.shape[1]):
        s.totals[r, k] += s.step[r, k]
        if k >= FIRST_REWARD_COUNTER:
            reward += s.step[r, k]
    return reward


@inlined
def _dispatch(t: KernelTables, s: StateArrays, r: int, option: int) -> None:
    """Run the head task on ``option``: outcome, energy, capacity, quality reward."""
    head = s.ints[r, IntField.HEAD]
    task = s.queue[r, head]
    cls, m = int(task[TaskField.CLASS]), int(task[TaskField.DIFFICULTY])
    model, cap = t.option_tab[option, OptionColumn.MODEL], t.option_tab[option, OptionColumn.STEP_CAP]
    steps, correct = sample_outcome(
        t.step_cdf, t.gamma_pow, model, cap, m, task[TaskField.U_SKILL], task[TaskField.U_STEPS]
    )
    tokens = task[TaskField.PROMPT_TOKENS] + t.model_tab[model, ModelColumn.TOKENS_PER_STEP] * steps
    energy = tokens * t.model_tab[model, ModelColumn.JOULES_PER_TOKEN]
    s.tokens_left[r, model] -= tokens
    s.slot_served[r, 0, model] += tokens
    s.slot_served[r, 1, model] += 1.0
    s.floats[r, FloatField.SLOT_TASK_J] += energy
    task[TaskField.DONE] = 1.0
    s.ints[r, IntField.HEAD] = head + 1
    value = t.class_tab[cls, ClassColumn.VALUE]
    correct_f = 1.0 if correct else 0.0
    quality = value * (t.accuracy[cls, m, option] if t.scalars[Scalar.EXPECTED_QUALITY] > 0 else correct_f)
    s.step[r, Counter.TASKS_DISPATCHED] += 1.0
    s.step[r, Counter.TASKS_CORRECT] += correct_f
    s.step[r, Counter.WAIT_SLOTS] += task[TaskField.AGE]
    s.step[r, Counter.REWARD_QUALITY] += quality
    s.ints[r, IntField.TASK_OPTION] = option
    s.floats[r, FloatField.TASK_ENERGY_J] = energy
    s.floats[r, FloatField.TASK_TOKENS] = tokens
    s.floats[r, FloatField.TASK_CORRECT] = correct_f


@inlined
def _compute_mask(t: KernelTables, s: StateArrays, r: int) -> bool:
    """Cache the head task's mask in ``s.mask[r]``; True when some option can run it."""
    task = s.queue[r, s.ints[r, IntField.HEAD]]
    cls = int(task[TaskField.CLASS])
    s.mask[r, 0] = task[TaskField.SLACK] > 0
    own_prompt = t.class_tab[cls, ClassColumn.PROMPT_SAMPLE_SIZE] > 0  # a measured prompt: its own worst case
    feasible = False
    for o in range(t.option_tab.shape[0]):
        model = t.option_tab[o, OptionColumn.MODEL]
        worst = t.worst_tokens[cls, o]
        if own_prompt:
            worst = (
                task[TaskField.PROMPT_TOKENS]
                + t.model_tab[model, ModelColumn.TOKENS_PER_STEP] * t.option_tab[o, OptionColumn.STEP_CAP]
            )
        ok = worst <= s.tokens_left[r, model]
        s.mask[r, 1 + o] = ok
        feasible = feasible or ok
    return feasible


@inlined
def _advance(t: KernelTables, s: StateArrays, r: int) -> None:
    """Move row ``r`` to its next decision: settle decision-free tasks, close and open slots as needed."""
    while True:
        if s.ints[r, IntField.HEAD] < s.ints[r, IntField.N_PRESENT]:
            if _compute_mask(t, s, r):
                return
            _settle_without_decision(t, s, r)
        else:
            _close_slot(t, s, r)
            s.ints[r, IntField.SLOT] += 1
            if s.ints[r, IntField.SLOT] >= t.scalars[Scalar.HORIZON_SLOTS]:
                s.ints[r, IntField.TRUNCATED] = 1
                s.mask[r, :] = False
                s.mask[r, 0] = True  # only the (ignored) defer action once the episode is over
                return
            _open_slot(t, s, r)


@inlined
def _settle_without_decision(t: KernelTables, s: StateArrays, r: int) -> None:
    """A head task with no feasible option: deferred if it has slack, else dropped."""
    task = s.queue[r, s.ints[r, IntField.HEAD]]
    if task[TaskField.SLACK] > 0:
        s.ints[r, IntField.SLOT_DEFERRED] += 1
        s.step[r, Counter.TASKS_DEFERRED] += 1.0
    else:
        task[TaskField.DONE] = 1.0
        s.step[r, Counter.TASKS_DROPPED] += 1.0
        s.step[r, Counter.REWARD_DROP] -= t.scalars[Scalar.REWARD_DROP]
    s.ints[r, IntField.HEAD] += 1


@inlined
def _close_slot(t: KernelTables, s: StateArrays, r: int) -> None:
    """Energy balance, penalties and queue ageing for the current slot."""
    sc = t.scalars
    demand = s.floats[r, FloatField.SLOT_TASK_J] + sc[Scalar.IDLE_J]
    if sc[Scalar.BATCH_ENERGY] > 0:  # the slot's batches are known now: each model's tokens at its batch's J/token
        demand = sc[Scalar.IDLE_J] + _batch_task_energy(t, s, r)
    baseline = s.floats[r, FloatField.BASELINE_J]
    charge, discharge, auxiliary, waste, level = balance_slot(
        baseline,
        demand,
        s.floats[r, FloatField.STORAGE_J],
        sc[Scalar.STORAGE_CAPACITY_J],
        sc[Scalar.CHARGE_EFFICIENCY],
        sc[Scalar.DISCHARGE_EFFICIENCY],
        sc[Scalar.MAX_CHARGE_J],
        sc[Scalar.MAX_DISCHARGE_J],
    )
    s.floats[r, FloatField.STORAGE_J] = level
    slot = s.ints[r, IntField.SLOT]
    aux_kwh = auxiliary / JOULES_PER_KWH
    waste_kwh = waste / JOULES_PER_KWH
    step = s.step[r]
    step[Counter.BASELINE_J] += baseline
    step[Counter.DEMAND_J] += demand
    step[Counter.AUXILIARY_J] += auxiliary
    step[Counter.WASTE_J] += waste
    step[Counter.CHARGE_J] += charge
    step[Counter.DISCHARGE_J] += discharge
    step[Counter.SLOTS_CLOSED] += 1.0
    price, carbon = slot_price(t, s, r, slot), slot_carbon(t, s, r, slot)
    step[Counter.AUXILIARY_COST] += aux_kwh * price
    step[Counter.AUXILIARY_CARBON_G] += aux_kwh * carbon
    step[Counter.REWARD_AUXILIARY] -= sc[Scalar.REWARD_AUXILIARY_PER_KWH] * aux_kwh
    carbon_weight, price_weight = sc[Scalar.REWARD_CARBON_PER_KG], sc[Scalar.REWARD_PRICE_WEIGHT]
    if carbon_weight != 0.0 or price_weight != 0.0:  # docs/model.md section 11
        step[Counter.REWARD_AUXILIARY] -= (carbon_weight * carbon * 1e-3 + price_weight * price) * aux_kwh
    step[Counter.REWARD_WASTE] -= sc[Scalar.REWARD_WASTE_PER_KWH] * waste_kwh
    step[Counter.REWARD_WAITING] -= sc[Scalar.REWARD_WAITING_PER_TASK] * s.ints[r, IntField.SLOT_DEFERRED]
    _age_and_compact(s, r)


@inlined
def _batch_task_energy(t: KernelTables, s: StateArrays, r: int) -> float:
    """Task energy of the slot under ``task_energy: batch``: sum over models of tokens times J/token at the
    number of tasks the model served in the slot, spread evenly over its replicas (docs/model.md section 10)."""
    total = 0.0
    for i in range(s.slot_served.shape[2]):
        tasks = s.slot_served[r, 1, i]
        if tasks > 0:
            batch = max(tasks / t.model_tab[i, ModelColumn.REPLICAS], 1.0)  # replicas left without a task draw none
            total += s.slot_served[r, 0, i] * batch_joules_per_token(t.energy_curve, i, batch)
    return total


@inlined
def _age_and_compact(s: StateArrays, r: int) -> None:
    """Deferred tasks lose a slot of slack and gain a slot of age; decided tasks leave the queue (FIFO kept)."""
    queue = s.queue[r]
    kept = 0
    for i in range(s.ints[r, IntField.N_PRESENT]):
        if queue[i, TaskField.DONE] > 0:
            continue
        queue[i, TaskField.SLACK] -= 1.0
        queue[i, TaskField.AGE] += 1.0
        if kept != i:
            for f in range(queue.shape[1]):  # element loop: a slice copy would allocate (overlap guard)
                queue[kept, f] = queue[i, f]
        kept += 1
    s.ints[r, IntField.Q_LEN] = kept


@inlined
def _open_slot(t: KernelTables, s: StateArrays, r: int) -> None:
    """Baseline and forecast for the slot, arrivals into the queue, capacity refilled."""
    slot = s.ints[r, IntField.SLOT]
    s.floats[r, FloatField.BASELINE_J] = s.supply_path[r, slot]
    forecast_into(t, s.supply_path[r], slot, s.forecast_j[r], s.rng[r])
    for i in range(s.tokens_left.shape[1]):
        s.tokens_left[r, i] = t.model_tab[i, ModelColumn.CAPACITY_TOKENS]
        s.slot_served[r, 0, i] = 0.0
        s.slot_served[r, 1, i] = 0.0
    s.floats[r, FloatField.SLOT_TASK_J] = 0.0
    s.ints[r, IntField.SLOT_DEFERRED] = 0
    s.ints[r, IntField.HEAD] = 0

    arrived = _arrivals(t, s, r)
    accepted = min(arrived, s.queue.shape[1] - s.ints[r, IntField.Q_LEN])
    overflow = arrived - accepted
    s.step[r, Counter.TASKS_ARRIVED] += arrived
    s.step[r, Counter.TASKS_DROPPED] += overflow
    s.step[r, Counter.REWARD_DROP] -= t.scalars[Scalar.REWARD_DROP] * overflow
    for _ in range(accepted):
        _enqueue(t, s, r)
    # A rejected arrival still takes its draws, so the stream (and every later arrival, supply forecast and
    # outcome) does not depend on how full the router kept the queue: an episode's exogenous record is a
    # function of the seed alone.
    for _ in range(overflow):
        _draw_task(t, s.rng[r])
    s.ints[r, IntField.N_PRESENT] = s.ints[r, IntField.Q_LEN]


@inlined
def _arrivals(t: KernelTables, s: StateArrays, r: int) -> int:
    """Tasks arriving in the current slot (``constant``, ``poisson``, ``negbin`` or ``trace``)."""
    sc = t.scalars
    rate = t.slot_tab[s.ints[r, IntField.SLOT], SlotColumn.ARRIVAL_RATE]
    kind = int(sc[Scalar.ARRIVAL_KIND])
    if kind == ARRIVAL_CONSTANT:
        total = s.floats[r, FloatField.ARRIVAL_CARRY] + rate
        count = math.floor(total + _ARRIVAL_RATE_EPS)
        s.floats[r, FloatField.ARRIVAL_CARRY] = total - count
        return int(count)
    if kind == ARRIVAL_POISSON:
        return rng.poisson(s.rng[r], rate)
    if kind == ARRIVAL_TRACE:
        return trace_arrivals(t, s, r)
    k = sc[Scalar.ARRIVAL_DISPERSION]
    return rng.negative_binomial(s.rng[r], k, k / (k + rate))


@inlined
def _draw_task(t: KernelTables, stream: np.ndarray) -> tuple[int, int, float, int, float, float, float]:
    """A new task's random attributes: class, true difficulty, the router's estimate and its table column,
    the outcome uniforms and the prompt length (drawn last, only for a class with measured prompts; every
    arrival takes exactly these draws, accepted or not)."""
    sc = t.scalars
    n_classes = t.class_tab.shape[0]
    u = rng.uniform(stream)
    cls = 0
    while cls < n_classes - 1 and t.class_tab[cls, ClassColumn.WEIGHT_CDF] <= u:
        cls += 1
    lo, hi = int(t.class_tab[cls, ClassColumn.DIFFICULTY_LO]), int(t.class_tab[cls, ClassColumn.DIFFICULTY_HI])
    difficulty = lo + min(int(rng.uniform(stream) * (hi - lo + 1)), hi - lo)
    max_difficulty = sc[Scalar.MAX_DIFFICULTY]
    if sc[Scalar.DIFFICULTY_VISIBLE] == 0:
        estimate = (lo + hi) / 2.0
        table = int(max_difficulty) + 1  # the class-average column
    elif sc[Scalar.DIFFICULTY_NOISE] > 0:
        noisy = difficulty + sc[Scalar.DIFFICULTY_NOISE] * rng.standard_normal(stream)
        estimate = min(max(noisy, 1.0), max_difficulty)
        table = int(np.rint(estimate))
    else:
        estimate = float(difficulty)
        table = difficulty
    u_skill = rng.uniform(stream)
    u_steps = rng.uniform(stream)
    prompt = draw_prompt_tokens(t, cls, stream)
    return cls, difficulty, estimate, table, u_skill, u_steps, prompt


@inlined
def _enqueue(t: KernelTables, s: StateArrays, r: int) -> None:
    """Append one new task with its attributes from :func:`_draw_task`."""
    cls, difficulty, estimate, table, u_skill, u_steps, prompt = _draw_task(t, s.rng[r])
    task = s.queue[r, s.ints[r, IntField.Q_LEN]]
    task[TaskField.CLASS] = cls
    task[TaskField.DIFFICULTY] = difficulty
    task[TaskField.ESTIMATE] = estimate
    task[TaskField.TABLE] = table
    task[TaskField.SLACK] = t.class_tab[cls, ClassColumn.SLACK_SLOTS]
    task[TaskField.AGE] = 0.0
    task[TaskField.U_SKILL] = u_skill
    task[TaskField.U_STEPS] = u_steps
    task[TaskField.DONE] = 0.0
    task[TaskField.PROMPT_TOKENS] = prompt
    s.ints[r, IntField.Q_LEN] += 1


# ----------------------------------------------------------------------------------------------------------
# Entry points: loop over rows in compiled code
# ----------------------------------------------------------------------------------------------------------


_PREFETCH_AHEAD = 4  # rows ahead whose state lines are prefetched (the queue head half as far ahead)
_LINE = 8  # float64 or int64 values per 64-byte cache line


@inlined
def _prefetch_row(s: StateArrays, r: int) -> None:
    """Start loading the lines of row ``r``'s per-env arrays that a step reads or writes."""
    prefetch(s.ints, r * s.ints.shape[1])
    prefetch(s.floats, r * s.floats.shape[1])
    for i in range(0, s.step.shape[1], _LINE):
        prefetch(s.step, r * s.step.shape[1] + i)
        prefetch(s.totals, r * s.totals.shape[1] + i)
    prefetch(s.mask, r * s.mask.shape[1])
    prefetch(s.tokens_left, r * s.tokens_left.shape[1])
    prefetch(s.slot_served, r * s.slot_served.shape[1] * s.slot_served.shape[2])
    prefetch(s.rng, r * s.rng.shape[1])
    if s.forecast_j.shape[1] > 0:
        prefetch(s.forecast_j, r * s.forecast_j.shape[1])


@inlined
def _prefetch_queue(s: StateArrays, r: int) -> None:
    """Start loading row ``r``'s head task record and the preview records after it (its ints are loaded)."""
    width = s.queue.shape[2]
    start = (r * s.queue.shape[1] + min(s.ints[r, IntField.HEAD], s.queue.shape[1] - 1)) * width
    end = min(start + 5 * width, (r + 1) * s.queue.shape[1] * width)
    for i in range(start, end, _LINE):
        prefetch(s.queue, i)


_RESET, _STEP, _OBSERVE = 0, 1, 2  # what the kernel does to each row


@compiled
def _kernel(
    op: int,
    tables: tuple,
    arrays: tuple,
    rows: np.ndarray,
    actions: np.ndarray,
    resetting: np.ndarray,
    rewards: np.ndarray,
    obs: np.ndarray,
    truncated: np.ndarray,
) -> int:
    """The one entry point: for each of ``rows``, ``_RESET`` starts an episode, ``_STEP`` applies its action (or,
    where ``resetting``, starts an episode with reward 0), ``_OBSERVE`` changes nothing; then writes the row's
    observation into ``obs`` and its truncation into ``truncated`` when they are given (non-empty).

    ``tables`` is ``params.kernel`` and ``arrays`` is ``state.arrays()``, both as plain tuples: numba reads a
    plain tuple of arrays as fast as separate arguments, a named tuple twice as slowly. Returns -1, or for
    ``_STEP`` the index of the first bad action (checked before anything changes).
    """
    t = KernelTables(*tables)
    s = StateArrays(*arrays)
    if op == _STEP:
        n_actions = s.mask.shape[1]
        for k in range(rows.size):
            a = actions[k]
            if a < 0 or a >= n_actions:
                return k
            if (resetting.size == 0 or not resetting[k]) and not s.mask[rows[k], a]:  # an autoreset ignores it
                return k
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
            truncated[k] = s.ints[r, IntField.TRUNCATED] != 0
    return -1


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
        params.kernel_arrays,
        state.arrays(),
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
        params.kernel_arrays,
        state.arrays(),
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
    no_flags = _NO_ROWS_FLAGS
    _kernel(_OBSERVE, params.kernel_arrays, state.arrays(), rows, _NO_ACTIONS, no_flags, _NO_REWARDS, obs, no_flags)
    return layout.split(obs)


def action_mask(state: State, rows: np.ndarray) -> np.ndarray:
    """Valid actions ``(len(rows), 1 + O)`` for each row's current task (only defer once an episode is over)."""
    return state.mask[rows]
