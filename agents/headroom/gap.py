"""The headroom of a benchmark: per scenario the hindsight optimum over its evaluation episodes, each policy's
gap to it, and a figure.

For the benchmark report (agents/benchmark) these take its objects as they are: :class:`RunResult` (the
episodes of one run, with their seeds) and :class:`Row` (a line of the results table). The gap of a return
``R`` on an episode whose optimum is ``R*`` is ``(R* - R) / |R*|``; it is computed against the best plan found
(``gap``) and against HiGHS's upper bound (``gap_to_bound``), which bracket the gap to the true optimum when a
solve stops at its time limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.benchmark.runs import RunResult
from agents.benchmark.statistics import Row, mean_ci
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
        """Mean and CI half-width of the optimum and the bound over episodes, and the worst MIP gap and time."""
        opt, opt_ci = mean_ci([e.optimum for e in self.episodes])
        bound, bound_ci = mean_ci([e.upper_bound for e in self.episodes])
        return {
            "optimum": opt,
            "optimum_ci": opt_ci,
            "upper_bound": bound,
            "upper_bound_ci": bound_ci,
            "max_mip_gap": max(e.mip_gap for e in self.episodes),
            "max_solve_seconds": max(e.solve_seconds for e in self.episodes),
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


def optima_for_results(
    results: Sequence[RunResult], time_limit_s: float = DEFAULT_TIME_LIMIT_S
) -> dict[str, ScenarioOptimum]:
    """The optimum of every scenario of a benchmark, over the evaluation episodes its runs used.

    Raises:
        ValueError: when two runs of one scenario used different env ids, overrides or seeds (no common optimum).
    """
    episodes: dict[str, tuple[str, tuple[int, ...], str]] = {}
    overrides: dict[str, dict[str, Any]] = {}
    for r in results:
        key = (r.spec.env_id, tuple(r.spec.eval_seeds), repr(sorted(r.spec.overrides.items())))
        if episodes.setdefault(r.spec.scenario, key) != key:
            raise ValueError(f"scenario {r.spec.scenario!r}: runs differ in env id, overrides or evaluation seeds")
        overrides[r.spec.scenario] = r.spec.overrides
    return {
        scenario: scenario_optimum(scenario, env, list(seeds), overrides[scenario] or None, time_limit_s=time_limit_s)
        for scenario, (env, seeds, _) in episodes.items()
    }


@dataclass(frozen=True)
class GapRow:
    """One (scenario, policy) gap, mean and CI half-width across the same units as the results table's row."""

    scenario: str
    label: str
    n_units: int
    gap: float
    gap_ci: float
    gap_to_bound: float
    gap_to_bound_ci: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def relative_gap(optimum: float, value: float) -> float:
    """``(optimum - value) / |optimum|`` (NaN for an optimum of 0)."""
    return (optimum - value) / abs(optimum) if optimum != 0 else math.nan


def policy_gap(results: Sequence[RunResult], optimum: ScenarioOptimum) -> GapRow:
    """The gap of one (scenario, label)'s runs: per evaluation episode for an analytic policy, per training seed
    (its mean gap over the episodes) for a learned one, as :class:`Row` spreads its returns.

    Raises:
        ValueError: when an episode's seed has no optimum.
    """
    by_seed = optimum.by_seed()
    per_run: list[tuple[list[float], list[float]]] = []
    for r in results:
        gaps, bound_gaps = [], []
        for e in r.episodes:
            seed = int(e["seed"])
            if seed not in by_seed:
                raise ValueError(f"{r.spec.scenario}: no optimum for evaluation seed {seed}")
            gaps.append(relative_gap(by_seed[seed].optimum, float(e["episode_return"])))
            bound_gaps.append(relative_gap(by_seed[seed].upper_bound, float(e["episode_return"])))
        per_run.append((gaps, bound_gaps))
    if results[0].spec.kind == "analytic":
        units = [g for gaps, _ in per_run for g in gaps], [g for _, b in per_run for g in b]
    else:
        units = [float(np.mean(g)) for g, _ in per_run], [float(np.mean(b)) for _, b in per_run]
    gap, gap_ci = mean_ci(units[0])
    bound, bound_ci = mean_ci(units[1])
    return GapRow(results[0].spec.scenario, results[0].spec.label, len(units[0]), gap, gap_ci, bound, bound_ci)


def gap_rows(results: Sequence[RunResult], optima: Mapping[str, ScenarioOptimum]) -> list[GapRow]:
    """A :class:`GapRow` per (scenario, label) of the benchmark, in the order the runs come."""
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.spec.scenario, r.spec.label), []).append(r)
    return [policy_gap(runs, optima[scenario]) for (scenario, _), runs in groups.items()]


def headroom_markdown(optima: Mapping[str, ScenarioOptimum], gaps: Sequence[GapRow]) -> str:
    """A markdown section: per scenario the optimum and bound, and each policy's gap (mean +- CI half-width)."""
    lines = ["| scenario | policy | gap to optimum | gap to bound |", "|---|---|---|---|"]
    for scenario, opt in optima.items():
        s = opt.summary()
        lines.append(
            f"| {scenario} | **hindsight optimum** | {s['optimum']:.1f} +- {s['optimum_ci']:.1f} "
            f"(max MIP gap {s['max_mip_gap']:.2%}) | bound {s['upper_bound']:.1f} |"
        )
        for g in gaps:
            if g.scenario == scenario:
                to_opt = f"{g.gap:.1%} +- {g.gap_ci:.1%}"
                to_bound = f"{g.gap_to_bound:.1%} +- {g.gap_to_bound_ci:.1%}"
                lines.append(f"| {scenario} | {g.label} | {to_opt} | {to_bound} |")
    return "\n".join(lines) + "\n"


def plot_headroom(rows: Sequence[Row], optima: Mapping[str, ScenarioOptimum], path: str | Path) -> None:
    """Per scenario, each policy's mean return (95% CI) as a bar, the hindsight optimum as a line and its upper
    bound as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = [s for s in optima if any(r.scenario == s for r in rows)]
    if not scenarios:
        raise ValueError("no scenario has both results and an optimum")
    fig, axes = plt.subplots(1, len(scenarios), figsize=(3.2 * len(scenarios), 3.6), squeeze=False)
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        mine = [r for r in rows if r.scenario == scenario]
        x = np.arange(len(mine))
        ax.bar(x, [r.mean["episode_return"] for r in mine], yerr=[r.ci["episode_return"] for r in mine],
               color="tab:blue", capsize=2)  # fmt: skip
        s = optima[scenario].summary()
        ax.axhline(s["optimum"], color="black", label="hindsight optimum")
        ax.axhline(s["upper_bound"], color="black", linestyle="--", linewidth=0.8, label="upper bound")
        ax.set_xticks(x, [r.label for r in mine], rotation=60, ha="right", fontsize=7)
        ax.set_title(scenario, fontsize=9)
        ax.axhline(0.0, color="grey", linewidth=0.5)
    axes[0][0].set_ylabel("episode return")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
