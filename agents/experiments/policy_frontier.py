"""``policy-frontier``: accuracy against energy lost (auxiliary + waste kWh per episode) for every analytic
policy on every named scenario; theory where the supply has a closed form.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from agents.experiments.common import (
    Settings,
    per_env,
    progress,
    write_csv,
)
from agents.experiments.simulate import simulate
from agents.policies.analytic import (
    POLICIES,
    StaticPolicy,
)
from lrm_gym import theory
from lrm_gym.core.params import Params, build_params
from lrm_gym.core.units import JOULES_PER_KWH
from lrm_gym.registration import SCENARIO_IDS
from lrm_gym.scenarios.loader import load_scenario


def policy_frontier(out: Path, settings: Settings) -> tuple[Path, Path]:
    """Accuracy against energy lost for every analytic policy on every named scenario (shipped as is)."""
    scenarios = settings.pick(list(SCENARIO_IDS), ["critical", "solar-battery"])
    n_envs = settings.pick(12, 2)
    runs = [(s, name) for s in scenarios for name in POLICIES]
    rows = []
    for scenario, name in progress(runs, "policy-frontier"):
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
        row["lost_kwh"], row["lost_ci95"] = per_env(series, lost)
        row["accuracy"], row["accuracy_ci95"] = per_env(series, accuracy)
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
    write_csv(
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
