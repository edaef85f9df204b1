"""The forecast-MPC program: a linear program over the next slots with what an operator knows.

Each slot the router plans the next ``H`` slots as a fluid: ``n[h, k, o]`` tasks of decision type ``k`` (class
and difficulty index) on option ``o`` in slot ``h``, with the expected arrivals of each type (the scenario's
rate, daily profile and class mix; for the current slot the tasks actually left to decide), expected energy,
tokens and accuracy of each option, the supply as observed (this slot), forecast (the env's noisy forecast)
or expected (the scenario's mean daily shape beyond the forecast), and storage as a linear store with its
efficiencies and power limits. It maximises expected quality minus the auxiliary and waste penalties. Only
the current slot's mix is used (:class:`agents.policies.mpc.ForecastMPC`); the program is solved again next
slot. The program does not defer tasks (docs/headroom.md, "Forecast MPC").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from agents.headroom import core_access
from lrm_gym.core.params import Params
from lrm_gym.core.tables import SlotColumn
from lrm_gym.core.units import JOULES_PER_KJ, KJ_PER_KWH


@dataclass(frozen=True)
class FluidTables:
    """Per decision type ``k`` (rows of ``cls``, ``index``): weight, and per option mean energy (kJ), mean tokens,
    reward at dispatch, and whether the option can run it at all."""

    cls: np.ndarray
    index: np.ndarray
    weight: np.ndarray
    energy_kj: np.ndarray  # (K, O)
    tokens: np.ndarray  # (K, O)
    quality: np.ndarray  # (K, O)
    allowed: np.ndarray  # (K, O) bool


def fluid_tables(params: Params) -> FluidTables:
    if params.difficulty_visible:
        dist = params.difficulty_distribution()
        cls, index = np.nonzero(dist)
        weight = dist[cls, index]
    else:
        cls = np.arange(params.n_classes)
        index = np.full(cls.size, params.hidden_difficulty_index)
        weight = params.class_weight.copy()
    energy = params.energy_mean_j[cls, index]
    tokens = energy / params.model_joules_per_token[params.option_model][None, :]
    quality = params.class_value[cls][:, None] * params.accuracy[cls, index]
    allowed = params.worst_tokens[cls] <= params.model_capacity_tokens[params.option_model][None, :]
    return FluidTables(cls, index, weight, energy / JOULES_PER_KJ, tokens, quality, allowed)


def check_horizons(horizon: int | None, max_horizon: int) -> None:
    """The MPC routers' horizon arguments: ``horizon`` (None: the default) and ``max_horizon`` at least one slot."""
    if horizon is not None and horizon < 1:
        raise ValueError(f"horizon must be >= 1 slot, got {horizon}")
    if max_horizon < 1:
        raise ValueError(f"max_horizon must be >= 1 slot, got {max_horizon}")


def planning_horizon(params: Params, slot: int, horizon: int | None, max_horizon: int) -> int:
    """Slots the program plans from ``slot``: ``horizon``, by default to the episode's end with storage and one
    slot without (the program's slots are then independent, as it never defers), capped by the slots left and
    ``max_horizon``."""
    remaining = params.horizon_slots - slot
    default = remaining if params.storage.capacity_j > 0 else 1
    return min(horizon or default, remaining, max_horizon)


def arrival_rate_per_slot(params: Params) -> np.ndarray:
    """Expected arrivals per slot of the episode (rate times the daily profile, docs/model.md section 5): the
    env's own per-slot table, so the planner and the simulator share the slot-to-hour arithmetic."""
    return params.kernel.slot_tab[:, SlotColumn.ARRIVAL_RATE].copy()


@dataclass(frozen=True)
class SlotPlan:
    mix: np.ndarray  # (K, O) fraction of each type's tasks on each option in the current slot
    demand_kj: np.ndarray  # (H,) planned demand per slot
    storage_kj: np.ndarray  # (H + 1,) planned level


def plan_slots(
    params: Params,
    tables: FluidTables,
    tasks_now: float,
    committed_j: float,
    supply_j: np.ndarray,
    storage_j: float,
    arrivals: np.ndarray,
    auxiliary_per_kwh: float | None = None,
) -> SlotPlan:
    """Solve the program for the current slot (``h = 0``) and ``len(supply_j) - 1`` slots after it.

    Args:
        tasks_now: tasks left to decide in the current slot.
        committed_j: demand already committed in the current slot (idle energy included).
        supply_j: supply of each planned slot: observed, forecast, then expected.
        storage_j: storage level now.
        arrivals: expected arrivals of the slots after the current one (``len(supply_j) - 1``).
        auxiliary_per_kwh: the reward charged per kWh of auxiliary energy in every planned slot (default
            ``reward.auxiliary_per_kwh``; :func:`lrm_gym.core.grid.auxiliary_weight_per_kwh` adds the carbon and
            price weights).
    """
    horizon = supply_j.size
    k_types, n_opt = tables.energy_kj.shape
    counts = np.concatenate([[tasks_now], arrivals])[:, None] * tables.weight[None, :]  # (H, K)
    n_flow = horizon * k_types * n_opt
    s = params.storage
    storage = s.capacity_j > 0
    # columns: flows, then per slot aux, waste (and charge, discharge, level after) ...
    per_slot = 5 if storage else 2
    n_vars = n_flow + horizon * per_slot
    flow = np.arange(n_flow).reshape(horizon, k_types, n_opt)
    aux = n_flow + np.arange(horizon) * per_slot
    waste = aux + 1
    cost = np.zeros(n_vars)
    cost[:n_flow] = -np.broadcast_to(tables.quality, (horizon, k_types, n_opt)).ravel()
    cost[aux] = (params.reward_auxiliary_per_kwh if auxiliary_per_kwh is None else auxiliary_per_kwh) / KJ_PER_KWH
    cost[waste] = params.reward_waste_per_kwh / KJ_PER_KWH
    upper = np.full(n_vars, np.inf)
    upper[:n_flow] = np.where(np.broadcast_to(tables.allowed, flow.shape), np.inf, 0.0).ravel()

    eq_rows, eq_cols, eq_vals, eq_rhs = [], [], [], []
    row = 0
    # every expected task of each type is routed to some option
    for h in range(horizon):
        for k in range(k_types):
            eq_rows += [row] * n_opt
            eq_cols += flow[h, k].tolist()
            eq_vals += [1.0] * n_opt
            eq_rhs.append(counts[h, k])
            row += 1
    # balance: task energy + committed/idle + charge + waste = supply + discharge + aux
    base = np.full(horizon, params.idle_j / JOULES_PER_KJ)
    base[0] = committed_j / JOULES_PER_KJ
    for h in range(horizon):
        cols = [*flow[h].ravel().tolist(), int(aux[h]), int(waste[h])]
        vals = [*tables.energy_kj.ravel().tolist(), -1.0, 1.0]
        if storage:
            ch, dis = aux[h] + 2, aux[h] + 3
            cols += [int(ch), int(dis)]
            vals += [1.0, -1.0]
        eq_rows += [row] * len(cols)
        eq_cols += cols
        eq_vals += vals
        eq_rhs.append(supply_j[h] / JOULES_PER_KJ - base[h])
        row += 1
    if storage:
        cap = s.capacity_j / JOULES_PER_KJ
        for h in range(horizon):
            ch, dis, level = aux[h] + 2, aux[h] + 3, aux[h] + 4
            upper[ch] = s.max_charge_j / JOULES_PER_KJ
            upper[dis] = s.max_discharge_j / JOULES_PER_KJ
            upper[level] = cap
            # level_h+1 = level_h + eta_c ch - dis / eta_d
            cols = [int(level), int(ch), int(dis)]
            vals = [1.0, -s.charge_efficiency, 1.0 / s.discharge_efficiency]
            rhs = storage_j / JOULES_PER_KJ
            if h > 0:
                cols.append(int(aux[h - 1] + 4))
                vals.append(-1.0)
                rhs = 0.0
            eq_rows += [row] * len(cols)
            eq_cols += cols
            eq_vals += vals
            eq_rhs.append(rhs)
            row += 1
    a_eq = sparse.csr_array((eq_vals, (eq_rows, eq_cols)), shape=(row, n_vars))

    ub_rows, ub_cols, ub_vals, ub_rhs = [], [], [], []
    r = 0
    for h in range(horizon):
        for i in range(params.n_models):
            if not np.isfinite(params.model_capacity_tokens[i]):
                continue
            on_model = params.option_model == i
            ub_rows += [r] * int(k_types * on_model.sum())
            ub_cols += flow[h][:, on_model].ravel().tolist()
            ub_vals += tables.tokens[:, on_model].ravel().tolist()
            ub_rhs.append(params.model_capacity_tokens[i])
            r += 1
    a_ub = sparse.csr_array((ub_vals, (ub_rows, ub_cols)), shape=(r, n_vars)) if r else None
    result = linprog(
        cost,
        A_ub=a_ub,
        b_ub=np.asarray(ub_rhs) if r else None,
        A_eq=a_eq,
        b_eq=np.asarray(eq_rhs),
        bounds=np.stack([np.zeros(n_vars), upper], axis=1),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"forecast-MPC program failed: {result.message}")
    x = result.x
    now = x[flow[0]]
    totals = now.sum(axis=1, keepdims=True)
    mix = np.where(
        totals > 0, now / np.where(totals > 0, totals, 1.0), tables.allowed / tables.allowed.sum(1, keepdims=True)
    )
    demand = base + np.array([x[flow[h]].ravel() @ tables.energy_kj.ravel() for h in range(horizon)])
    levels = np.concatenate([[storage_j / JOULES_PER_KJ], x[aux + 4]]) if storage else np.zeros(horizon + 1)
    return SlotPlan(mix, demand, levels)


def expected_supply_ahead(
    params: Params, slot: int, baseline_j: float, forecast_j: np.ndarray, horizon: int
) -> np.ndarray:
    """Supply of slots ``slot .. slot + horizon - 1``: observed now, the env's forecast, then the scenario mean."""
    mean = core_access.mean_supply_j(params)
    out = mean[slot : slot + horizon].copy()
    out[0] = baseline_j
    n = min(forecast_j.size, horizon - 1)
    out[1 : 1 + n] = forecast_j[:n]
    return out
