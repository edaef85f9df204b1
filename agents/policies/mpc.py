"""The forecast-MPC router: re-plan the next slots each slot with what an operator knows, apply the first.

See :mod:`agents.headroom.mpc` for the program and docs/headroom.md ("Forecast MPC") for what it uses.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from agents.headroom.mpc import (
    SlotPlan,
    arrival_rate_per_slot,
    check_horizons,
    expected_supply_ahead,
    fluid_tables,
    plan_slots,
    planning_horizon,
)
from agents.policies.base import AnalyticPolicy
from lrm_gym.core.grid import auxiliary_weight_per_kwh
from lrm_gym.core.params import Params
from lrm_gym.core.tables import SlotColumn
from lrm_gym.core.units import SECONDS_PER_HOUR

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0  # Weyl sequence step: positions in a slot spread evenly over [0, 1)
_CACHE_SLOTS = 256


class ForecastMPC(AnalyticPolicy):
    """Each slot, solve a linear program over the next ``horizon`` slots (default: to the end of the episode,
    at most ``max_horizon``, with storage; one slot without, where the program's slots are independent) from
    the observation (supply now, the noisy forecast, storage, committed demand, tasks left), the scenario's
    known parameters (arrival rate and daily profile, class mix, mean supply shape, reward weights, storage
    limits) and the option moments. Auxiliary energy is charged at ``auxiliary_per_kwh`` plus the carbon and
    price weights at this slot's observed price and carbon intensity (the ``grid`` key with a carbon series,
    else the scenario's hourly value), held over the horizon: the carbon forecasts are not used. This slot's
    tasks follow the program's option mix for their decision type: the task with ``p`` tasks left in the slot
    takes the option at ``frac(p * 0.618...)`` of the mix's cumulative distribution (a low-discrepancy split, no
    random draws). Never defers.

    Stateless between calls apart from a cache of plans keyed by the slot's observation (hour, baseline,
    storage, forecast), so batches from a vector env work and one env's decisions agree one by one and
    batched. The slot is read off the hour of day, so episodes may last at most 24 hours.
    """

    summary: ClassVar[str] = "re-plans the next slots each slot (an LP on forecast and mean supply), applies the first"

    def __init__(self, params: Params, horizon: int | None = None, max_horizon: int = 96) -> None:
        super().__init__(params)
        check_horizons(horizon, max_horizon)
        if params.horizon_slots * params.slot_seconds > 24 * SECONDS_PER_HOUR:
            raise ValueError(
                "ForecastMPC reads the slot off the hour of day: episodes longer than 24 h are not supported"
            )
        self.horizon, self.max_horizon = horizon, max_horizon
        self.tables = fluid_tables(params)
        self._type = np.full((params.n_classes, params.max_difficulty + 2), -1)
        self._type[self.tables.cls, self.tables.index] = np.arange(self.tables.cls.size)
        self._arrivals = arrival_rate_per_slot(params)
        self._slot_hours = params.slot_seconds / SECONDS_PER_HOUR
        self._plans: dict[tuple[float, ...], SlotPlan] = {}
        self.plans_solved = 0

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Any]:
        if episode_start is not None and bool(np.any(episode_start)):
            self._plans.clear()
        return super().predict(observation, state, episode_start, deterministic, action_masks)

    def _act(self, obs: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
        cls, index = self._decision_type(obs)
        actions = np.zeros(mask.shape[0], np.int64)
        for row in range(mask.shape[0]):
            feasible = mask[row, 1:]
            if not feasible.any():
                continue  # the env settles a task no option can run without asking
            plan = self._plan({key: value[row] for key, value in obs.items()})
            k = int(self._type[cls[row], index[row]])
            mix = np.where(feasible, plan.mix[k], 0.0)
            if mix.sum() <= 0.0:  # the planned options are masked: the feasible one closest in planned energy
                target = float(plan.mix[k] @ self.tables.energy_kj[k])
                gap = np.where(feasible, np.abs(self.tables.energy_kj[k] - target), np.inf)
                actions[row] = 1 + int(np.argmin(gap))
                continue
            u = (float(obs["queue"][row, self._layout.queue.left]) * _GOLDEN) % 1.0
            cdf = np.cumsum(mix) / mix.sum()
            actions[row] = 1 + min(int(np.searchsorted(cdf, u, side="right")), int(np.flatnonzero(mix)[-1]))
        return actions

    def _auxiliary_weight(self, obs: dict[str, np.ndarray], price: float, slot: int) -> float:
        """The reward per kWh of auxiliary energy at this slot's observed price and carbon intensity."""
        grid = self._layout.grid
        if "grid" in obs and grid is not None:
            carbon = float(obs["grid"][grid.carbon]) * 1000.0  # observed in kg/kWh
        else:
            carbon = float(self.params.kernel.slot_tab[slot, SlotColumn.CARBON_G_PER_KWH])
        return auxiliary_weight_per_kwh(self.params, price, carbon)

    def _plan(self, obs: dict[str, np.ndarray]) -> SlotPlan:
        """The plan of the slot this observation is in, solved at the slot's first decision."""
        params = self.params
        energy = obs["energy"].astype(np.float64)
        # everything in the energy block but the committed demand is constant within a slot
        parts = self._layout.energy
        key = tuple(map(float, np.delete(energy, parts.committed)))
        if "grid" in obs:
            key += tuple(map(float, obs["grid"]))
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        unit = params.slot_energy_unit_j
        hour = math.atan2(energy[parts.sin_hour], energy[parts.cos_hour]) * 24.0 / (2.0 * math.pi)
        slot = min(round(((hour - params.start_hour) % 24.0) / self._slot_hours), params.horizon_slots - 1)
        horizon = planning_horizon(params, slot, self.horizon, self.max_horizon)
        supply = expected_supply_ahead(
            params, slot, energy[parts.baseline] * unit, energy[parts.forecast] * unit, horizon
        )
        plan = plan_slots(
            params,
            self.tables,
            tasks_now=float(obs["queue"][self._layout.queue.left]),
            committed_j=energy[parts.committed] * unit,
            supply_j=supply,
            storage_j=energy[parts.storage] * unit,
            arrivals=self._arrivals[slot + 1 : slot + horizon],
            auxiliary_per_kwh=self._auxiliary_weight(obs, float(energy[parts.price]), slot),
        )
        if len(self._plans) >= _CACHE_SLOTS:
            self._plans.clear()
        self._plans[key] = plan
        self.plans_solved += 1
        return plan
