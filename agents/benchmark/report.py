"""Benchmark outputs: the Markdown table with its protocol, CSV and JSON files, and plots."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from agents.benchmark.executors import RunError
from agents.benchmark.headroom import GapRow, headroom_markdown, plot_headroom
from agents.benchmark.intervals import CONFIDENCE
from agents.benchmark.quality import TimeToQuality, quality_markdown, time_to_quality
from agents.benchmark.runs import RunResult, RunSpec
from agents.benchmark.statistics import Row, Verdict
from agents.benchmark.suite import Suite
from agents.evaluation import METRICS
from agents.headroom.optima import ScenarioOptimum
from lrm_gym.core.units import JOULES_PER_KWH

COLUMNS: tuple[tuple[str, str], ...] = (
    ("episode_return", "return"),
    ("accuracy", "accuracy"),
    ("auxiliary_kwh", "aux kWh"),
    ("waste_kwh", "waste kWh"),
    ("auxiliary_cost", "aux cost"),
    ("auxiliary_carbon_kg", "aux CO2 kg"),
    ("energy_per_correct_kj", "kJ / correct"),
    ("tasks_dropped", "dropped"),
    ("mean_wait_slots", "wait (slots)"),
)
"""Metrics shown in the Markdown table (all of :data:`agents.evaluation.METRICS` go to CSV and JSON)."""


@dataclass(frozen=True)
class Report:
    """Everything a benchmark run produced, ready to be written out."""

    suite: Suite
    results: tuple[RunResult, ...]
    errors: tuple[RunError[Any], ...]
    rows: tuple[Row, ...]
    verdicts: tuple[Verdict, ...]
    wall_seconds: float
    workers: int
    backend: str
    machine: str
    command: str
    missing: tuple[RunSpec, ...] = ()  # runs not finished yet (``--report-only``), left out of the table
    reused: int = 0  # runs finished by an earlier invocation into the same folder, read back
    optima: Mapping[str, ScenarioOptimum] = field(default_factory=dict)  # hindsight optimum per scenario
    expected_optima: Mapping[str, ScenarioOptimum] = field(default_factory=dict)  # the weaker line
    gaps: tuple[GapRow, ...] = ()  # per (scenario, policy) with an optimum

    @property
    def policy_results(self) -> tuple[RunResult, ...]:
        """The policies' runs (analytic and learned), without the optimum runs."""
        return tuple(r for r in self.results if r.spec.kind != "optimum")

    @property
    def quality(self) -> tuple[TimeToQuality, ...]:
        """Per scenario and learned agent, when its learning curve reached the best analytic policy's return."""
        return tuple(time_to_quality(self.rows, self.policy_results))


def fmt(mean: float, half_width: float) -> str:
    """``mean ± half-width`` rounded to the CI's precision (two significant digits of the half-width)."""
    if math.isnan(mean):
        return "n/a"
    if math.isnan(half_width) or half_width == 0:
        return f"{mean:.4g}"
    decimals = min(max(1 - math.floor(math.log10(half_width)), 0), 6)
    return f"{mean:.{decimals}f} ± {half_width:.{decimals}f}"


def protocol(report: Report) -> str:
    """The paragraph stated above every table."""
    suite = report.suite
    seeds = suite.eval_seeds
    learned = "; ".join(
        f"{e.label}: {e.algo}{' on the slot-level env' if e.env == 'dispatch' else ''}, {e.n_timesteps:,} steps, "
        f"training seeds {list(e.seeds)}" + (f", on {', '.join(e.scenarios)} only" if e.scenarios is not None else "")
        for e in suite.learned
    )
    overrides = "; ".join(f"{s.name}: {s.overrides}" for s in suite.scenarios if s.overrides) or "none"
    models = " / ".join(
        dict.fromkeys(
            "model at the end of training" if e.model == "last" else "best validation checkpoint" for e in suite.learned
        )
    )
    return (
        f"**Protocol** (suite `{suite.name}`). Every policy is scored by the same code "
        f"(`agents.evaluation.evaluate`) on a separate evaluation env, one episode per evaluation seed, the same "
        f"{len(seeds)} seeds ({seeds[0]}..{seeds[-1]}) for every policy, deterministic actions. Learned agents "
        f"({learned or 'none'}) are trained on their own envs (with any training-only env settings of "
        f"`configs/<algo>.yml`, e.g. the expected instead of the sampled quality reward), then the {models} is "
        f"reloaded from disk and evaluated like the analytic policies, on the scenario's own reward; learning "
        f"curves come from validation episodes on another env seed. "
        f"Cells are mean ± half-width of the {CONFIDENCE:.0%} Student-t confidence interval: across training "
        f"seeds for learned agents (each seed's value is its mean over the evaluation episodes), across "
        f"evaluation episodes for analytic policies. Env overrides (training and evaluation): {overrides}. "
        f"Energies and costs are per episode; `return` is the env's reward summed over an episode."
    )


def markdown(report: Report) -> str:
    lines = [protocol(report), ""]
    gaps = {(g.scenario, g.label): g for g in report.gaps}
    header = ["scenario", "policy", "kind", "n"] + [title for _, title in COLUMNS]
    header += ["gap to optimum"] if gaps else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] * 4 + ["---:"] * (len(header) - 4)) + "|")
    best: dict[str, Row] = {}
    for row in report.rows:
        if row.scenario not in best or row.mean["episode_return"] > best[row.scenario].mean["episode_return"]:
            best[row.scenario] = row
    for row in report.rows:
        cells = [fmt(row.mean[m], row.ci[m]) for m, _ in COLUMNS]
        if best[row.scenario] is row:
            cells[0] = f"**{cells[0]}**"
        if gaps:
            g = gaps.get((row.scenario, row.label))
            cells.append("n/a" if g is None else f"{fmt(100 * g.gap, 100 * g.gap_ci)}%")
        lines.append("| " + " | ".join([row.scenario, row.label, row.kind, str(row.n_units), *cells]) + " |")
        last_of_scenario = row is [r for r in report.rows if r.scenario == row.scenario][-1]
        if last_of_scenario and row.scenario in report.optima:
            s = report.optima[row.scenario].summary()
            opt = [f"{fmt(s['optimum'], s['optimum_ci'])} (bound {s['upper_bound']:.1f})"]
            opt += [""] * (len(COLUMNS) - 1) + ["0%"]
            n = int(s["n_episodes"])
            lines.append("| " + " | ".join([row.scenario, "*hindsight optimum*", "optimum", str(n), *opt]) + " |")
    lines.append("")
    if report.optima:
        lines.append(headroom_markdown(report.optima, report.gaps, report.rows, report.expected_optima))
    if report.verdicts:
        lines.append(
            "**Best learned vs best analytic** (by mean return; beats / loses when the Welch 95% CI of the "
            "difference excludes 0):"
        )
        lines.append("")
        for v in report.verdicts:
            diff = fmt(v.difference, v.half_width)
            lines.append(f"- {v.scenario}: {v.best_learned} **{v.outcome}** {v.best_analytic} (difference {diff})")
        lines.append("")
    if report.quality:
        lines.append(quality_markdown(report.quality))
    if report.errors:
        lines.append(f"**Failed runs ({len(report.errors)})**, left out of the table:")
        lines.append("")
        for e in report.errors:
            lines.append(f"- {getattr(e.spec, 'name', e.spec)}: `{e.summary}`")
        lines.append("")
    if report.missing:
        lines.append(f"**Missing runs ({len(report.missing)})**, not finished yet, left out of the table:")
        lines.append("")
        lines += [f"- {spec.name}" for spec in report.missing]
        lines.append("")
    reused = f" ({report.reused} of them finished earlier and reused)" if report.reused else ""
    lines.append(
        f"Wall time {report.wall_seconds / 60:.1f} min for {len(report.results) + len(report.errors)} runs"
        f"{reused} with {report.workers} worker(s), backend `{report.backend}`, on {report.machine}; the runs' "
        f"own wall times sum to {sum(r.wall_seconds for r in report.results) / 60:.1f} min. Reproduce with:"
    )
    lines += ["", "```bash", report.command, "```", ""]
    return "\n".join(lines)


def write_csv(report: Report, path: Path) -> None:
    fields = ["scenario", "policy", "kind", "n_units", "n_episodes"]
    fields += [f"{m}_{stat}" for m in METRICS for stat in ("mean", "ci95")]
    gaps = {(g.scenario, g.label): g for g in report.gaps}
    if report.optima:
        fields += ["gap_mean", "gap_ci95", "gap_to_bound_mean", "gap_to_bound_ci95", "optimum_mean", "optimum_ci95"]
        fields += ["upper_bound_mean"]
    quality = {(q.scenario, q.learned): q for q in report.quality}
    if quality:  # learned rows: when the learning curve reached the best analytic return (empty: not reached)
        fields += ["time_to_quality_target", "time_to_quality_steps", "time_to_quality_wall_seconds"]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in report.rows:
            record: dict[str, Any] = {
                "scenario": row.scenario,
                "policy": row.label,
                "kind": row.kind,
                "n_units": row.n_units,
                "n_episodes": row.n_episodes,
            }
            for m in METRICS:
                record[f"{m}_mean"] = row.mean[m]
                record[f"{m}_ci95"] = row.ci[m]
            g = gaps.get((row.scenario, row.label))
            if g is not None:
                record |= {"gap_mean": g.gap, "gap_ci95": g.gap_ci}
                record |= {"gap_to_bound_mean": g.gap_to_bound, "gap_to_bound_ci95": g.gap_to_bound_ci}
            if row.scenario in report.optima:
                s = report.optima[row.scenario].summary()
                record |= {"optimum_mean": s["optimum"], "optimum_ci95": s["optimum_ci"]}
                record["upper_bound_mean"] = s["upper_bound"]
            q = quality.get((row.scenario, row.label))
            if q is not None:
                record["time_to_quality_target"] = q.target
                record["time_to_quality_steps"] = "" if q.steps is None else q.steps
                record["time_to_quality_wall_seconds"] = "" if q.wall_seconds is None else q.wall_seconds
            writer.writerow(record)


def write_episodes_csv(report: Report, path: Path) -> None:
    """Every evaluation episode of every run: the raw data behind the table."""
    with path.open("w", newline="") as f:
        writer: csv.DictWriter[str] | None = None
        for result in report.policy_results:
            for episode in result.episodes:
                record = {
                    "scenario": result.spec.scenario,
                    "policy": result.spec.label,
                    "kind": result.spec.kind,
                    "train_seed": "" if result.spec.train_seed is None else result.spec.train_seed,
                    **episode,
                }
                if writer is None:
                    writer = csv.DictWriter(f, fieldnames=list(record))
                    writer.writeheader()
                writer.writerow(record)


def write_optima_csv(report: Report, path: Path) -> None:
    """Every evaluation episode's optimum (each information line): best plan, bound, MIP gap, status, time."""
    with path.open("w", newline="") as f:
        fields = ["scenario", "information", "seed", "optimum", "upper_bound", "mip_gap", "status"]
        writer = csv.DictWriter(f, fieldnames=[*fields, "solve_seconds", "n_tasks"])
        writer.writeheader()
        for optima in (report.optima, report.expected_optima):
            for opt in optima.values():
                for e in opt.episodes:
                    writer.writerow({"scenario": opt.scenario, "information": opt.information, **e.as_dict()})


def write_json(report: Report, path: Path) -> None:
    payload = {
        "suite": report.suite,
        "protocol": protocol(report),
        "confidence": CONFIDENCE,
        "rows": report.rows,
        "verdicts": report.verdicts,
        "time_to_quality": report.quality,  # steps / wall_seconds null: not reached
        "headroom": {
            "optima": {s: {**o.summary(), "episodes": o.episodes} for s, o in report.optima.items()},
            "expected_optima": {s: {**o.summary(), "episodes": o.episodes} for s, o in report.expected_optima.items()},
            "gaps": report.gaps,
        },
        "errors": [{"run": getattr(e.spec, "name", str(e.spec)), "error": e.error} for e in report.errors],
        "missing": [spec.name for spec in report.missing],
        "reused": report.reused,
        "runs": [
            {
                "run": r.spec.name,
                "spec": r.spec,
                "wall_seconds": r.wall_seconds,
                "model_path": r.model_path,
                "curve_timesteps": r.curve_timesteps,
                "curve_returns": r.curve_returns,
                "curve_wall_seconds": r.curve_wall_seconds,
            }
            for r in report.results
        ],
        "wall_seconds": report.wall_seconds,
        "workers": report.workers,
        "backend": report.backend,
        "machine": report.machine,
        "command": report.command,
    }
    path.write_text(json.dumps(as_jsonable(payload), indent=2, allow_nan=False) + "\n")


# --------------------------------------------------------------------------------------------------------
# Plots


def _scenarios(report: Report) -> list[str]:
    return list(dict.fromkeys(r.scenario for r in report.rows))


def plot_bars(report: Report, path: Path) -> None:
    """Per scenario (columns) and metric (rows): bars of the mean with CI error bars, learned in a second color."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [("episode_return", "return"), ("accuracy", "accuracy"), ("auxiliary_kwh", "aux kWh")]
    metrics.append(("waste_kwh", "waste kWh"))
    scenarios = _scenarios(report)
    fig, axes = plt.subplots(
        len(metrics), len(scenarios), figsize=(3.6 * len(scenarios), 2.4 * len(metrics)), squeeze=False
    )
    for j, scenario in enumerate(scenarios):
        rows = [r for r in report.rows if r.scenario == scenario]
        colors = ["tab:orange" if r.kind == "learned" else "tab:blue" for r in rows]
        for i, (metric, title) in enumerate(metrics):
            ax = axes[i][j]
            means = [r.mean[metric] for r in rows]
            errors = [0.0 if math.isnan(r.ci[metric]) else r.ci[metric] for r in rows]
            ax.bar(range(len(rows)), means, yerr=errors, color=colors, capsize=3)
            ax.set_xticks(range(len(rows)), [r.label for r in rows], rotation=60, ha="right", fontsize=7)
            if i == 0:
                ax.set_title(scenario)
            if j == 0:
                ax.set_ylabel(title)
            if i < len(metrics) - 1:
                ax.set_xticklabels([])
    fig.suptitle(f"{report.suite.name}: mean and {CONFIDENCE:.0%} CI (blue analytic, orange learned)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_learning_curves(report: Report, path: Path) -> None:
    """Validation return vs training steps (mean and range over training seeds); the best analytic policy's
    evaluation return and the hindsight optimum (when the suite has one) as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = _scenarios(report)
    fig, axes = plt.subplots(1, len(scenarios), figsize=(4 * len(scenarios), 3.2), squeeze=False)
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        learned = [r for r in report.results if r.spec.scenario == scenario and r.spec.kind == "learned"]
        for label in dict.fromkeys(r.spec.label for r in learned):
            curves = [r for r in learned if r.spec.label == label and r.curve_timesteps]
            if not curves:
                continue
            n = min(len(r.curve_timesteps) for r in curves)
            steps = np.asarray(curves[0].curve_timesteps[:n])
            values = np.asarray([r.curve_returns[:n] for r in curves])
            ax.plot(steps, values.mean(axis=0), label=f"{label} ({len(curves)} seeds)")
            ax.fill_between(steps, values.min(axis=0), values.max(axis=0), alpha=0.2)
        analytic = [r for r in report.rows if r.scenario == scenario and r.kind == "analytic"]
        if analytic:
            best = max(analytic, key=lambda r: r.mean["episode_return"])
            ax.axhline(best.mean["episode_return"], color="black", linestyle="--", label=f"best analytic: {best.label}")
        if scenario in report.optima:
            ax.axhline(report.optima[scenario].summary()["optimum"], color="black", label="hindsight optimum")
        ax.set_title(scenario)
        ax.set_xlabel("training steps")
        ax.set_ylabel("validation episode return")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_energy_balance(report: Report, scenario: str, path: Path) -> bool:
    """Slot-level energy balance of the first evaluation episode: best analytic vs best learned policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report.rows if r.scenario == scenario]
    picks = []
    for kind in ("analytic", "learned"):
        candidates = [r for r in rows if r.kind == kind]
        if candidates:
            best = max(candidates, key=lambda r: r.mean["episode_return"])
            # the first training seed's run, not the luckiest one
            result = next(x for x in report.results if x.spec.scenario == scenario and x.spec.label == best.label)
            picks.append((best.label, result))
    if not picks:
        return False
    fig, axes = plt.subplots(len(picks), 1, figsize=(9, 2.6 * len(picks)), sharex=True, squeeze=False)
    for ax, (label, result) in zip(axes[:, 0], picks, strict=True):
        series = {k: np.asarray(v) for k, v in result.trajectory.items()}
        kwh = JOULES_PER_KWH
        slots = series["slot"]
        ax.plot(slots, series["baseline_j"] / kwh, color="tab:green", label="baseline")
        ax.plot(slots, series["demand_j"] / kwh, color="tab:blue", label="demand")
        ax.fill_between(slots, 0, series["auxiliary_j"] / kwh, color="tab:red", alpha=0.5, label="auxiliary")
        ax.fill_between(slots, 0, -series["waste_j"] / kwh, color="grey", alpha=0.5, label="waste (negative)")
        if np.any(series["storage_j"] > 0):  # a level, not a per-slot flow: its own axis
            level = ax.twinx()
            level.plot(slots, series["storage_j"] / kwh, color="tab:orange", linestyle=":", label="storage level")
            level.set_ylabel("storage kWh", color="tab:orange")
            level.set_ylim(bottom=0)
        ax.set_title(f"{scenario}: {label} ({result.spec.kind}), evaluation seed {result.spec.eval_seeds[0]}")
        ax.set_ylabel("kWh per slot")
        ax.legend(fontsize=7, ncol=5, loc="upper left")
    axes[-1, 0].set_xlabel("slot")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_all(report: Report, out_dir: Path) -> list[Path]:
    """Write every output into ``out_dir`` and return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "results.md", out_dir / "results.csv", out_dir / "episodes.csv", out_dir / "results.json"]
    paths[0].write_text(markdown(report))
    write_csv(report, paths[1])
    write_episodes_csv(report, paths[2])
    write_json(report, paths[3])
    if report.optima:
        paths.append(out_dir / "optima.csv")
        write_optima_csv(report, paths[-1])
        if report.rows:
            plot_headroom(report.rows, report.optima, out_dir / "headroom.png")
            paths.append(out_dir / "headroom.png")
    if report.rows:
        plot_bars(report, out_dir / "bars.png")
        paths.append(out_dir / "bars.png")
        if report.suite.learned:
            plot_learning_curves(report, out_dir / "learning_curves.png")
            paths.append(out_dir / "learning_curves.png")
        for scenario in _scenarios(report):
            target = out_dir / f"energy_balance_{scenario}.png"
            if plot_energy_balance(report, scenario, target):
                paths.append(target)
    return paths


def update_readme(readme: Path, marker: str, body: str) -> None:
    """Replace the text between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` in ``readme``."""
    text = readme.read_text()
    pattern = re.compile(rf"(<!-- {re.escape(marker)}:start -->\n).*?(<!-- {re.escape(marker)}:end -->)", re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no <!-- {marker}:start --> ... <!-- {marker}:end --> block")
    readme.write_text(pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text))


def describe_machine() -> str:
    import os
    import platform

    return f"{platform.machine()} {platform.system()} with {os.cpu_count()} cores ({platform.processor() or 'cpu'})"


def rows_by_scenario(rows: Sequence[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(r.scenario, []).append(r)
    return out


def as_jsonable(value: Any) -> Any:
    """Dataclasses, pydantic models and tuples to plain JSON types (NaN becomes ``null``)."""
    if isinstance(value, BaseModel):
        return as_jsonable(value.model_dump())
    if hasattr(value, "__dataclass_fields__"):
        return as_jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): as_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_jsonable(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
