"""``critical-sweep``: auxiliary and waste rates against ``b / b*`` (0.5 to 1.5), no storage; the two ramps
``max(-theta, 0)``, ``max(theta, 0)`` and the Gaussian theory's rounded minimum at ``b = b*``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

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
from lrm_gym import theory
from lrm_gym.core.units import JOULES_PER_WH


def critical_sweep(out: Path, settings: Settings) -> tuple[Path, Path]:
    """Auxiliary and waste rates against ``b / b*`` without storage, with the Gaussian theory."""
    ratios = np.linspace(0.5, 1.5, settings.pick(11, 5))
    n_envs = settings.pick(48, 8)
    base = params_for({})
    routing = reference_rule(base).routing()
    sigma = math.sqrt(theory.variance_decomposition(base, routing).imbalance)
    critical = base.critical_slot_energy_j
    rows = []
    for ratio in progress(ratios, "critical-sweep"):
        params = params_for({"supply": {"provisioning": float(ratio)}})
        series = simulate(reference_rule(params), params, n_envs=n_envs, seed=settings.seed)
        slots = params.horizon_slots
        aux, aux_ci = per_env(series, series.total("auxiliary_j") / slots / JOULES_PER_WH)
        waste, waste_ci = per_env(series, series.total("waste_j") / slots / JOULES_PER_WH)
        rates = theory.unbuffered_loss_rates((ratio - 1.0) * critical, sigma)
        rows.append(
            {
                "provisioning": round(float(ratio), 4),
                "theta_wh": (ratio - 1.0) * critical / JOULES_PER_WH,
                "sigma_wh": sigma / JOULES_PER_WH,
                "aux_wh_per_slot": aux,
                "aux_ci95": aux_ci,
                "waste_wh_per_slot": waste,
                "waste_ci95": waste_ci,
                "aux_theory": rates.auxiliary / JOULES_PER_WH,
                "waste_theory": rates.waste / JOULES_PER_WH,
                "episodes": n_envs,
            }
        )
    grid = np.linspace(0.5, 1.5, 201)
    theta = (grid - 1.0) * critical
    rates = theory.unbuffered_loss_rates(theta, sigma)
    fig, axes = figure()
    ax = axes[0, 0]
    wh = JOULES_PER_WH
    ax.plot(grid, np.maximum(-theta, 0) / wh, ":", color="tab:red", lw=1, label="ramp max(-θ, 0)")
    ax.plot(grid, np.maximum(theta, 0) / wh, ":", color="tab:gray", lw=1, label="ramp max(θ, 0)")
    ax.plot(grid, rates.auxiliary / wh, color="tab:red", label="auxiliary, Gaussian theory")
    ax.plot(grid, rates.waste / wh, color="tab:gray", label="waste, Gaussian theory")
    ax.plot(grid, rates.total / wh, color="black", lw=1, label="auxiliary + waste, theory")
    x = [r["provisioning"] for r in rows]
    ax.errorbar(
        x,
        [r["aux_wh_per_slot"] for r in rows],
        [r["aux_ci95"] for r in rows],
        fmt="o",
        color="tab:red",
        label="auxiliary, simulated (95% CI)",
    )
    ax.errorbar(
        x,
        [r["waste_wh_per_slot"] for r in rows],
        [r["waste_ci95"] for r in rows],
        fmt="s",
        color="tab:gray",
        label="waste, simulated (95% CI)",
    )
    ax.axvline(1.0, color="0.6", lw=0.8, ls="--")
    ax.annotate(
        f"b = b*: both = σ/√(2π) = {sigma / math.sqrt(2 * math.pi) / wh:.2f} Wh",
        (1.0, sigma / 2.5 / wh),
        xytext=(1.04, sigma / 1.2 / wh),
        fontsize=8,
        arrowprops={"arrowstyle": "->", "color": "0.4"},
    )
    ax.set_xlabel("provisioning b / b*")
    ax.set_ylabel("Wh per slot")
    ax.set_title("Critical regime: two ramps, rounded minimum at b = b*")
    ax.legend(fontsize=7)
    note = (
        f"critical scenario, reference rule, no storage, unlimited capacity; σ = {sigma / wh:.2f} Wh/slot; "
        f"{n_envs} episodes x {base.horizon_slots} slots per point, seed {settings.seed}"
    )
    return save_figure(fig, out, "critical-sweep", rows, note)
