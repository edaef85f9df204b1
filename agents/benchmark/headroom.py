"""The headroom in the benchmark report: per scenario the hindsight optimum over the suite's evaluation
episodes (the suite's ``optimum`` runs, agents/headroom), each policy's gap to it, the text saying where the
best policy stands, and a figure.

The gap of a return ``R`` on an episode whose optimum is ``R*`` is ``(R* - R) / |R*|``; it is computed against
the best plan found (``gap``) and against HiGHS's upper bound (``gap_to_bound``), which bracket the gap to the
true optimum when a solve stops at its time limit. Its spread is over the same units as the results table's
row: evaluation episodes for analytic policies, training seeds (each its mean gap over the episodes) for
learned ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.benchmark.intervals import mean_ci
from agents.benchmark.runs import RunResult
from agents.benchmark.statistics import Row
from agents.headroom.optima import EpisodeOptimum, ScenarioOptimum, relative_gap

OPTIMUM_LABEL = "hindsight-optimum"
"""Label of the optimum runs (the policy column of the optimum's rows)."""


def optimum_from_result(result: RunResult) -> ScenarioOptimum:
    """An ``optimum`` run's result (one episode dict per evaluation seed) as a :class:`ScenarioOptimum`."""
    spec = result.spec
    episodes = tuple(
        EpisodeOptimum(
            seed=int(e["seed"]),
            optimum=float(e["episode_return"]),
            upper_bound=float(e["upper_bound"]),
            mip_gap=float(e["mip_gap"]),
            status=str(e["status"]),
            solve_seconds=float(e["solve_seconds"]),
            n_tasks=int(e["n_tasks"]),
        )
        for e in result.episodes
    )
    return ScenarioOptimum(
        spec.scenario, spec.env_id, str(spec.params["information"]), float(spec.params["time_limit_s"]), episodes
    )


def optima_by_information(results: Sequence[RunResult]) -> dict[str, dict[str, ScenarioOptimum]]:
    """``{information: {scenario: optimum}}`` from a benchmark's ``optimum`` runs."""
    out: dict[str, dict[str, ScenarioOptimum]] = {}
    for r in results:
        if r.spec.kind == "optimum":
            opt = optimum_from_result(r)
            out.setdefault(opt.information, {})[opt.scenario] = opt
    return out


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


def policy_gap(results: Sequence[RunResult], optimum: ScenarioOptimum) -> GapRow:
    """The gap of one (scenario, label)'s runs (see the module docstring for the units).

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
    """A :class:`GapRow` per (scenario, label) of the policies' runs whose scenario has an optimum."""
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in results:
        if r.spec.kind != "optimum" and r.spec.scenario in optima:
            groups.setdefault((r.spec.scenario, r.spec.label), []).append(r)
    return [policy_gap(runs, optima[scenario]) for (scenario, _), runs in groups.items()]


def _pct(mean: float, half_width: float) -> str:
    return f"{mean:.1%} ± {half_width:.1%}" if not np.isnan(half_width) else f"{mean:.1%}"


def headroom_markdown(
    optima: Mapping[str, ScenarioOptimum],
    gaps: Sequence[GapRow],
    rows: Sequence[Row],
    expected: Mapping[str, ScenarioOptimum] | None = None,
) -> str:
    """The report's headroom section: per scenario the optimum, its bound, solve times, and where the best
    policy stands; then every policy's gap."""
    expected = expected or {}
    lines = [
        "**Headroom**: the hindsight optimum of each evaluation episode (the largest return any sequence of "
        "actions earns knowing the episode's supply, arrivals and outcome draws in advance; a mixed-integer "
        "program solved with HiGHS, docs/headroom.md) and each policy's gap to it, `(optimum - return) / "
        "|optimum|`, mean ± 95% CI over the table's units. When a solve stops at its time limit the true optimum "
        "lies between the best plan found and HiGHS's upper bound; the gap to the bound is the larger.",
        "",
        "| scenario | optimum (best plan) | upper bound | max MIP gap | proven optimal | solve s (median / max) |"
        + (" expected-information line |" if expected else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---:|" if expected else ""),
    ]
    for scenario, opt in optima.items():
        s = opt.summary()
        cells = [
            scenario,
            f"{s['optimum']:.1f} ± {s['optimum_ci']:.1f}",
            f"{s['upper_bound']:.1f}",
            f"{s['max_mip_gap']:.2%}",
            f"{int(s['proven_optimal'])}/{int(s['n_episodes'])}",
            f"{s['median_solve_seconds']:.0f} / {s['max_solve_seconds']:.0f}",
        ]
        if expected:
            e = expected.get(scenario)
            cells.append(f"{e.summary()['optimum']:.1f}" if e is not None else "n/a")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Where the best policy stands (highest mean return):", ""]
    lines += [f"- {text}" for text in standings(optima, gaps, rows)]
    lines += ["", "| scenario | policy | kind | gap to optimum | gap to bound |", "|---|---|---|---:|---:|"]
    kinds = {(r.scenario, r.label): r.kind for r in rows}
    for g in gaps:
        kind = kinds.get((g.scenario, g.label), "")
        to_opt, to_bound = _pct(g.gap, g.gap_ci), _pct(g.gap_to_bound, g.gap_to_bound_ci)
        lines.append(f"| {g.scenario} | {g.label} | {kind} | {to_opt} | {to_bound} |")
    if expected:
        lines += [
            "",
            "The expected-information line is the same program with each option's expected energy and quality in "
            "place of the draws (supply and arrivals known): it bounds the expected return of any open-loop plan "
            "fixed from supply and arrivals, not adaptive policies (docs/headroom.md section 2).",
        ]
    return "\n".join(lines) + "\n"


def standings(optima: Mapping[str, ScenarioOptimum], gaps: Sequence[GapRow], rows: Sequence[Row]) -> list[str]:
    """One sentence per scenario: the best policy by mean return and its gap to the optimum."""
    out = []
    by_key = {(g.scenario, g.label): g for g in gaps}
    for scenario in optima:
        here = [r for r in rows if r.scenario == scenario and (scenario, r.label) in by_key]
        if not here:
            continue
        best = max(here, key=lambda r: r.mean["episode_return"])
        g = by_key[(scenario, best.label)]
        learned = [r for r in here if r.kind == "learned"]
        tail = ""
        if learned and best.kind != "learned":
            top = by_key[(scenario, max(learned, key=lambda r: r.mean["episode_return"]).label)]
            tail = f"; the best learned, `{top.label}`, {_pct(top.gap, top.gap_ci)}"
        out.append(f"`{scenario}`: `{best.label}` ({best.kind}) is {_pct(g.gap, g.gap_ci)} below the optimum{tail}")
    return out


def plot_headroom(rows: Sequence[Row], optima: Mapping[str, ScenarioOptimum], path: str | Path) -> None:
    """Per scenario, each policy's mean return (95% CI) as a bar (learned in orange), the hindsight optimum as a
    line and its upper bound as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = [s for s in optima if any(r.scenario == s for r in rows)]
    if not scenarios:
        raise ValueError("no scenario has both results and an optimum")
    fig, axes = plt.subplots(1, len(scenarios), figsize=(3.2 * len(scenarios), 3.8), squeeze=False)
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        mine = [r for r in rows if r.scenario == scenario]
        x = np.arange(len(mine))
        errors = [0.0 if np.isnan(r.ci["episode_return"]) else r.ci["episode_return"] for r in mine]
        colors = ["tab:orange" if r.kind == "learned" else "tab:blue" for r in mine]
        ax.bar(x, [r.mean["episode_return"] for r in mine], yerr=errors, color=colors, capsize=2)
        s = optima[scenario].summary()
        ax.axhline(s["optimum"], color="black", label="hindsight optimum")
        ax.axhline(s["upper_bound"], color="black", linestyle="--", linewidth=0.8, label="upper bound")
        ax.set_xticks(x, [r.label for r in mine], rotation=60, ha="right", fontsize=7)
        ax.set_title(scenario, fontsize=9)
        ax.axhline(0.0, color="grey", linewidth=0.5)
    axes[0][0].set_ylabel("episode return")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle("Mean return (95% CI; blue analytic, orange learned) against the hindsight optimum", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
