"""Baseline supply processes (energy per slot), generated for a whole episode at reset.

Kinds (DESIGN section 2), all with mean ``mean_j`` per slot:

- ``constant``: ``B_t = mean``.
- ``gaussian``: iid ``N(mean, std^2)``.
- ``ar1``: ``mean + X_t`` with ``X_{t+1} = phi X_t + sqrt(1 - phi^2) std Z``, started stationary, so the
  marginal std is ``std`` whatever ``phi``.
- ``solar``: ``scale * shape(t) * cloud_t``. ``shape`` is the clear-sky curve ``max(0, sin(pi (h - 6) / 12))``
  averaged over the slot (daylight 06:00-18:00, daily mean ``1 / pi``); ``cloud_t = clip(cloud_mean + Y_t,
  0, 1)`` with ``Y`` a stationary AR(1) of std ``cloud_std`` and coefficient ``phi``. ``scale`` makes the
  long-run mean exactly ``mean`` using the closed-form mean of the clipped Gaussian.
- ``trace``: replay of a shipped or user CSV, each row held for ``trace_seconds_per_row``, starting at a
  uniformly random row, scaled so that the trace mean is ``mean``.

Gaussian and AR(1) samples are clipped to ``[0, mean + 8 std]``: supply cannot be negative, and the upper
clip (probability below 1e-15 per slot) gives the observation space a finite bound. With ``std`` small
against ``mean`` the lower clip is equally negligible; otherwise the realised mean sits above ``mean``.

The forecast of slots ``t+1..t+H`` seen at slot ``t`` is the true path plus iid ``N(0, (noise * mean)^2)``
errors, clipped to the supply's range.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import signal, stats

from lrm_gym.core.draws import Draws, as_draws

if TYPE_CHECKING:
    from lrm_gym.core.params import SupplyParams

UPPER_CLIP_SIGMAS = 8.0


def supply_max(supply: SupplyParams) -> float:
    """Largest value any sample (and forecast) of this supply can take, for observation bounds."""
    if supply.kind in ("gaussian", "ar1"):
        return supply.mean_j + UPPER_CLIP_SIGMAS * supply.std_j
    if supply.kind == "solar":
        return _solar_scale(supply)
    if supply.kind == "trace":
        assert supply.trace is not None
        return supply.mean_j * float(supply.trace.max() / supply.trace.mean())
    return supply.mean_j


def sample_supply_path(
    supply: SupplyParams,
    rng: np.random.Generator | Draws,
    n_envs: int,
    length: int,
    start_hour: float,
    slot_seconds: float,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Baseline energy for slots ``0..length-1`` of ``n_envs`` episodes, shape ``(n_envs, length)``.

    ``rows`` (default ``0..n_envs-1``) names the environments the paths are for (see :mod:`.draws`).
    """
    draws = as_draws(rng)
    rows = np.arange(n_envs) if rows is None else rows
    if supply.kind == "constant":
        return np.full((n_envs, length), supply.mean_j)
    if supply.kind == "gaussian":
        path = supply.mean_j + supply.std_j * draws.standard_normal(rows, length)
        return np.clip(path, 0.0, supply.max_j)
    if supply.kind == "ar1":
        path = supply.mean_j + supply.std_j * _stationary_ar1(draws, rows, supply.phi, length)
        return np.clip(path, 0.0, supply.max_j)
    if supply.kind == "solar":
        shape = solar_shape(start_hour, slot_seconds, length)
        cloud = np.clip(
            supply.cloud_mean + supply.cloud_std * _stationary_ar1(draws, rows, supply.phi, length), 0.0, 1.0
        )
        return _solar_scale(supply) * shape[None, :] * cloud
    if supply.kind == "trace":
        assert supply.trace is not None
        trace = supply.trace * (supply.mean_j / supply.trace.mean())
        start = draws.integers(rows, trace.size)[:, None]
        offset = np.floor(np.arange(length) * slot_seconds / supply.trace_seconds_per_row).astype(np.int64)
        return trace[(start + offset[None, :]) % trace.size]
    raise ValueError(f"supply.kind: unknown kind {supply.kind!r}")


def forecast(
    path: np.ndarray,
    slot: np.ndarray,
    supply: SupplyParams,
    rng: np.random.Generator | Draws,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Forecast of slots ``slot+1..slot+H`` for each row of ``path``, shape ``(len(slot), H)``.

    ``rows`` (default ``0..len(slot)-1``) names the environments, for the noise draws.
    """
    horizon = supply.forecast_horizon
    if horizon == 0:
        return np.zeros((slot.shape[0], 0))
    index = (np.arange(slot.shape[0]) * path.shape[1] + slot + 1)[:, None] + np.arange(horizon)[None, :]
    truth = path.reshape(-1).take(index)
    if supply.forecast_noise == 0:
        return truth
    rows = np.arange(slot.shape[0]) if rows is None else rows
    noisy = truth + supply.forecast_noise * supply.mean_j * as_draws(rng).standard_normal(rows, horizon)
    return np.clip(noisy, 0.0, supply.max_j)


def solar_shape(start_hour: float, slot_seconds: float, length: int) -> np.ndarray:
    """Clear-sky shape averaged over each slot; its mean over whole days is exactly ``1 / pi``."""
    hours_per_slot = slot_seconds / 3600.0
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


def _solar_scale(supply: SupplyParams) -> float:
    cloud = clipped_normal_mean(supply.cloud_mean, supply.cloud_std)
    if cloud == 0:
        raise ValueError("supply: a solar supply with cloud factor always 0 cannot have a positive mean")
    return supply.mean_j * math.pi / cloud


def _stationary_ar1(draws: Draws, rows: np.ndarray, phi: float, length: int) -> np.ndarray:
    """Unit-variance stationary AR(1) paths, shape ``(len(rows), length)``."""
    z = draws.standard_normal(rows, length)
    if phi == 0 or length == 0:
        return z
    innovations = math.sqrt(1.0 - phi * phi) * z[:, 1:]
    rest, _ = signal.lfilter([1.0], [1.0, -phi], innovations, axis=1, zi=phi * z[:, :1])
    return np.concatenate([z[:, :1], rest], axis=1)
