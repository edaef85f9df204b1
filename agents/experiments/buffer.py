"""``buffer``: auxiliary and waste rates against storage capacity ``C / sigma`` at and around the critical
point; the reflected-diffusion limit and its Siegmund boundary correction.
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
from lrm_gym.scenarios.loader import merge_overrides


def buffer(out: Path, settings: Settings) -> tuple[Path, Path]:
    """Loss against storage capacity at ``theta = 0`` and ``theta = +-0.1 sigma``, with diffusion theory."""
    n_envs = settings.pick(32, 6)
    horizon = settings.pick(1500, 300)
    capacities = settings.pick([0.5, 1.0, 2.0, 4.0, 8.0, 16.0], [1.0, 4.0])
    drifts = settings.pick([-0.1, 0.0, 0.1], [0.0])
    # A light load (4 tasks per slot) over long episodes: the storage level needs ~(C / sigma)^2 slots to mix.
    light = {"horizon_slots": horizon, "arrivals": {"rate_per_slot": 4.0}}
    base = params_for(light)
    routing = reference_rule(base).routing()
    sigma = math.sqrt(theory.variance_decomposition(base, routing).imbalance)
    critical = base.critical_slot_energy_j
    lossless = {
        "charge_efficiency": 1.0,
        "discharge_efficiency": 1.0,
        "max_charge_w": None,
        "max_discharge_w": None,
        "initial_fraction": 0.5,
    }
    rows = []
    grid = [(c, d) for d in drifts for c in capacities]
    for c_sigma, d_sigma in progress(grid, "buffer"):
        capacity_j = c_sigma * sigma
        params = params_for(
            merge_overrides(
                light,
                {
                    "supply": {"provisioning": 1.0 + d_sigma * sigma / critical},
                    "storage": {**lossless, "capacity_wh": capacity_j / JOULES_PER_WH},
                },
            )
        )
        series = simulate(reference_rule(params), params, n_envs=n_envs, seed=settings.seed)
        burn = min(horizon // 3, int(2 * c_sigma**2) + 10)  # discard the transient from the initial level
        aux_values = series.auxiliary_j[:, burn:].mean(axis=1) / sigma
        waste_values = series.waste_j[:, burn:].mean(axis=1) / sigma
        aux, aux_ci = per_env(series, aux_values)
        waste, waste_ci = per_env(series, waste_values)
        plain = theory.buffered_loss_rates(d_sigma, 1.0, c_sigma)
        corrected = theory.buffered_loss_rates(d_sigma, 1.0, c_sigma, boundary_correction=True)
        rows.append(
            {
                "theta_over_sigma": d_sigma,
                "capacity_over_sigma": c_sigma,
                "sigma_wh": sigma / JOULES_PER_WH,
                "aux_over_sigma": aux,
                "aux_ci95": aux_ci,
                "waste_over_sigma": waste,
                "waste_ci95": waste_ci,
                "aux_diffusion": plain.auxiliary,
                "waste_diffusion": plain.waste,
                "aux_corrected": corrected.auxiliary,
                "waste_corrected": corrected.waste,
                "burn_in_slots": burn,
                "episodes": n_envs,
                "slots": horizon,
            }
        )
    fig, axes = figure(2)
    c_grid = np.geomspace(min(capacities) / 1.5, max(capacities) * 1.5, 200)
    colors = {-0.1: "tab:red", 0.0: "black", 0.1: "tab:blue"}
    for col, which in enumerate(("aux", "waste")):
        ax = axes[0, col]
        for d_sigma in drifts:
            color = colors.get(d_sigma)
            plain = theory.buffered_loss_rates(d_sigma, 1.0, c_grid)
            corrected = theory.buffered_loss_rates(d_sigma, 1.0, c_grid, boundary_correction=True)
            value = (lambda r: r.auxiliary) if which == "aux" else (lambda r: r.waste)
            ax.plot(c_grid, value(plain), "--", color=color, lw=1)
            ax.plot(c_grid, value(corrected), "-", color=color, lw=1.2, label=f"θ = {d_sigma:+.1f}σ theory")
            pts = [r for r in rows if r["theta_over_sigma"] == d_sigma]
            ax.errorbar(
                [r["capacity_over_sigma"] for r in pts],
                [r[f"{which}_over_sigma"] for r in pts],
                [r[f"{which}_ci95"] for r in pts],
                fmt="o",
                color=color,
                label=f"θ = {d_sigma:+.1f}σ sim",
            )
        ax.axhline(1 / math.sqrt(2 * math.pi), color="0.6", ls=":", lw=1, label="no storage, θ = 0: σ/√(2π)")
        ax.plot([], [], "--", color="0.3", lw=1, label="plain reflected diffusion")
        ax.plot([], [], "-", color="0.3", lw=1.2, label="Siegmund-corrected diffusion")
        ax.axvspan(c_grid[0], 3.0, color="0.92", zorder=0)
        ax.text(c_grid[0] * 1.1, 0.012, "C < 3σ: plain\ndiffusion limit fails", fontsize=7, color="0.4")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("storage capacity C / σ")
        ax.set_ylabel(f"{'auxiliary' if which == 'aux' else 'waste'} per slot / σ")
        ax.set_title(f"{'Auxiliary' if which == 'aux' else 'Waste'}: storage absorbs variance across time")
        ax.legend(fontsize=7)
    note = (
        f"critical scenario at 4 tasks/slot, lossless storage without power limits, σ = {sigma / JOULES_PER_WH:.2f}"
        f" Wh/slot. Dashed: reflected diffusion σ²/(2C) family; solid: Siegmund-corrected C + 2·0.583σ. "
        f"{n_envs} episodes x {horizon} slots per point, first min(T/3, 2(C/σ)²+10) slots discarded."
    )
    return save_figure(fig, out, "buffer", rows, note)
