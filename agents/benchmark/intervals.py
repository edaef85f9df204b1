"""Confidence intervals: the Student-t interval of a mean and the Welch interval of a difference of means.

A leaf module (numpy and scipy only), so that the headroom code and the benchmark statistics share it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

CONFIDENCE = 0.95


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Mean and half-width of the Student-t confidence interval of the mean (NaN half-width for n < 2).

    NaN values (e.g. energy per correct answer with no correct answer) are left out.
    """
    from scipy import stats

    x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if x.size == 0:
        return float("nan"), float("nan")
    mean = float(x.mean())
    if x.size < 2:
        return mean, float("nan")
    sem = stats.sem(x)
    if sem == 0:  # no spread (scipy's t.interval wants a positive scale)
        return mean, 0.0
    # The interval centred on 0 with the standard error as scale: its upper end is the half-width.
    return mean, float(stats.t.interval(confidence, x.size - 1, scale=sem)[1])


def welch_difference(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Mean of ``a`` minus mean of ``b`` and the half-width of its Welch-t confidence interval."""
    from scipy import stats

    x, y = np.asarray(a, float), np.asarray(b, float)
    diff = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return diff, float("nan")
    if np.ptp(x) == 0 and np.ptp(y) == 0:  # no spread at all: scipy would warn about precision loss
        return diff, 0.0
    low, high = stats.ttest_ind(x, y, equal_var=False).confidence_interval(confidence)
    return diff, float((high - low) / 2)
