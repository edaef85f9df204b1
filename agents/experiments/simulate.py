"""Batched Monte Carlo of a policy on the simulator core, recorded slot by slot (for theory experiments).

The single env advances one decision per call; comparing simulation with :mod:`lrm_gym.theory` needs tens of
thousands of slots. This module drives the same core transition functions the env uses
(:mod:`lrm_gym.core.dynamics`) on a batch of ``n_envs`` independent episodes at once, asking the policy for a
batch of actions per decision, and records each slot's energy balance. Same core, same rules: only the loop
is batched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lrm_gym.core import dynamics
from lrm_gym.core.params import Params, build_params
from lrm_gym.core.state import COUNTERS, C, State
from lrm_gym.scenarios.loader import load_scenario

SLOT_FIELDS = ("baseline_j", "demand_j", "auxiliary_j", "waste_j", "charge_j", "discharge_j", "tasks_arrived")
"""Per-slot records; energies are those of the slot that closed, ``tasks_arrived`` those of the slot opened."""


@dataclass(frozen=True)
class SlotSeries:
    """Per-slot records ``(n_envs, horizon_slots)`` and episode totals ``(n_envs, len(COUNTERS))``.

    ``merged_slots`` counts slots that closed in the same decision as the one before them (slots with no task to
    decide); their energies are summed into the later slot, so per-slot statistics are exact only when it is 0.
    Totals and rates are always exact.
    """

    baseline_j: np.ndarray
    demand_j: np.ndarray
    auxiliary_j: np.ndarray
    waste_j: np.ndarray
    charge_j: np.ndarray
    discharge_j: np.ndarray
    tasks_arrived: np.ndarray
    storage_start_j: np.ndarray
    storage_end_j: np.ndarray
    totals: np.ndarray
    merged_slots: int

    def total(self, name: str) -> np.ndarray:
        """Episode total of counter ``name`` per env, ``(n_envs,)``."""
        return self.totals[:, C[name]]

    def rate(self, name: str) -> tuple[float, float]:
        """Mean per-slot value of ``name`` and its standard error across the independent episodes."""
        per_env = self.total(name) / self.baseline_j.shape[1]
        return float(per_env.mean()), float(per_env.std(ddof=1) / np.sqrt(per_env.size))


def simulate(
    policy: Any,
    scenario: str | Path | Params = "critical",
    overrides: Mapping[str, Any] | None = None,
    n_envs: int = 64,
    seed: int = 0,
) -> SlotSeries:
    """Run ``n_envs`` independent episodes of ``policy`` (SB3 ``predict``, batched) and record every slot.

    Args:
        policy: anything whose ``predict(obs_batch, action_masks=mask_batch)`` returns ``(actions, state)``;
            a callable ``params -> policy`` is built first (e.g. ``AccuracyTarget`` or a ``functools.partial``).
        scenario: a scenario name, YAML path, or already built :class:`Params`.
        overrides: scenario overrides (ignored when ``scenario`` is :class:`Params`).
        n_envs: episodes run side by side.
        seed: episode ``i`` draws from the random stream seeded ``seed + i`` (as a vector env reset with it).
    """
    params = scenario if isinstance(scenario, Params) else build_params(load_scenario(scenario, overrides))
    if not hasattr(policy, "predict"):
        policy = policy(params)
    if n_envs < 2:
        raise ValueError(f"n_envs must be >= 2 (standard errors need two episodes), got {n_envs}")
    state = State.allocate(params, n_envs)
    rows = np.arange(n_envs)
    series = {name: np.zeros((n_envs, params.horizon_slots)) for name in SLOT_FIELDS}
    merged = 0

    def record() -> int:
        closed = state.step[:, C["slots_closed"]]
        done = np.flatnonzero(closed > 0)
        last = state.slot[done] - 1
        for name in SLOT_FIELDS[:-1]:
            series[name][done, last] += state.step[done, C[name]]
        # arrivals of a step belong to the slot it opened (the current one), not to the slot it closed
        live = np.flatnonzero(state.truncated == 0)
        series["tasks_arrived"][live, state.slot[live]] += state.step[live, C["tasks_arrived"]]
        return int(np.sum(closed[done] - 1))

    dynamics.seed_rows(state, rows, seed + rows)
    dynamics.reset_rows(params, state, rows)
    merged += record()
    while not state.truncated.all():
        mask = dynamics.action_mask(state, rows)
        actions, _ = policy.predict(dynamics.observe(params, state, rows), action_masks=mask)
        actions = np.where(state.truncated > 0, 0, np.asarray(actions, dtype=np.int64).reshape(n_envs))
        dynamics.step_rows(params, state, rows, actions)
        merged += record()
    return SlotSeries(
        **series,
        storage_start_j=np.full(n_envs, params.storage.initial_j),
        storage_end_j=state.storage_j.copy(),
        totals=state.totals.copy(),
        merged_slots=merged,
    )


__all__ = ["COUNTERS", "SlotSeries", "simulate"]
