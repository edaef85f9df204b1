"""Transitions of the simulator for a batch of environments (DESIGN sections 2 and 3).

One *step* is one routing decision. A slot opens (baseline, forecast, arrivals), its present tasks are
decided one per step (defer or dispatch to an option), then it closes (energy balance with storage,
penalties, deferred tasks age) and the next slot opens. Slots with nothing left to decide close inside the
same step. Tasks whose every option is over capacity are handled without a decision: deferred while they
have slack, dropped when they have none.

The functions update a :class:`State` in place for the rows they are given and draw randomness only from
the generator (or :class:`~lrm_gym.core.draws.Draws`) they are passed; they hold no other state, so the
single env (a batch of one) and the vector env run exactly the same code. ``rows`` must be increasing
(hence unique).

The action mask of the head task is computed once, when :func:`advance` reaches the decision, and cached in
``State.mask``; :func:`decide` and the observation read it from there.
"""

from __future__ import annotations

import numpy as np

from lrm_gym.core.draws import Draws, as_draws
from lrm_gym.core.outcomes import sample_steps
from lrm_gym.core.params import JOULES_PER_KWH, Params
from lrm_gym.core.state import (
    COUNTERS,
    NO_OPTION,
    QUEUE_FIELDS,
    C,
    Q,
    State,
    flat_index,
    record_index,
    records,
    row_block,
)
from lrm_gym.core.storage import balance_slot
from lrm_gym.core.supply import forecast, sample_supply_path


class InvalidActionError(ValueError):
    """An action outside the action space or masked for the current task."""


def reset_rows(params: Params, state: State, rows: np.ndarray, rng: np.random.Generator | Draws) -> None:
    """Start new episodes in ``rows``: fresh supply path, storage, empty queue, slot 0 opened."""
    draws = as_draws(rng)
    state.slot[rows] = 0
    state.truncated[rows] = False
    state.supply_path[rows] = sample_supply_path(
        params.supply, draws, rows.size, state.supply_path.shape[1], params.start_hour, params.slot_seconds, rows
    )
    state.storage_j[rows] = params.storage.initial_j
    state.arrival_carry[rows] = 0.0
    state.q_len[rows] = 0
    state.totals[rows] = 0.0
    state.step[rows] = 0.0
    _clear_task(state, rows)
    open_slot(params, state, rows, draws)
    advance(params, state, rows, draws)
    state.totals[rows] += state.step[rows]  # arrivals and any empty slots closed during the reset


def _clear_task(state: State, rows: np.ndarray) -> None:
    state.task_option[rows] = NO_OPTION
    state.task_energy_j[rows] = 0.0
    state.task_tokens[rows] = 0.0
    state.task_correct[rows] = False


def hour_of_day(params: Params, slot: np.ndarray) -> np.ndarray:
    """Hour of day in ``[0, 24)`` at the start of ``slot``."""
    return (params.start_hour + slot * (params.slot_seconds / 3600.0)) % 24.0


def action_mask(params: Params, state: State, rows: np.ndarray) -> np.ndarray:
    """Valid actions ``(len(rows), 1 + O)``: defer needs slack, an option needs worst-case capacity.

    Rows whose episode is over allow only action 0 (ignored). This reads the mask cached by :func:`advance`
    (and :func:`reset_rows`), so it is valid between steps.
    """
    return state.mask[rows]


def _compute_mask(params: Params, state: State, rows: np.ndarray) -> np.ndarray:
    """Mask of the head task of live rows with a task to decide; cached in ``state.mask``."""
    task = records(state).take(record_index(state, rows, state.head[rows]), axis=0)
    cls = task[:, Q["class"]].astype(np.intp)
    mask = np.empty((rows.size, 1 + params.n_options), bool)
    np.greater(task[:, Q["slack"]], 0, out=mask[:, 0])
    room = row_block(state.tokens_left, rows).take(params.option_model, axis=1)
    np.less_equal(params.worst_tokens.take(cls, axis=0), room, out=mask[:, 1:])
    state.mask[rows] = mask
    return mask


def decide(params: Params, state: State, rows: np.ndarray, actions: np.ndarray) -> None:
    """Apply one routing decision per row to the task at its head. Raises on invalid or masked actions."""
    actions = np.asarray(actions)
    n_actions = 1 + params.n_options
    if actions.shape != rows.shape or actions.dtype.kind not in "iu":
        raise InvalidActionError(f"expected {rows.size} integer action(s), got {actions!r}")
    if not ((actions >= 0) & (actions < n_actions)).all():
        raise InvalidActionError(f"action {actions.tolist()} outside Discrete({n_actions})")
    allowed = state.mask.reshape(-1).take(flat_index(state.mask, rows, actions))
    if not allowed.all():
        bad = int(np.flatnonzero(~allowed)[0])
        raise InvalidActionError(
            f"action {int(actions[bad])} is masked for the current task "
            f"(valid actions: {np.flatnonzero(state.mask[rows[bad]]).tolist()})"
        )
    _clear_task(state, rows)
    live = ~state.truncated[rows]
    go = live & (actions > 0)
    if not go.all():
        defer = rows[live & (actions == 0)]
        if defer.size:
            state.slot_deferred[defer] += 1
            state.step[defer, C["tasks_deferred"]] += 1
            state.head[defer] += 1
        rows, actions = rows[go], actions[go]
    if rows.size:
        dispatch(params, state, rows, actions - 1)


def dispatch(params: Params, state: State, rows: np.ndarray, options: np.ndarray) -> None:
    """Run the head task of each row on ``options``: outcome, energy, capacity, quality reward."""
    head = state.head[rows]
    at = record_index(state, rows, head)
    task = records(state).take(at, axis=0)
    cls = task[:, Q["class"]].astype(np.intp)
    m = task[:, Q["difficulty"]].astype(np.intp)
    model = params.option_model.take(options)
    cap = params.option_cap.take(options)
    steps, correct = sample_steps(
        params.step_cdf, params.gamma_pow, model, cap, m, task[:, Q["u_skill"]], task[:, Q["u_steps"]]
    )
    tokens = params.class_prompt_tokens.take(cls) + params.model_tokens_per_step.take(model) * steps
    energy = tokens * params.model_joules_per_token.take(model)
    state.tokens_left.reshape(-1)[flat_index(state.tokens_left, rows, model)] -= tokens
    state.slot_task_j[rows] += energy
    state.queue.reshape(-1)[at * len(QUEUE_FIELDS) + Q["done"]] = 1.0
    state.head[rows] = head + 1
    value = params.class_value.take(cls)
    quality = value * (params.accuracy[cls, m, options] if params.reward_expected_quality else correct)
    add = np.empty((rows.size, 4))  # filled column by column: np.stack costs more on small batches
    add[:, 0] = 1.0
    add[:, 1] = correct
    add[:, 2] = task[:, Q["age"]]
    add[:, 3] = quality
    state.step.reshape(-1)[flat_index(state.step, rows[:, None], _DISPATCH_COUNTERS)] += add
    state.task_option[rows] = options
    state.task_energy_j[rows] = energy
    state.task_tokens[rows] = tokens
    state.task_correct[rows] = correct


def advance(params: Params, state: State, rows: np.ndarray, rng: np.random.Generator | Draws) -> None:
    """Move every row to its next decision: settle decision-free tasks, close and open slots as needed.

    Only rows that changed are looked at again, so a batch where few rows close a slot stays cheap.
    """
    draws: Draws | None = None
    check = rows[~state.truncated[rows]] if state.truncated[rows].any() else rows
    while check.size:
        waiting_sel = state.head[check] < state.n_present[check]
        if waiting_sel.all():
            waiting, closing = check, check[:0]
        else:
            waiting, closing = check[waiting_sel], check[~waiting_sel]
        recheck = []
        if waiting.size:
            stuck_sel = ~_compute_mask(params, state, waiting)[:, 1:].any(axis=1)
            if stuck_sel.any():
                stuck = waiting[stuck_sel]
                _settle_without_decision(params, state, stuck)
                recheck.append(stuck)
        if closing.size:
            close_slot(params, state, closing)
            state.slot[closing] += 1
            ended = state.slot[closing] >= params.horizon_slots
            if ended.any():
                over = closing[ended]
                state.truncated[over] = True
                state.mask[over] = False
                state.mask[over, 0] = True  # only the (ignored) defer action once the episode is over
                closing = closing[~ended]
            if closing.size:
                draws = as_draws(rng) if draws is None else draws
                open_slot(params, state, closing, draws)
                recheck.append(closing)
        # rows stay increasing: row_block and the callers rely on it
        check = recheck[0] if len(recheck) == 1 else np.sort(np.concatenate(recheck)) if recheck else check[:0]


def _settle_without_decision(params: Params, state: State, rows: np.ndarray) -> None:
    """Head tasks with no feasible option: defer if they have slack, else drop."""
    at = record_index(state, rows, state.head[rows])
    has_slack = records(state)[at, Q["slack"]] > 0
    defer, drop = rows[has_slack], rows[~has_slack]
    state.slot_deferred[defer] += 1
    state.step[defer, C["tasks_deferred"]] += 1
    records(state)[at[~has_slack], Q["done"]] = 1.0
    state.step[drop, C["tasks_dropped"]] += 1
    state.step[drop, C["reward_drop"]] -= params.reward_drop
    state.head[rows] += 1


def close_slot(params: Params, state: State, rows: np.ndarray) -> None:
    """Energy balance, penalties and queue ageing for the current slot of ``rows``."""
    demand = state.slot_task_j[rows] + params.idle_j
    baseline = state.baseline_j[rows]
    bal = balance_slot(baseline, demand, state.storage_j[rows], params.storage)
    state.storage_j[rows] = bal.storage_j
    hour = hour_of_day(params, state.slot[rows]).astype(np.int64)
    aux_kwh = bal.auxiliary_j / JOULES_PER_KWH
    waste_kwh = bal.waste_j / JOULES_PER_KWH
    deferred = state.slot_deferred[rows]
    add = np.zeros((rows.size, len(COUNTERS)))  # one scatter into state.step instead of one per counter
    add[:, C["baseline_j"]] = baseline
    add[:, C["demand_j"]] = demand
    add[:, C["auxiliary_j"]] = bal.auxiliary_j
    add[:, C["waste_j"]] = bal.waste_j
    add[:, C["charge_j"]] = bal.charge_j
    add[:, C["discharge_j"]] = bal.discharge_j
    add[:, C["slots_closed"]] = 1
    add[:, C["auxiliary_cost"]] = aux_kwh * params.price_per_kwh[hour]
    add[:, C["auxiliary_carbon_g"]] = aux_kwh * params.carbon_g_per_kwh[hour]
    add[:, C["reward_auxiliary"]] = -params.reward_auxiliary_per_kwh * aux_kwh
    add[:, C["reward_waste"]] = -params.reward_waste_per_kwh * waste_kwh
    add[:, C["reward_waiting"]] = -params.reward_waiting_per_task * deferred
    state.step[rows] += add
    _age_and_compact(state, rows)


def _age_and_compact(state: State, rows: np.ndarray) -> None:
    """Deferred tasks lose a slot of slack and gain a slot of age; decided tasks leave the queue.

    Only the first ``max(n_present)`` queue positions can hold tasks at a slot close, so only those move.
    """
    present_n = state.n_present[rows]
    width = int(present_n.max(initial=0))
    if width == 0:
        state.q_len[rows] = 0
        return
    position = np.arange(width)
    at = record_index(state, rows, position[None, :])
    block = records(state).take(at, axis=0)  # (rows, width, fields)
    present = position[None, :] < present_n[:, None]
    done = block[..., Q["done"]] > 0
    kept = present & ~done
    block[..., Q["slack"]] -= kept
    block[..., Q["age"]] += kept
    block[..., Q["done"]] = 0.0
    if (present & done).any():
        # kept tasks move to the front in their order (stable sort on "not kept")
        order = np.argsort(~kept, axis=1, kind="stable")
        block = block.reshape(-1, block.shape[2]).take((np.arange(rows.size) * width)[:, None] + order, axis=0)
    records(state)[at] = block
    state.q_len[rows] = kept.sum(axis=1)


def open_slot(params: Params, state: State, rows: np.ndarray, rng: np.random.Generator | Draws) -> None:
    """Baseline and forecast for the slot, arrivals into the queue, capacity refilled."""
    draws = as_draws(rng)
    slot = state.slot[rows]
    state.baseline_j[rows] = state.supply_path.reshape(-1).take(flat_index(state.supply_path, rows, slot))
    state.forecast_j[rows] = forecast(row_block(state.supply_path, rows), slot, params.supply, draws, rows)
    state.tokens_left[rows] = params.model_capacity_tokens
    state.slot_task_j[rows] = 0.0
    state.slot_deferred[rows] = 0
    state.head[rows] = 0

    arrived = sample_arrival_counts(params, state, rows, draws)
    room = params.queue_capacity - state.q_len[rows]
    accepted = np.minimum(arrived, room)
    state.step[rows, C["tasks_arrived"]] += arrived
    overflow = arrived - accepted
    state.step[rows, C["tasks_dropped"]] += overflow
    state.step[rows, C["reward_drop"]] -= params.reward_drop * overflow
    _enqueue(params, state, rows, accepted, draws)
    state.n_present[rows] = state.q_len[rows]


def sample_arrival_counts(
    params: Params, state: State, rows: np.ndarray, rng: np.random.Generator | Draws
) -> np.ndarray:
    """Tasks arriving in the current slot of each row (``constant``, ``poisson`` or ``negbin``)."""
    hour = hour_of_day(params, state.slot[rows])
    profile = params.arrival_profile
    rate = params.arrival_rate * profile[(hour * profile.size / 24.0).astype(np.int64) % profile.size]
    if params.arrival_kind == "constant":
        total = state.arrival_carry[rows] + rate
        count = np.floor(total + 1e-9)
        state.arrival_carry[rows] = total - count
        return count.astype(np.int64)
    draws = as_draws(rng)
    if params.arrival_kind == "poisson":
        return draws.poisson(rows, rate)
    k = params.arrival_dispersion
    return draws.negative_binomial(rows, k, k / (k + rate))


def _enqueue(params: Params, state: State, rows: np.ndarray, counts: np.ndarray, draws: Draws) -> None:
    total = int(counts.sum())
    if total == 0:
        return
    u = draws.task_uniforms(rows, counts, total, 4)
    cls = np.minimum(np.searchsorted(np.cumsum(params.class_weight), u[:, 0], side="right"), params.n_classes - 1)
    lo, hi = params.class_difficulty_lo[cls], params.class_difficulty_hi[cls]
    difficulty = lo + np.minimum((u[:, 1] * (hi - lo + 1)).astype(np.int64), hi - lo)
    if not params.difficulty_visible:
        estimate = (lo + hi) / 2.0
        table = np.full(total, params.hidden_difficulty_index)
    elif params.difficulty_noise > 0:
        estimate = np.clip(
            difficulty + params.difficulty_noise * draws.task_normals(rows, counts, total), 1.0, params.max_difficulty
        )
        table = np.rint(estimate).astype(np.int64)
    else:
        estimate = difficulty.astype(np.float64)
        table = difficulty
    env = np.repeat(rows, counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    position = state.q_len[env] + np.arange(total) - first
    task = np.empty((total, len(QUEUE_FIELDS)))
    task[:, Q["class"]] = cls
    task[:, Q["difficulty"]] = difficulty
    task[:, Q["estimate"]] = estimate
    task[:, Q["table"]] = table
    task[:, Q["slack"]] = params.class_slack[cls]
    task[:, Q["age"]] = 0.0
    task[:, Q["u_skill"]] = u[:, 2]
    task[:, Q["u_steps"]] = u[:, 3]
    task[:, Q["done"]] = 0.0
    records(state)[record_index(state, env, position)] = task
    state.q_len[rows] += counts


def begin_step(state: State, rows: np.ndarray) -> None:
    """Clear the per-step counters before a decision."""
    if rows.size == state.step.shape[0]:
        state.step.fill(0.0)
    else:
        state.step[rows] = 0.0


def end_step(state: State, rows: np.ndarray) -> np.ndarray:
    """Add the step's counters to the episode totals; return the step reward of each row."""
    step = row_block(state.step, rows)
    if rows.size == state.step.shape[0]:
        state.totals += step
    else:
        state.totals[rows] += step
    return step[:, _REWARD_START:].sum(axis=1)


_DISPATCH_COUNTERS = np.array([C[k] for k in ("tasks_dispatched", "tasks_correct", "wait_slots", "reward_quality")])
_REWARD_START = COUNTERS.index("reward_quality")
assert all(k.startswith("reward_") for k in COUNTERS[_REWARD_START:]), "reward counters must come last"
