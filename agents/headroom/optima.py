"""The hindsight optimum of a scenario over a list of evaluation episodes (one MILP per episode).

This is what a benchmark's ``optimum`` run computes (agents/benchmark/runs.py); the gaps of the policies to it
are computed by :mod:`agents.benchmark.headroom`.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from agents.benchmark.intervals import mean_ci
from agents.headroom.milp import DEFAULT_TIME_LIMIT_S, Information, solve
from agents.headroom.record import params_for, record_episode


@dataclass(frozen=True)
class EpisodeOptimum:
    seed: int
    optimum: float  # return of the best plan found (replays exactly through the env)
    upper_bound: float  # no sequence of actions earns more on this episode
    mip_gap: float
    status: str
    solve_seconds: float
    n_tasks: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScenarioOptimum:
    scenario: str
    env_id: str
    information: str
    time_limit_s: float
    episodes: tuple[EpisodeOptimum, ...]

    def by_seed(self) -> dict[int, EpisodeOptimum]:
        return {e.seed: e for e in self.episodes}

    def summary(self) -> dict[str, float]:
        """Mean and CI half-width of the optimum and the bound over episodes, the worst MIP gap, solve times."""
        opt, opt_ci = mean_ci([e.optimum for e in self.episodes])
        bound, bound_ci = mean_ci([e.upper_bound for e in self.episodes])
        seconds = [e.solve_seconds for e in self.episodes]
        return {
            "optimum": opt,
            "optimum_ci": opt_ci,
            "upper_bound": bound,
            "upper_bound_ci": bound_ci,
            "max_mip_gap": max(e.mip_gap for e in self.episodes),
            "median_solve_seconds": statistics.median(seconds),
            "max_solve_seconds": max(seconds),
            "proven_optimal": sum(e.status == "optimal" for e in self.episodes),
            "n_episodes": len(self.episodes),
        }


def scenario_optimum(
    scenario: str,
    env_id: str,
    seeds: Sequence[int],
    overrides: Mapping[str, Any] | None = None,
    information: Information = "hindsight",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    branch_and_bound: bool = True,
) -> ScenarioOptimum:
    """Record and solve each evaluation episode of a scenario (see :func:`agents.headroom.milp.solve`)."""
    params = params_for(env_id, overrides)
    episodes = []
    for seed in seeds:
        record, _ = record_episode(env_id, seed, overrides)
        start = time.perf_counter()
        opt = solve(params, record, information, time_limit_s, branch_and_bound=branch_and_bound)
        episodes.append(
            EpisodeOptimum(
                seed,
                opt.episode_return,
                opt.upper_bound,
                opt.mip_gap,
                opt.status,
                time.perf_counter() - start,
                record.n_tasks,
            )
        )
    return ScenarioOptimum(scenario, env_id, information, time_limit_s, tuple(episodes))


def relative_gap(optimum: float, value: float) -> float:
    """``(optimum - value) / |optimum|`` (NaN for an optimum of 0)."""
    return (optimum - value) / abs(optimum) if optimum != 0 else math.nan
