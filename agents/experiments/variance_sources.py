"""``variance-sources``: per-slot demand variance split into arrivals, within-option and between-option
terms for training-compute dispatch, inference-compute dispatch, the critical mix and the variance-aware LP at
(nearly) equal mean demand; simulated variance on top.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from agents.experiments.common import (
    Settings,
    figure,
    params_for,
    per_env,
    progress,
    save_figure,
)
from agents.experiments.simulate import simulate
from agents.policies.analytic import (
    CriticalMix,
    InferenceComputeDispatch,
    StaticPolicy,
    TrainingComputeDispatch,
    VarianceAwareLP,
)
from lrm_gym import theory
from lrm_gym.core.params import Params


def _matched_target(params: Params, make: Callable[[float], StaticPolicy], mean_j: float) -> StaticPolicy:
    """The dispatch rule whose accuracy target gives the mean task energy nearest ``mean_j``."""
    candidates = [make(float(t)) for t in np.linspace(0.0, 1.0, 101)]
    return min(candidates, key=lambda p: abs(p.moments().mean_j - mean_j))


def variance_sources(out: Path, settings: Settings) -> tuple[Path, Path]:
    """Demand variance by source for four routings at (nearly) the same mean demand."""
    n_envs = settings.pick(48, 8)
    params = params_for({})
    # Anchor: the inference-compute rule on the largest model. A single model cannot reach every mean, so the
    # others are matched to it: the critical mix and the LP exactly (supply at its mean demand), the
    # training-compute rule as nearly as its accuracy target allows.
    anchor = InferenceComputeDispatch(params)
    target_mean = anchor.moments().mean_j
    supply_ratio = theory.mean_slot_demand(params, anchor.routing()) / params.supply.mean_j
    policies: dict[str, StaticPolicy] = {
        "training-compute": _matched_target(params, partial(TrainingComputeDispatch, params, None), target_mean),
        "inference-compute": anchor,
        "critical-mix": CriticalMix(params, supply_ratio=supply_ratio),
        "variance-aware-lp": VarianceAwareLP(params, supply_ratio=supply_ratio),
    }
    rows = []
    for name, policy in progress(list(policies.items()), "variance-sources"):
        parts = theory.variance_decomposition(params, policy.routing())
        moments = policy.moments()
        series = simulate(policy, params, n_envs=n_envs, seed=settings.seed)
        if series.merged_slots:
            raise RuntimeError("variance-sources needs one slot per decision step; raise the arrival rate")
        empirical, ci = per_env(series, series.demand_j.var(axis=1, ddof=1) / 1e6)
        rows.append(
            {
                "policy": name,
                "target": getattr(policy, "target", ""),
                "mean_task_energy_j": moments.mean_j,
                "mean_demand_kj": theory.mean_slot_demand(params, policy.routing()) / 1e3,
                "accuracy": moments.accuracy,
                "arrivals_kj2": parts.arrivals / 1e6,
                "within_option_kj2": parts.within_option / 1e6,
                "between_option_kj2": parts.between_option / 1e6,
                "demand_theory_kj2": parts.demand / 1e6,
                "demand_simulated_kj2": empirical,
                "demand_simulated_ci95": ci,
                "supply_kj2": parts.supply / 1e6,
                "episodes": n_envs,
            }
        )
    fig, axes = figure(width=7.5)
    ax = axes[0, 0]
    x = np.arange(len(rows))
    bottom = np.zeros(len(rows))
    for key, label, color in (
        ("arrivals_kj2", "arrivals Var(A) E[X]²", "tab:olive"),
        ("within_option_kj2", "within option E[A] Σπs² (reasoning length)", "tab:orange"),
        ("between_option_kj2", "between options E[A] Σπ(μ-E[X])²", "tab:purple"),
    ):
        values = np.array([r[key] for r in rows])
        ax.bar(x, values, bottom=bottom, color=color, label=label, width=0.6)
        bottom += values
    ax.errorbar(
        x,
        [r["demand_simulated_kj2"] for r in rows],
        [r["demand_simulated_ci95"] for r in rows],
        fmt="ko",
        label="simulated Var(D) (95% CI)",
    )
    ax.set_xticks(
        x, [f"{r['policy']}\nE[D]={r['mean_demand_kj']:.1f} kJ\nacc={r['accuracy']:.3f}" for r in rows], fontsize=8
    )
    ax.set_ylabel("per-slot demand variance (kJ²)")
    ax.set_title("Where demand variance comes from, at equal mean demand")
    ax.legend(fontsize=7)
    note = (
        f"critical scenario, unlimited capacity; mean task energy {target_mean:.0f} J (inference-compute rule, large "
        f"model, target {anchor.target}), training-compute target matched to it; supply variance "
        f"{rows[0]['supply_kj2']:.1f} kJ² "
        f"adds to every bar in the imbalance. {n_envs} episodes per policy."
    )
    return save_figure(fig, out, "variance-sources", rows, note)
