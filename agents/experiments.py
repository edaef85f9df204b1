"""``lrm-gym experiment <name>``: the paper's claims in the simulator, with the theory drawn on top.

Each experiment writes ``<name>.png`` and ``<name>.csv`` under ``--out``: simulation points with 95% confidence
intervals (1.96 standard errors across independent episodes, run side by side by :func:`agents.simulate.simulate`)
and the closed-form curve of :mod:`lrm_gym.theory` on the same axes. ``--quick`` uses fewer points and shorter
runs (under a minute each) for smoke tests; the README's figures come from the full runs.

Common setting unless stated: the ``critical`` scenario with model capacity made unlimited (the theory assumes
every task is served in its slot; capacity masks would move tasks between options), and the scenario's
reference rule (:class:`~agents.analytic.AccuracyTarget` at the reference target) as the router, so
``provisioning`` is exactly ``b / b*``.

=================  ============================================================================================
``critical-sweep``  auxiliary and waste rates against ``b / b*`` (0.5 to 1.5), no storage; the two ramps
                    ``max(-theta, 0)``, ``max(theta, 0)`` and the Gaussian theory's rounded minimum at ``b = b*``.
``volatility``      at ``theta = 0``, the loss rate against the imbalance std, varying supply std, arrival
                    burstiness (negative-binomial dispersion) and reasoning-length dispersion (the step cap of
                    a single option); theory ``sigma / sqrt(2 pi)``.
``buffer``          auxiliary and waste rates against storage capacity ``C / sigma`` at and around the critical
                    point; the reflected-diffusion limit and its Siegmund boundary correction.
``variance-sources`` per-slot demand variance split into arrivals, within-option and between-option terms for
                    training-compute dispatch, inference-compute dispatch, the critical mix and the
                    variance-aware LP at (nearly) equal mean demand; simulated variance on top.
``policy-frontier`` accuracy against energy lost (auxiliary + waste kWh per episode) for every analytic policy on
                    every named scenario; theory where the supply has a closed form.
=================  ============================================================================================
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from agents.analytic import (
    POLICIES,
    AccuracyTarget,
    CriticalMix,
    FixedOption,
    InferenceComputeDispatch,
    StaticPolicy,
    TrainingComputeDispatch,
    VarianceAwareLP,
)
from agents.simulate import SlotSeries, simulate
from lrm_gym import theory
from lrm_gym.core.params import Params, build_params
from lrm_gym.core.units import JOULES_PER_KWH, JOULES_PER_WH
from lrm_gym.registration import SCENARIO_IDS
from lrm_gym.scenarios.loader import load_scenario, merge_overrides

Z95 = 1.959963984540054
"""Two-sided 95% normal quantile: CI half-width = Z95 * standard error across independent episodes."""


@dataclass(frozen=True)
class Settings:
    """Run sizes: ``quick`` for smoke tests, the default for the README figures."""

    quick: bool
    seed: int

    def pick(self, full: Any, quick: Any) -> Any:
        return quick if self.quick else full


def unlimited_capacity(scenario: str = "critical") -> dict[str, Any]:
    """Overrides that lift every model's per-slot token capacity (lists are replaced whole)."""
    models = load_scenario(scenario).model_dump()["models"]
    return {"models": [{**m, "capacity_tokens_per_slot": None} for m in models]}


def params_for(overrides: Mapping[str, Any], scenario: str = "critical") -> Params:
    """Params of ``scenario`` with unlimited capacity and ``overrides`` merged on top."""
    return build_params(load_scenario(scenario, merge_overrides(unlimited_capacity(scenario), overrides)))


def reference_rule(params: Params) -> AccuracyTarget:
    """The scenario's reference rule, whose critical supply defines ``provisioning``."""
    return AccuracyTarget(params, target=params.reference_accuracy_target)


def _per_env(series: SlotSeries, values: np.ndarray) -> tuple[float, float]:
    """Mean and CI half-width of a per-env statistic."""
    return float(values.mean()), float(Z95 * values.std(ddof=1) / math.sqrt(values.size))


def _progress(items: Iterable[Any], desc: str, total: int | None = None) -> Iterable[Any]:
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, total=total, unit="run", leave=False)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _figure(ncols: int = 1, width: float = 6.4, height: float = 4.4) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)


def _save(fig: Any, out: Path, name: str, rows: list[dict[str, Any]], note: str) -> tuple[Path, Path]:
    import matplotlib.pyplot as plt

    fig.text(0.01, 0.005, note, fontsize=7, color="0.35", ha="left", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.04 + 0.03 * (len(note) // 160), 1, 1))  # room for the wrapped note
    png, table = out / f"{name}.png", out / f"{name}.csv"
    fig.savefig(png, dpi=130)
    plt.close(fig)
    _write_csv(table, rows)
    return png, table


# --------------------------------------------------------------------------------------------------------------
# 1. critical sweep
# --------------------------------------------------------------------------------------------------------------


def critical_sweep(out: Path, settings: Settings) -> tuple[Path, Path]:
    """Auxiliary and waste rates against ``b / b*`` without storage, with the Gaussian theory."""
    ratios = np.linspace(0.5, 1.5, settings.pick(11, 5))
    n_envs = settings.pick(48, 8)
    base = params_for({})
    routing = reference_rule(base).routing()
    sigma = math.sqrt(theory.variance_decomposition(base, routing).imbalance)
    critical = base.critical_slot_energy_j
    rows = []
    for ratio in _progress(ratios, "critical-sweep"):
        params = params_for({"supply": {"provisioning": float(ratio)}})
        series = simulate(reference_rule(params), params, n_envs=n_envs, seed=settings.seed)
        slots = params.horizon_slots
        aux, aux_ci = _per_env(series, series.total("auxiliary_j") / slots / JOULES_PER_WH)
        waste, waste_ci = _per_env(series, series.total("waste_j") / slots / JOULES_PER_WH)
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
    fig, axes = _figure()
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
    return _save(fig, out, "critical-sweep", rows, note)


# --------------------------------------------------------------------------------------------------------------
# 2. volatility
# --------------------------------------------------------------------------------------------------------------


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
    for label, value, params, policy in _progress(runs, "volatility"):
        op = theory.operating_point(params, policy.routing())
        series = simulate(policy, params, n_envs=n_envs, seed=settings.seed)
        slots = params.horizon_slots
        loss = (series.total("auxiliary_j") + series.total("waste_j")) / 2 / slots / JOULES_PER_WH
        mean, ci = _per_env(series, loss)
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
    fig, axes = _figure()
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
    return _save(fig, out, "volatility", rows, note)


# --------------------------------------------------------------------------------------------------------------
# 3. buffer
# --------------------------------------------------------------------------------------------------------------


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
    for c_sigma, d_sigma in _progress(grid, "buffer"):
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
        aux, aux_ci = _per_env(series, aux_values)
        waste, waste_ci = _per_env(series, waste_values)
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
    fig, axes = _figure(2)
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
    return _save(fig, out, "buffer", rows, note)


# --------------------------------------------------------------------------------------------------------------
# 4. variance sources
# --------------------------------------------------------------------------------------------------------------


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
    for name, policy in _progress(list(policies.items()), "variance-sources"):
        parts = theory.variance_decomposition(params, policy.routing())
        moments = policy.moments()
        series = simulate(policy, params, n_envs=n_envs, seed=settings.seed)
        if series.merged_slots:
            raise RuntimeError("variance-sources needs one slot per decision step; raise the arrival rate")
        empirical, ci = _per_env(series, series.demand_j.var(axis=1, ddof=1) / 1e6)
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
    fig, axes = _figure(width=7.5)
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
    return _save(fig, out, "variance-sources", rows, note)


# --------------------------------------------------------------------------------------------------------------
# 5. policy frontier
# --------------------------------------------------------------------------------------------------------------


def policy_frontier(out: Path, settings: Settings) -> tuple[Path, Path]:
    """Accuracy against energy lost for every analytic policy on every named scenario (shipped as is)."""
    scenarios = settings.pick(list(SCENARIO_IDS), ["critical", "solar-battery"])
    n_envs = settings.pick(12, 2)
    runs = [(s, name) for s in scenarios for name in POLICIES]
    rows = []
    for scenario, name in _progress(runs, "policy-frontier"):
        params = build_params(load_scenario(scenario))
        try:
            policy = POLICIES[name](params)
        except ValueError as err:  # e.g. no critical mix exists for this supply
            rows.append({"scenario": scenario, "policy": name, "error": str(err)})
            continue
        series = simulate(policy, params, n_envs=n_envs, seed=settings.seed)
        lost = (series.total("auxiliary_j") + series.total("waste_j")) / JOULES_PER_KWH
        accuracy = series.total("tasks_correct") / np.maximum(series.total("tasks_dispatched"), 1)
        row: dict[str, Any] = {"scenario": scenario, "policy": name, "error": ""}
        row["lost_kwh"], row["lost_ci95"] = _per_env(series, lost)
        row["accuracy"], row["accuracy_ci95"] = _per_env(series, accuracy)
        row["lost_kwh_theory"], row["accuracy_theory"] = _frontier_theory(params, policy)
        row["episodes"] = n_envs
        rows.append(row)
    ncols = min(len(scenarios), 4)
    nrows = math.ceil(len(scenarios) / ncols)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.8 * nrows + 0.8), squeeze=False)
    colors = {name: plt.get_cmap("tab10")(k) for k, name in enumerate(POLICIES)}
    for k, scenario in enumerate(scenarios):
        ax = axes[k // ncols, k % ncols]
        for row in (r for r in rows if r["scenario"] == scenario and not r["error"]):
            color = colors[row["policy"]]
            ax.errorbar(
                row["lost_kwh"],
                row["accuracy"],
                yerr=row["accuracy_ci95"],
                xerr=row["lost_ci95"],
                fmt="o",
                color=color,
                label=row["policy"],
            )
            if not math.isnan(row["lost_kwh_theory"]):
                ax.plot(row["lost_kwh_theory"], row["accuracy_theory"], "o", mfc="none", mec=color, ms=11)
        ax.set_title(scenario)
        ax.set_xlabel("auxiliary + waste (kWh per episode)")
        ax.set_ylabel("accuracy")
    for k in range(len(scenarios), nrows * ncols):
        axes[k // ncols, k % ncols].axis("off")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 7), fontsize=8)
    note = (
        f"filled: simulated, 95% CI over {n_envs} episodes (shipped scenarios, default policy parameters); "
        "hollow: theory for static routings where the supply has a closed form (stationary, no deferral)."
    )
    fig.text(0.01, 0.005, note, fontsize=7, color="0.35")
    fig.tight_layout(rect=(0, 0.03, 1, 0.93))
    png, table = out / "policy-frontier.png", out / "policy-frontier.csv"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    _write_csv(
        table,
        [
            {
                **{
                    "lost_kwh": "",
                    "lost_ci95": "",
                    "accuracy": "",
                    "accuracy_ci95": "",
                    "lost_kwh_theory": "",
                    "accuracy_theory": "",
                    "episodes": "",
                },
                **r,
            }
            for r in rows
        ],
    )
    return png, table


def _frontier_theory(params: Params, policy: Any) -> tuple[float, float]:
    """Predicted energy lost per episode (kWh) and accuracy of a static policy; NaN where theory has no form."""
    if not isinstance(policy, StaticPolicy):
        return float("nan"), float("nan")
    try:
        op = theory.operating_point(params, policy.routing())
    except ValueError:  # solar and trace supplies
        return float("nan"), float("nan")
    lost = (op.auxiliary_j + op.waste_j) * params.horizon_slots / JOULES_PER_KWH
    return lost, policy.moments().accuracy


EXPERIMENTS: dict[str, Callable[[Path, Settings], tuple[Path, Path]]] = {
    "critical-sweep": critical_sweep,
    "volatility": volatility,
    "buffer": buffer,
    "variance-sources": variance_sources,
    "policy-frontier": policy_frontier,
}


def run_experiment(
    name: str, out: str | Path = "runs/experiments", quick: bool = False, seed: int = 0
) -> tuple[Path, Path]:
    """Run one experiment; returns the PNG and CSV paths. Unknown names raise ``ValueError``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {sorted(EXPERIMENTS)}")
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    return EXPERIMENTS[name](directory, Settings(quick=quick, seed=seed))


def run(args: argparse.Namespace) -> int:
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    for name in names:
        png, table = run_experiment(name, args.out, args.quick, args.seed)
        print(f"{name}: wrote {png} and {table}")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("experiment", help="reproduce a claim of the paper: figure + CSV, theory on top")
    parser.add_argument("name", choices=[*EXPERIMENTS, "all"], help="which experiment")
    parser.add_argument("--out", default="runs/experiments", help="output directory (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="fewer points and shorter runs (under a minute)")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed (default: %(default)s)")
    parser.set_defaults(func=run)
