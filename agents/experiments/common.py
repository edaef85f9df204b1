"""Shared pieces of the experiments: run sizes, the common setting (``critical`` with unlimited capacity and
the reference rule), CI helpers, and figure/CSV writing.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.experiments.simulate import SlotSeries
from agents.policies.analytic import (
    AccuracyTarget,
)
from lrm_gym.core.params import Params, build_params
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


def per_env(series: SlotSeries, values: np.ndarray) -> tuple[float, float]:
    """Mean and CI half-width of a per-env statistic."""
    return float(values.mean()), float(Z95 * values.std(ddof=1) / math.sqrt(values.size))


def progress(items: Iterable[Any], desc: str, total: int | None = None) -> Iterable[Any]:
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, total=total, unit="run", leave=False)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def figure(ncols: int = 1, width: float = 6.4, height: float = 4.4) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)


def save_figure(fig: Any, out: Path, name: str, rows: list[dict[str, Any]], note: str) -> tuple[Path, Path]:
    import matplotlib.pyplot as plt

    fig.text(0.01, 0.005, note, fontsize=7, color="0.35", ha="left", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.04 + 0.03 * (len(note) // 160), 1, 1))  # room for the wrapped note
    png, table = out / f"{name}.png", out / f"{name}.csv"
    fig.savefig(png, dpi=130)
    plt.close(fig)
    write_csv(table, rows)
    return png, table
