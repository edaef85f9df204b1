"""``volatility``: at ``theta = 0``, the loss rate against the imbalance std, varying supply std, arrival
burstiness (negative-binomial dispersion) and reasoning-length dispersion (the step cap of a single option);
theory ``sigma / sqrt(2 pi)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agents.experiments.common import (
    Settings,
    figure,
    params_for,
    per_env,
    progress,
    reference_rule,
    save_figure,
)
from agents.experiments.simulate import simulate
from agents.policies.analytic import (
    FixedOption,
    StaticPolicy,
)
from lrm_gym import theory
from lrm_gym.core.params import Params
from lrm_gym.core.units import JOULES_PER_WH
from lrm_gym.scenarios.loader import merge_overrides


def _single_option_params(cap: int, extra: Mapping[str, Any]) -> Params:
    """Critical scenario with one budget of ``cap`` steps; supply mean set later to the option's critical point."""
    return params_for(merge_overrides({"budgets": [{"name": "cap", "max_steps": cap}]}, extra))


def volatility(out: Path, settings: Settings) -> tuple[Path, Path]:
    """Loss at the critical point against the imbalance std, three ways of adding variance."""
    n_envs = settings.pick(32, 6)
    sweeps: list[tuple[str, str, list[Any]]] = [
        ("supply std", "std_w", settings.pick([0.0, 20.0, 40.0, 60.0, 90.0, 130.0], [0.0, 60.0, 130.0])),
        ("arrival burstiness", "dispersion", settings.pick([None, 40.0, 10.0, 4.0, 2.0], [None, 4.0])),
        ("reasoning-length dispersion", "cap", settings.pick([4, 8, 12, 20, 30, 40], [4, 20, 40])),
    ]
    runs: list[tuple[str, Any, Params, StaticPolicy]] = []
    for label, knob, values in sweeps:
        for value in values:
            if knob == "std_w":
                params = params_for({"supply": {"std_w": value}})
                policy: StaticPolicy = reference_rule(params)
            elif knob == "dispersion":
                arrivals = {"kind": "poisson"} if value is None else {"kind": "negbin", "dispersion": value}
                params = params_for({"arrivals": arrivals})
                policy = reference_rule(params)
            else:
                probe = _single_option_params(value, {})
                demand = theory.mean_slot_demand(probe, FixedOption(probe, "large-32b/cap").routing())
                params = _single_option_params(
                    value, {"supply": {"provisioning": None, "mean_w": demand / probe.slot_seconds}}
                )
                policy = FixedOption(params, "large-32b/cap")
            runs.append((label, value, params, policy))
    rows = []
    for label, value, params, policy in progress(runs, "volatility"):
        op = theory.operating_point(params, policy.routing())
        series = simulate(policy, params, n_envs=n_envs, seed=settings.seed)
        slots = params.horizon_slots
        loss = (series.total("auxiliary_j") + series.total("waste_j")) / 2 / slots / JOULES_PER_WH
        mean, ci = per_env(series, loss)
        rows.append(
            {
                "sweep": label,
                "value": "poisson" if value is None else value,
                "theta_wh": op.theta_j / JOULES_PER_WH,
                "sigma_wh": op.sigma_j / JOULES_PER_WH,
                "loss_wh_per_slot": mean,
                "loss_ci95": ci,
                "loss_theory": op.sigma_j / math.sqrt(2 * math.pi) / JOULES_PER_WH,
                "episodes": n_envs,
            }
        )
    fig, axes = figure()
    ax = axes[0, 0]
    top = max(r["sigma_wh"] for r in rows) * 1.05
    ax.plot([0, top], [0, top / math.sqrt(2 * math.pi)], color="black", label="theory σ/√(2π)")
    for (label, _, _), marker in zip(sweeps, "osD", strict=True):
        pts = [r for r in rows if r["sweep"] == label]
        ax.errorbar(
            [r["sigma_wh"] for r in pts],
            [r["loss_wh_per_slot"] for r in pts],
            [r["loss_ci95"] for r in pts],
            fmt=marker,
            label=f"varying {label}",
            alpha=0.85,
        )
    ax.set_xlabel("imbalance std σ (Wh per slot, theory)")
    ax.set_ylabel("loss rate (aux + waste) / 2 (Wh per slot)")
    ax.set_title("Volatility-limited: at b = b* the loss is σ/√(2π)")
    ax.legend(fontsize=8)
    note = (
        "critical scenario at θ = 0, no storage, unlimited capacity. Supply std in W; burstiness: negative "
        "binomial dispersion k (Var A = λ + λ²/k); reasoning dispersion: one option (large model) with step "
        f"cap 4..40. {n_envs} episodes per point. Skewed demand (small k) may sit slightly below the Gaussian line."
    )
    return save_figure(fig, out, "volatility", rows, note)
