"""Benchmark statistics: per (scenario, policy) means with 95% Student-t confidence intervals, and the
verdict of the best learned against the best analytic policy (Welch interval of the difference).

The spread of a learned policy is across training seeds (each seed's value is its mean over the evaluation
episodes); of an analytic policy, across evaluation episodes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from agents.benchmark.intervals import mean_ci, welch_difference
from agents.benchmark.runs import RunResult
from agents.evaluation import METRICS

TRAJECTORY_KEYS = ("baseline_j", "demand_j", "auxiliary_j", "waste_j", "charge_j", "discharge_j")


@dataclass(frozen=True)
class Row:
    """One (scenario, policy) line of the results: per metric the mean and CI half-width across units.

    ``units`` are training seeds for learned policies (each the mean over the evaluation episodes) and
    evaluation episodes for analytic ones.
    """

    scenario: str
    label: str
    kind: str
    n_units: int
    n_episodes: int
    mean: dict[str, float]
    ci: dict[str, float]
    unit_returns: tuple[float, ...]


def unit_values(results: Sequence[RunResult], metric: str) -> list[float]:
    """The values the spread is computed over (see :class:`Row`)."""
    if results[0].spec.kind == "analytic":
        return [float(e[metric]) for r in results for e in r.episodes]
    return [float(np.nanmean([float(e[metric]) for e in r.episodes])) for r in results]


def aggregate(results: Sequence[RunResult]) -> list[Row]:
    """Rows in suite order (scenario, then policy as first seen)."""
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.spec.scenario, r.spec.label), []).append(r)
    rows = []
    for (scenario, label), group in groups.items():
        means, cis = {}, {}
        for metric in METRICS:
            means[metric], cis[metric] = mean_ci(unit_values(group, metric))
        returns = tuple(unit_values(group, "episode_return"))
        rows.append(
            Row(
                scenario,
                label,
                group[0].spec.kind,
                len(returns),
                sum(len(r.episodes) for r in group),
                means,
                cis,
                returns,
            )
        )
    return rows


@dataclass(frozen=True)
class Verdict:
    """Best learned vs best analytic policy (by mean return) in one scenario."""

    scenario: str
    best_analytic: str
    best_learned: str
    difference: float  # learned minus analytic mean return
    half_width: float  # Welch 95% CI half-width of the difference
    outcome: Literal["beats", "ties", "loses"]


def verdicts(rows: Sequence[Row]) -> list[Verdict]:
    """Per scenario: does the best learned agent beat, tie or lose to the best analytic policy?

    "Beats" / "loses" when the Welch 95% confidence interval of the difference of mean returns excludes 0
    (learned units: training seeds; analytic units: evaluation episodes), "ties" otherwise.
    """
    out = []
    for scenario in dict.fromkeys(r.scenario for r in rows):
        here = [r for r in rows if r.scenario == scenario]
        analytic = [r for r in here if r.kind == "analytic"]
        learned = [r for r in here if r.kind == "learned"]
        if not analytic or not learned:
            continue
        a = max(analytic, key=lambda r: r.mean["episode_return"])
        b = max(learned, key=lambda r: r.mean["episode_return"])
        diff, hw = welch_difference(b.unit_returns, a.unit_returns)
        if math.isnan(hw) or abs(diff) <= hw:
            outcome: Literal["beats", "ties", "loses"] = "ties"
        else:
            outcome = "beats" if diff > 0 else "loses"
        out.append(Verdict(scenario, a.label, b.label, diff, hw, outcome))
    return out
