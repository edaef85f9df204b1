"""Closed-form quantities of the supply processes (:mod:`lrm_gym.core.supply`): the solar clear-sky shape and
scale, and the largest value a sample can take. Plain numpy and scipy, computed once per scenario."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from lrm_gym.core.units import SECONDS_PER_HOUR

UPPER_CLIP_SIGMAS = 8.0
"""Gaussian and AR(1) samples are clipped to ``mean + UPPER_CLIP_SIGMAS * std`` (see :mod:`.supply`)."""


def supply_max(
    kind: str, mean_j: float, std_j: float, cloud_mean: float, cloud_std: float, trace: np.ndarray | None
) -> float:
    """Largest value any sample (and forecast) of this supply can take, for observation bounds."""
    if kind in ("gaussian", "ar1"):
        return mean_j + UPPER_CLIP_SIGMAS * std_j
    if kind == "solar":
        return solar_scale(mean_j, cloud_mean, cloud_std)
    if kind == "trace":
        assert trace is not None
        return mean_j * float(trace.max() / trace.mean())
    return mean_j


def solar_shape(start_hour: float, slot_seconds: float, length: int) -> np.ndarray:
    """Clear-sky shape averaged over each slot; its mean over whole days is exactly ``1 / pi``."""
    hours_per_slot = slot_seconds / SECONDS_PER_HOUR
    edges = start_hour + hours_per_slot * np.arange(length + 1)
    return np.diff(_solar_integral(edges)) / hours_per_slot


def _solar_integral(hours: np.ndarray) -> np.ndarray:
    """``G(h) = integral_0^h max(0, sin(pi (x - 6) / 12)) dx`` for the 24-hour periodic curve."""
    day, hour = np.divmod(hours, 24.0)
    inside = np.clip(hour, 6.0, 18.0)
    partial = (12.0 / math.pi) * (1.0 - np.cos(math.pi * (inside - 6.0) / 12.0))
    return day * (24.0 / math.pi) + partial


def clipped_normal_mean(mean: float, std: float, low: float = 0.0, high: float = 1.0) -> float:
    """``E[clip(mean + std Z, low, high)]`` for standard normal ``Z``, in closed form."""
    if std == 0:
        return float(np.clip(mean, low, high))
    a, b = (low - mean) / std, (high - mean) / std
    middle = mean * (stats.norm.cdf(b) - stats.norm.cdf(a)) + std * (stats.norm.pdf(a) - stats.norm.pdf(b))
    return float(low * stats.norm.cdf(a) + middle + high * stats.norm.sf(b))


def solar_scale(mean_j: float, cloud_mean: float, cloud_std: float) -> float:
    """The clear-sky peak that gives a solar supply the long-run mean ``mean_j`` (shape mean ``1 / pi``)."""
    cloud = clipped_normal_mean(cloud_mean, cloud_std)
    if cloud == 0:
        raise ValueError("supply: a solar supply with cloud factor always 0 cannot have a positive mean")
    return mean_j * math.pi / cloud
