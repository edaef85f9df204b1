"""Batch-dependent energy per token (docs/model.md section 10, ``task_energy: batch``).

With the scenario option ``task_energy: batch``, a model that served ``n`` tasks with ``T`` tokens in a slot
costs ``T * J(n)`` at the slot's close, ``J`` its measured batch curve (:mod:`lrm_gym.scenarios.catalogue`:
log-log linear between the measured points, the first segment's line below them, the last value above).
The curve travels to the kernels as one table ``(M, 2, K)``: row 0 the knots' ``log(batch)``, row 1 their
``log(J/token)``, padded to the longest curve by repeating each curve's last knot.
"""

from __future__ import annotations

import math

import numpy as np

from lrm_gym.core.compiled import inlined


def curve_table(batches: list[np.ndarray], joules_per_token: list[np.ndarray]) -> np.ndarray:
    """The kernels' ``(M, 2, K)`` table of log knots; ``K = 2`` zeros when there are no curves (additive)."""
    if not batches:
        return np.zeros((0, 2, 2))
    width = max(b.size for b in batches)
    table = np.empty((len(batches), 2, width))
    for i, (b, j) in enumerate(zip(batches, joules_per_token, strict=True)):
        if b.size < 2 or np.any(np.diff(b) <= 0) or np.any(j <= 0):
            raise ValueError("a batch curve needs two or more points with increasing batch and positive energy")
        table[i, 0, : b.size], table[i, 1, : b.size] = np.log(b), np.log(j)
        table[i, :, b.size :] = table[i, :, b.size - 1 : b.size]
    return table


@inlined
def batch_joules_per_token(curve: np.ndarray, model: int, tasks: float) -> float:
    """``J(n)`` of ``model``'s curve at ``n = tasks >= 1`` concurrent tasks (see the module docstring)."""
    x = math.log(tasks)
    width = curve.shape[2]
    if x >= curve[model, 0, width - 1]:
        return math.exp(curve[model, 1, width - 1])
    k = 1
    while k < width - 1 and curve[model, 0, k] < x:
        k += 1  # the first knot at or above x (or knot 1, so that x below the curve uses the first segment)
    x0, x1 = curve[model, 0, k - 1], curve[model, 0, k]
    y0, y1 = curve[model, 1, k - 1], curve[model, 1, k]
    return math.exp(y0 + (x - x0) * (y1 - y0) / (x1 - x0))
