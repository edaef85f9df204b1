"""The shipped model catalogue: measured energy per token (ML.ENERGY v3) and published benchmark accuracies.

Two cited tables in ``lrm_gym/scenarios/data`` (docs/model.md section 7):

- ``ml_energy_v3_catalogue.csv``: energy per output token of each *configuration* (a model served by vLLM on
  ``num_gpus`` GPUs of one type, on one task) at each measured batch size limit ``max_num_seqs``, with the
  mean number of requests actually in flight (``avg_batch_size``). Chung et al., "The ML.ENERGY Benchmark",
  NeurIPS 2025 Datasets and Benchmarks, leaderboard v3 data.
- ``published_accuracy.csv``: benchmark accuracies of the same models, one citation per number.

A configuration measured twice at the same ``max_num_seqs`` (one row in the catalogue: gpt-oss-20b on one
H100 at 96) counts as the mean of its rows, for its energy per token and for its batch.

**Batch curve.** The energy per token of a configuration as a function of the number of tasks served
concurrently ``n`` is interpolated linearly in ``(log n, log J)`` between the measured points, placed at their
mean batch ``avg_batch_size``; below the smallest measured batch it continues the first segment's log-log line
(at small batches the GPU's power is nearly constant while throughput grows with the batch, so J/token falls
roughly as ``1/n``: the catalogue's first segments have log-log slopes from -0.35 to -0.97, -0.97 for
Qwen3-32B on a B200 on GPQA); above the largest it holds
the last measured value (no saving beyond what was measured is assumed). Each segment is monotone, so the
curve lies between its two end points on every segment.

This module reads only the shipped files (never the source data) and caches what it parsed.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

_PACKAGE = "lrm_gym.scenarios"
CATALOGUE_FILE = "ml_energy_v3_catalogue.csv"
ACCURACY_FILE = "published_accuracy.csv"
TASKS = ("gpqa", "lm-arena-chat", "sourcegraph-fim")
"""The ML.ENERGY v3 tasks in the catalogue: GPQA Diamond with reasoning on, chat, code fill-in-the-middle."""


@dataclass(frozen=True)
class Configuration:
    """One measured configuration: a model on ``num_gpus`` GPUs of type ``gpu`` on ``task``."""

    model_id: str
    gpu: str
    num_gpus: int
    task: str

    def __str__(self) -> str:
        return f"{self.model_id} on {self.num_gpus} x {self.gpu}, task {self.task}"


@dataclass(frozen=True)
class BatchCurve:
    """A configuration's measurements, one entry per measured ``max_num_seqs`` (increasing)."""

    configuration: Configuration
    max_num_seqs: np.ndarray  # (K,) int, the configured batch size limits
    batch: np.ndarray  # (K,) mean requests in flight (avg_batch_size), strictly increasing
    joules_per_token: np.ndarray  # (K,) measured energy per output token, J
    output_tokens: np.ndarray  # (K,) mean output tokens per request


def _read_rows(name: str) -> list[dict[str, str]]:
    text = (resources.files(_PACKAGE) / "data" / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


@cache
def _curves() -> dict[Configuration, BatchCurve]:
    groups: dict[Configuration, dict[int, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for row in _read_rows(CATALOGUE_FILE):
        key = Configuration(row["model_id"], row["gpu_model"], int(row["num_gpus"]), row["task"])
        groups[key][int(row["max_num_seqs"])].append(row)
    curves = {}
    for key, by_seqs in groups.items():
        seqs = sorted(by_seqs)

        def mean(column: str, rows: dict[int, list[dict[str, str]]] = by_seqs) -> np.ndarray:
            return np.array([np.mean([float(r[column]) for r in rows[s]]) for s in sorted(rows)])

        batch = mean("avg_batch_size")
        if np.any(np.diff(batch) <= 0):  # a shipped-data invariant (tests/lrm_gym/test_catalogue.py checks it)
            raise ValueError(f"{CATALOGUE_FILE}: {key}: the mean batch does not grow with max_num_seqs")
        curves[key] = BatchCurve(
            configuration=key,
            max_num_seqs=np.array(seqs, dtype=np.int64),
            batch=batch,
            joules_per_token=mean("energy_per_token_j"),
            output_tokens=mean("avg_output_tokens"),
        )
    return curves


def configurations() -> list[Configuration]:
    """Every configuration in the catalogue."""
    return list(_curves())


def batch_curve(model_id: str, gpu: str, num_gpus: int = 1, task: str = "gpqa") -> BatchCurve:
    """The measurements of one configuration; a ``ValueError`` naming what exists when it is not measured."""
    key = Configuration(model_id, gpu, num_gpus, task)
    curves = _curves()
    if key in curves:
        return curves[key]
    same_model = sorted(str(c) for c in curves if c.model_id == model_id)
    if not same_model:
        models = sorted({c.model_id for c in curves})
        raise ValueError(f"model_id {model_id!r} is not in the ML.ENERGY catalogue ({CATALOGUE_FILE}); known: {models}")
    raise ValueError(f"{key} is not measured in the ML.ENERGY catalogue; measured for this model: {same_model}")


def measured_joules_per_token(model_id: str, gpu: str, num_gpus: int, task: str, max_num_seqs: int) -> float:
    """The measured energy per output token of a configuration at batch size limit ``max_num_seqs`` (J)."""
    curve = batch_curve(model_id, gpu, num_gpus, task)
    where = np.flatnonzero(curve.max_num_seqs == max_num_seqs)
    if where.size == 0:
        raise ValueError(
            f"{curve.configuration} is not measured at batch {max_num_seqs}; "
            f"measured batches (max_num_seqs): {curve.max_num_seqs.tolist()}"
        )
    return float(curve.joules_per_token[where[0]])


def interpolate(curve: BatchCurve, batch: np.ndarray | float) -> np.ndarray:
    """The batch curve (log-log linear, see the module docstring) at ``batch`` concurrent tasks (``>= 1``).

    The reference implementation the compiled kernel (:mod:`lrm_gym.core.batch_energy`) is tested against.
    """
    n = np.asarray(batch, dtype=np.float64)
    if np.any(n < 1):
        raise ValueError("batch curves are defined for one or more concurrent tasks")
    x, y = np.log(curve.batch), np.log(curve.joules_per_token)
    log_n = np.log(n)
    inside = np.interp(log_n, x, y)  # holds the end values outside [x[0], x[-1]]
    slope = (y[1] - y[0]) / (x[1] - x[0])
    below = y[0] + slope * (log_n - x[0])
    return np.exp(np.where(log_n < x[0], below, inside))


@dataclass(frozen=True)
class PublishedAccuracy:
    """One published benchmark accuracy and where it was published."""

    model_id: str
    benchmark: str
    setting: str
    accuracy: float
    source: str


@cache
def published_accuracies() -> tuple[PublishedAccuracy, ...]:
    """Every row of ``published_accuracy.csv``."""
    return tuple(
        PublishedAccuracy(r["model_id"], r["benchmark"], r["setting"], float(r["accuracy"]), r["source"])
        for r in _read_rows(ACCURACY_FILE)
    )


def published_accuracy(model_id: str, benchmark: str) -> PublishedAccuracy:
    """The published accuracy of ``model_id`` on ``benchmark`` (a ``ValueError`` listing what is shipped)."""
    for entry in published_accuracies():
        if (entry.model_id, entry.benchmark) == (model_id, benchmark):
            return entry
    shipped = sorted({(e.model_id, e.benchmark) for e in published_accuracies()})
    raise ValueError(f"no published accuracy for {model_id!r} on {benchmark!r} in {ACCURACY_FILE}; shipped: {shipped}")
