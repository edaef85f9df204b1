"""Time to quality: how many env steps and how much wall time the best learned agent of a scenario needed to reach
the best analytic policy's return, read from its learning curves.

The curve is the mean over training seeds of the validation return (one value per evaluation of the training
callback, as plotted in ``learning_curves.png``); the target is the best analytic policy's mean return on the
evaluation seeds. Validation episodes are played on another env seed than the evaluation episodes, so reaching
the target on the curve is an indication, not the verdict (the verdict compares evaluation returns).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.benchmark.runs import RunResult
from agents.benchmark.statistics import Row


@dataclass(frozen=True)
class TimeToQuality:
    """When the best learned agent's mean validation curve first reached the best analytic policy's return.

    ``steps`` and ``wall_seconds`` are ``None`` when the curve never reached it (``wall_seconds`` also when the
    runs recorded no wall times)."""

    scenario: str
    learned: str
    best: bool  # the scenario's best learned agent (by mean evaluation return)
    analytic: str
    target: float
    steps: int | None
    wall_seconds: float | None
    final_return: float  # the curve's last value
    n_seeds: int

    @property
    def reached(self) -> bool:
        return self.steps is not None


def first_reach(returns: Sequence[float], target: float) -> int | None:
    """Index of the first point of a curve whose return is at least ``target`` (``None``: never)."""
    for i, value in enumerate(returns):
        if value >= target:
            return i
    return None


def mean_curve(results: Sequence[RunResult]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Steps, mean validation return and mean wall seconds over runs, on the steps all runs share (their common
    prefix: the runs of one entry evaluate at the same steps). Wall seconds are ``None`` if a run lacks them."""
    curves = [r for r in results if r.curve_timesteps]
    if not curves:
        return np.zeros(0, dtype=int), np.zeros(0), None
    n = min(len(r.curve_timesteps) for r in curves)
    steps = np.asarray(curves[0].curve_timesteps[:n], dtype=int)
    returns = np.mean([r.curve_returns[:n] for r in curves], axis=0)
    walls = None
    if all(len(r.curve_wall_seconds) >= n for r in curves):
        walls = np.mean([r.curve_wall_seconds[:n] for r in curves], axis=0)
    return steps, returns, walls


def time_to_quality(rows: Sequence[Row], results: Sequence[RunResult]) -> list[TimeToQuality]:
    """Per scenario with an analytic row, for every learned agent: the first step and wall time at which its mean
    validation curve reached the best analytic policy's mean evaluation return (``best`` marks the scenario's
    best learned agent by mean evaluation return)."""
    out = []
    for scenario in dict.fromkeys(r.scenario for r in rows):
        learned = [r for r in rows if r.scenario == scenario and r.kind == "learned"]
        analytic = [r for r in rows if r.scenario == scenario and r.kind == "analytic"]
        if not learned or not analytic:
            continue
        best = max(learned, key=lambda r: r.mean["episode_return"])
        target = max(analytic, key=lambda r: r.mean["episode_return"])
        for row in learned:
            runs = [x for x in results if x.spec.scenario == scenario and x.spec.label == row.label]
            steps, returns, walls = mean_curve(runs)
            if len(steps) == 0:
                continue
            i = first_reach(returns.tolist(), target.mean["episode_return"])
            out.append(
                TimeToQuality(
                    scenario=scenario,
                    learned=row.label,
                    best=row is best,
                    analytic=target.label,
                    target=float(target.mean["episode_return"]),
                    steps=None if i is None else int(steps[i]),
                    wall_seconds=None if i is None or walls is None else float(walls[i]),
                    final_return=float(returns[-1]),
                    n_seeds=len([r for r in runs if r.curve_timesteps]),
                )
            )
    return out


def quality_markdown(entries: Sequence[TimeToQuality]) -> str:
    """The ``results.md`` paragraph: one line per scenario, for its best learned agent."""
    if not any(e.best for e in entries):
        return ""
    lines = [
        "**Time to quality** (first training step at which the best learned agent's mean validation curve reaches "
        "the best analytic policy's mean evaluation return; wall time of training up to that step, mean over "
        "training seeds; validation episodes use another env seed than evaluation):",
        "",
    ]
    for e in entries:
        if not e.best:
            continue
        if e.reached:
            wall = "wall time not recorded" if e.wall_seconds is None else f"{e.wall_seconds:.0f} s of training"
            when = f"reached at {e.steps:,} env steps ({wall})"
        else:
            when = f"not reached (last validation return {e.final_return:.0f})"
        lines.append(f"- {e.scenario}: {e.learned} vs {e.analytic} ({e.target:.0f}): {when}, {e.n_seeds} seed(s)")
    lines.append("")
    return "\n".join(lines)
