"""The hindsight optimum of a recorded episode as a mixed-integer program, solved with HiGHS.

The formulation (variables, constraints, objective, solver settings) is documented in docs/headroom.md; the
names below follow it. Energies are in kJ inside the program (coefficients of order 1), joules outside.

Two programs share the builder:

- ``information="hindsight"``: each task's outcome under every option is known (the record's uniforms). Its
  optimum is the best return any sequence of actions can earn on the episode; replaying its plan through the
  env earns exactly that (tests/agents/test_headroom.py).
- ``information="expected"``: supply and arrivals are known, outcomes only in expectation (mean energy, mean
  tokens, ``value * P(correct)``). A deterministic, certainty-equivalent program; see docs/headroom.md for
  what it bounds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from agents.headroom.plan import DROP, LEAVE, Plan, PlanValue, TaskOutcomes, mask_violations, plan_value, task_outcomes
from agents.headroom.record import EpisodeRecord
from lrm_gym.core.params import Params
from lrm_gym.core.units import JOULES_PER_KJ, KJ_PER_KWH

DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_MIP_REL_GAP = 1e-4  # HiGHS default; the dual bound is reported with every optimum
_MAX_MASK_ROUNDS = 8

Information = Literal["hindsight", "expected"]


@dataclass
class _Program:
    """Columns and rows of the MILP as they are added (COO triplets)."""

    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    vals: list[float] = field(default_factory=list)
    row_lo: list[float] = field(default_factory=list)
    row_hi: list[float] = field(default_factory=list)

    def var(self, cost: float, lo: float = 0.0, hi: float = np.inf, integer: bool = False) -> int:
        self.cost.append(cost)
        self.lower.append(lo)
        self.upper.append(hi)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def row(self, terms: list[tuple[int, float]], lo: float, hi: float) -> None:
        r = len(self.row_lo)
        for c, v in terms:
            self.rows.append(r)
            self.cols.append(c)
            self.vals.append(v)
        self.row_lo.append(lo)
        self.row_hi.append(hi)


@dataclass(frozen=True)
class Optimum:
    """The solved program. Returns count like :func:`agents.evaluation.evaluate`: step rewards only (the
    record's reset-time reward excluded)."""

    information: str
    status: str  # "optimal", "not proven optimal (plan from ...)", or "no incumbent"
    plan: Plan | None
    value: PlanValue | None  # the plan's exact value (the env's arithmetic)
    episode_return: float  # of the plan, exact; NaN without an incumbent
    upper_bound: float  # from HiGHS's dual bound (or the LP relaxation without an incumbent)
    mip_gap: float
    solve_seconds: float
    n_binaries: int
    n_rows: int
    mask_rounds: int  # re-solves that added exact mask rows for (slot, model) pairs that needed them


def solve(
    params: Params,
    record: EpisodeRecord,
    information: Information = "hindsight",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    mip_rel_gap: float = DEFAULT_MIP_REL_GAP,
    branch_and_bound: bool = True,
) -> Optimum:
    """Solve the program: first its linear relaxation (an upper bound) and a plan rounded from it, then, with
    ``branch_and_bound``, the mixed-integer program, re-solved with exact mask rows where the aggregate capacity
    rows let a masked dispatch through (docs/headroom.md, "Capacity masks"). Returns the better valid plan and
    the tighter bound. ``time_limit_s`` applies to each solve."""
    if information not in ("hindsight", "expected"):
        raise ValueError(f"information must be 'hindsight' or 'expected', got {information!r}")
    out = task_outcomes(params, record, expected=information == "expected")
    start = time.perf_counter()
    program, task_vars = _build(params, record, out, set())
    relaxed = _run(program, time_limit_s, mip_rel_gap, relax=True)
    bound = -float(relaxed.fun) - record.reset_reward if relaxed.status == 0 else np.inf
    best: tuple[Plan, str] | None = None
    if relaxed.x is not None:
        rounded = _repair(params, record, _plan(record, task_vars, relaxed.x), out)
        if rounded is not None:
            best = (rounded, "lp rounding")
        # Fix the tasks the relaxation already decides integrally, branch on the rest (a few per slot).
        fixed = _fix_integral(program, task_vars, relaxed.x)
        small = _run(fixed, time_limit_s, mip_rel_gap)
        if small.x is not None:
            candidate = _repair(params, record, _plan(record, task_vars, small.x), out)
            if candidate is not None and (
                best is None or _total(params, record, candidate, out) > _total(params, record, best[0], out)
            ):
                best = (candidate, "lp fix and branch")
    exact_pairs: set[tuple[int, int]] = set()
    rounds, proven = 0, False
    while branch_and_bound:
        result = _run(program, time_limit_s, mip_rel_gap)
        dual = getattr(result, "mip_dual_bound", None)
        if dual is not None and np.isfinite(dual):
            bound = min(bound, -float(dual) - record.reset_reward)
        if result.x is None:
            break
        plan = _repair_drops(params, record, _plan(record, task_vars, result.x), out)
        violations = set(mask_violations(params, record, plan, out)) - exact_pairs
        if not violations:
            if best is None or _total(params, record, plan, out) > _total(params, record, best[0], out):
                best = (plan, "branch and bound")
            proven = result.status == 0
            break
        if rounds >= _MAX_MASK_ROUNDS:
            break
        exact_pairs |= violations
        rounds += 1
        program, task_vars = _build(params, record, out, exact_pairs)
    seconds = time.perf_counter() - start
    if best is None:
        return Optimum(information, "no incumbent", None, None, np.nan, bound, np.inf, seconds, _n_int(program),
                       len(program.row_lo), rounds)  # fmt: skip
    value = plan_value(params, record, best[0], out)
    episode_return = value.total - record.reset_reward
    gap = (bound - episode_return) / max(abs(bound), 1e-12)
    status = "optimal" if proven or gap <= mip_rel_gap else f"not proven optimal (plan from {best[1]})"
    return Optimum(information, status, best[0], value, episode_return, bound, gap, seconds, _n_int(program),
                   len(program.row_lo), rounds)  # fmt: skip


def _fix_integral(program: _Program, task_vars: list[list[tuple[int, int, int]]], x: np.ndarray) -> _Program:
    """A copy of ``program`` with every task whose relaxed assignment is integral fixed to it."""
    lower, upper = list(program.lower), list(program.upper)
    for columns in task_vars:
        top = max(columns, key=lambda entry: x[entry[0]])[0]
        if x[top] > 1.0 - 1e-6:
            for c, _, _ in columns:
                lower[c] = upper[c] = 1.0 if c == top else 0.0
    return replace(program, lower=lower, upper=upper)


def _total(params: Params, record: EpisodeRecord, plan: Plan, out: TaskOutcomes) -> float:
    return plan_value(params, record, plan, out).total


def _repair(params: Params, record: EpisodeRecord, plan: Plan, out: TaskOutcomes) -> Plan | None:
    """Make a plan rounded from the relaxation valid: planned drops and masked dispatches replaced (in queue
    order) by the option that earns most among those whose masks hold; ``None`` if that fails or the queue
    would overflow."""
    plan = _repair_drops(params, record, plan, out)
    option, slot = plan.option.copy(), plan.slot.copy()
    capacity = params.model_capacity_tokens
    used: dict[tuple[int, int], float] = {}
    for j in np.flatnonzero(option >= 0):
        t = int(slot[j])
        price = record.auxiliary_per_kwh[t] / (KJ_PER_KWH * JOULES_PER_KJ)  # reward per joule at the dearer margin
        o = int(option[j])
        model = int(params.option_model[o])
        if out.worst_tokens[j, o] > capacity[model] - used.get((t, model), 0.0):
            fits = [
                p
                for p in _candidate_options(params, out, int(j))
                if out.worst_tokens[j, p]
                <= capacity[params.option_model[p]] - used.get((t, int(params.option_model[p])), 0.0)
            ]
            if not fits:
                return None
            o = max(fits, key=lambda p: out.quality[j, p] - price * out.energy_j[j, p])
            option[j] = o
            model = int(params.option_model[o])
        used[(t, model)] = used.get((t, model), 0.0) + out.tokens[j, o]
    repaired = Plan(option, slot)
    return None if _queue_overflows(params, record, repaired) else repaired


def _queue_overflows(params: Params, record: EpisodeRecord, plan: Plan) -> bool:
    """Whether the tasks waiting at some slot's opening plus its arrivals exceed the queue."""
    horizon = params.horizon_slots
    leaves = np.where(plan.option == LEAVE, horizon, plan.slot)  # slot in which each task leaves the queue
    arrivals = np.bincount(record.task_slot, minlength=horizon)
    for t in range(1, horizon):
        waiting = int(np.sum((record.task_slot < t) & (leaves >= t)))
        if waiting + arrivals[t] > params.queue_capacity:
            return True
    return False


def _n_int(program: _Program) -> int:
    return int(sum(program.integer))


def _run(program: _Program, time_limit_s: float, mip_rel_gap: float, relax: bool = False):  # type: ignore[no-untyped-def]
    n = len(program.cost)
    a = sparse.csr_array((program.vals, (program.rows, program.cols)), shape=(len(program.row_lo), n))
    integrality = np.zeros(n) if relax else np.asarray(program.integer)
    return milp(
        c=np.asarray(program.cost),
        integrality=integrality,
        bounds=Bounds(np.asarray(program.lower), np.asarray(program.upper)),
        constraints=LinearConstraint(a, np.asarray(program.row_lo), np.asarray(program.row_hi)),
        options={"time_limit": time_limit_s, "mip_rel_gap": mip_rel_gap, "presolve": True, "disp": False},
    )


def _candidate_options(params: Params, out: TaskOutcomes, j: int) -> list[int]:
    """Options worth considering for task ``j``: runnable at all (worst case within a model's slot capacity),
    and not dominated by another budget of the same model with the same tokens (hence the same energy), no
    less reward and no larger worst case (swapping it for its dominator keeps every constraint and the
    reward). An option with more tokens is never dropped: spending energy can pay when it would be wasted."""
    capacity = params.model_capacity_tokens[params.option_model]
    keep = []
    for o in range(params.n_options):
        if out.worst_tokens[j, o] > capacity[o]:
            continue
        dominated = any(
            params.option_model[p] == params.option_model[o]
            and out.tokens[j, p] == out.tokens[j, o]
            and out.worst_tokens[j, p] <= out.worst_tokens[j, o]
            and out.quality[j, p] >= out.quality[j, o]
            and (p < o or out.quality[j, p] > out.quality[j, o] or out.worst_tokens[j, p] < out.worst_tokens[j, o])
            for p in range(params.n_options)
            if p != o and out.worst_tokens[j, p] <= capacity[p]
        )
        if not dominated:
            keep.append(o)
    return keep


def _build(
    params: Params, record: EpisodeRecord, out: TaskOutcomes, exact_pairs: set[tuple[int, int]]
) -> tuple[_Program, list[list[tuple[int, int, int]]]]:
    """The program (minimising minus the reward); ``task_vars[j]`` lists ``(column, option, slot)`` per task."""
    p = _Program()
    horizon = params.horizon_slots
    wait, drop = params.reward_waiting_per_task, params.reward_drop
    price_auxiliary = record.auxiliary_per_kwh / KJ_PER_KWH  # reward per kJ, per slot (carbon and price weights)
    price_waste = params.reward_waste_per_kwh / KJ_PER_KWH
    slack = params.class_slack[record.task_class]
    energy = out.energy_j / JOULES_PER_KJ

    # Task columns: x[j, o, t] (dispatch), y[j] (left deferred at the end), z[j] (dropped at the end of slack).
    task_vars: list[list[tuple[int, int, int]]] = []
    by_slot: list[list[tuple[int, int, int]]] = [[] for _ in range(horizon)]  # (column, task, option)
    max_demand = np.full(horizon, params.idle_j / JOULES_PER_KJ)
    for j in range(record.n_tasks):
        a = int(record.task_slot[j])
        last = a + int(slack[j])
        options = _candidate_options(params, out, j)
        columns = []
        for t in range(a, min(last, horizon - 1) + 1):
            for o in options:
                c = p.var(-(out.quality[j, o] - wait * (t - a)), 0.0, 1.0, integer=True)
                columns.append((c, o, t))
                by_slot[t].append((c, j, o))
            max_demand[t] += max(energy[j, o] for o in options) if options else 0.0
        if last >= horizon:
            columns.append((p.var(wait * (horizon - a), 0.0, 1.0, integer=True), LEAVE, -1))
        else:
            columns.append((p.var(drop + wait * slack[j], 0.0, 1.0, integer=True), DROP, last))
        task_vars.append(columns)
        p.row([(c, 1.0) for c, _, _ in columns], 1.0, 1.0)

    # Capacity per (slot, model): total tokens within the slot's capacity (aggregate rows, necessary for
    # validity), plus the exact mask rows of queue order for the pairs in `exact_pairs`.
    capacity = params.model_capacity_tokens
    for t in range(horizon):
        for i in range(params.n_models):
            if not np.isfinite(capacity[i]):
                continue
            terms = [(c, out.tokens[j, o]) for c, j, o in by_slot[t] if params.option_model[o] == i]
            if terms and sum(v for _, v in terms) > capacity[i] - _max_worst(out, by_slot[t], params, i):
                p.row(terms, -np.inf, capacity[i])
            if (t, i) in exact_pairs:
                _exact_mask_rows(p, params, out, by_slot[t], i)

    # Queue: tasks deferred into slot t plus its arrivals fit the queue (no arrival rejected; see record.py).
    arrivals = np.bincount(record.task_slot, minlength=horizon)
    for t in range(1, horizon):
        waiting_tasks = [j for j in range(record.n_tasks) if record.task_slot[j] < t <= record.task_slot[j] + slack[j]]
        if len(waiting_tasks) + arrivals[t] <= params.queue_capacity:
            continue
        terms = [(c, -1.0) for j in waiting_tasks for c, o, s in task_vars[j] if o >= 0 and s < t]
        p.row(terms, -np.inf, params.queue_capacity - arrivals[t] - len(waiting_tasks))

    # Slot balance: demand - baseline = v - u, surplus u and deficit v (kJ).
    baseline = record.supply_j[:horizon] / JOULES_PER_KJ
    s = params.storage
    storage = s.capacity_j > 0
    cap_kj = s.capacity_j / JOULES_PER_KJ
    level = p.var(0.0, s.initial_j / JOULES_PER_KJ, s.initial_j / JOULES_PER_KJ) if storage else -1  # S_0 fixed
    for t in range(horizon):
        big = max(baseline[t], max_demand[t]) + 1.0
        price_aux = float(price_auxiliary[t])
        u = p.var(price_waste, 0.0, big)
        v = p.var(price_aux, 0.0, big)
        p.row([(c, energy[j, o]) for c, j, o in by_slot[t]] + [(u, 1.0), (v, -1.0)],
              baseline[t] - params.idle_j / JOULES_PER_KJ, baseline[t] - params.idle_j / JOULES_PER_KJ)  # fmt: skip
        if not storage:
            continue  # waste = u, auxiliary = v: with non-negative prices the optimum takes u * v = 0
        level = _storage_rule(p, params, level, u, v, big, cap_kj, price_aux, price_waste)
    return p, task_vars


def _max_worst(out: TaskOutcomes, column: list[tuple[int, int, int]], params: Params, model: int) -> float:
    worst = [out.worst_tokens[j, o] for _, j, o in column if params.option_model[o] == model]
    return max(worst, default=0.0)


def _exact_mask_rows(
    p: _Program, params: Params, out: TaskOutcomes, column: list[tuple[int, int, int]], model: int
) -> None:
    """Each task's dispatch on ``model`` needs its worst case to fit after the tokens of the tasks before it:
    ``sum_{j' < j} tokens x[j'] + worst_j x[j] <= capacity`` (exact: if ``x[j] = 0`` the prefix fits anyway)."""
    on_model = sorted(((j, c, o) for c, j, o in column if params.option_model[o] == model))
    tasks = sorted({j for j, _, _ in on_model})
    for j in tasks:
        prefix = [(c, out.tokens[k, o]) for k, c, o in on_model if k < j]
        own = [(c, out.worst_tokens[k, o]) for k, c, o in on_model if k == j]
        p.row(prefix + own, -np.inf, params.model_capacity_tokens[model])


def _storage_rule(
    p: _Program,
    params: Params,
    level: int,
    u: int,
    v: int,
    big: float,
    cap_kj: float,
    price_aux: float,
    price_waste: float,
) -> int:
    """The env's storage rule for one slot as mixed-integer rows; returns the column of the next level.

    ``charge = min(u, max_charge, (C - S) / eta_c)``, ``discharge = min(v, max_discharge, S * eta_d)``,
    ``u * v = 0`` (binary ``delta``), each ``min`` exact through one binary per argument. Waste is ``u - charge``
    and auxiliary ``v - discharge``, so charge and discharge carry minus those prices.
    """
    s = params.storage
    eta_c, eta_d = s.charge_efficiency, s.discharge_efficiency
    max_c, max_d = s.max_charge_j / JOULES_PER_KJ, s.max_discharge_j / JOULES_PER_KJ
    ch = p.var(-price_waste, 0.0, min(max_c, cap_kj / eta_c, big))
    dis = p.var(-price_aux, 0.0, min(max_d, cap_kj * eta_d, big))
    nxt = p.var(0.0, 0.0, cap_kj)
    p.row([(nxt, 1.0), (level, -1.0), (ch, -eta_c), (dis, 1.0 / eta_d)], 0.0, 0.0)
    delta = p.var(0.0, 0.0, 1.0, integer=True)  # 1: surplus slot
    p.row([(u, 1.0), (delta, -big)], -np.inf, 0.0)
    p.row([(v, 1.0), (delta, big)], -np.inf, big)
    # charge <= each argument, and >= the one chosen by beta
    p.row([(ch, 1.0), (u, -1.0)], -np.inf, 0.0)
    p.row([(ch, eta_c), (level, 1.0)], -np.inf, cap_kj)
    betas = [p.var(0.0, 0.0, 1.0, integer=True) for _ in range(3 if np.isfinite(max_c) else 2)]
    p.row([(b, 1.0) for b in betas], 1.0, 1.0)
    p.row([(u, 1.0), (ch, -1.0), (betas[0], big)], -np.inf, big)  # ch >= u - big (1 - beta0)
    m_room = cap_kj / eta_c
    p.row([(level, -1.0 / eta_c), (ch, -1.0), (betas[1], m_room)], -np.inf, m_room - cap_kj / eta_c)
    if np.isfinite(max_c):
        p.row([(ch, -1.0), (betas[2], max_c)], -np.inf, 0.0)  # ch >= max_c - max_c (1 - beta2)
    # discharge likewise
    p.row([(dis, 1.0), (v, -1.0)], -np.inf, 0.0)
    p.row([(dis, 1.0), (level, -eta_d)], -np.inf, 0.0)
    gammas = [p.var(0.0, 0.0, 1.0, integer=True) for _ in range(3 if np.isfinite(max_d) else 2)]
    p.row([(g, 1.0) for g in gammas], 1.0, 1.0)
    p.row([(v, 1.0), (dis, -1.0), (gammas[0], big)], -np.inf, big)
    m_avail = cap_kj * eta_d
    p.row([(level, eta_d), (dis, -1.0), (gammas[1], m_avail)], -np.inf, m_avail)
    if np.isfinite(max_d):
        p.row([(dis, -1.0), (gammas[2], max_d)], -np.inf, 0.0)
    return nxt


def _repair_drops(params: Params, record: EpisodeRecord, plan: Plan, out: TaskOutcomes) -> Plan:
    """Replace each planned drop by the best option that its slot's masks allow, if any.

    The program may drop a task at the end of its slack (the env does so when no option fits), but it does
    not model *when* the env drops: only when nothing fits. A time-limited incumbent can drop a task that
    some option would still run; the env would then ask about it. Such a drop is replaced by the option
    that earns the most (the new plan's exact value), keeping every mask valid.
    """
    for j in np.flatnonzero(plan.option == DROP):
        best: tuple[float, Plan] | None = None
        for o in _candidate_options(params, out, int(j)):
            option, slot = plan.option.copy(), plan.slot.copy()
            option[j] = o
            trial = Plan(option, slot)
            if mask_violations(params, record, trial, out):
                continue
            total = plan_value(params, record, trial, out).total
            if best is None or total > best[0]:
                best = (total, trial)
        if best is not None:
            plan = best[1]
    return plan


def _plan(record: EpisodeRecord, task_vars: list[list[tuple[int, int, int]]], x: np.ndarray) -> Plan:
    option = np.empty(record.n_tasks, np.int64)
    slot = np.empty(record.n_tasks, np.int64)
    for j, columns in enumerate(task_vars):
        _, o, t = max(columns, key=lambda entry: x[entry[0]])
        option[j], slot[j] = o, t
    return Plan(option, slot)
