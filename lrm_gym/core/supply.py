"""Baseline supply processes (energy per slot), generated for a whole episode at reset.

Kinds (docs/model.md section 2), all with mean ``mean_j`` per slot:

- ``constant``: ``B_t = mean``.
- ``gaussian``: iid ``N(mean, std^2)``.
- ``ar1``: ``mean + X_t`` with ``X_{t+1} = phi X_t + sqrt(1 - phi^2) std Z``, started stationary, so the
  marginal std is ``std`` whatever ``phi``.
- ``solar``: ``scale * shape(t) * cloud_t``. ``shape`` is the clear-sky curve ``max(0, sin(pi (h - 6) / 12))``
  averaged over the slot (daylight 06:00-18:00, daily mean ``1 / pi``); ``cloud_t = clip(cloud_mean + Y_t,
  0, 1)`` with ``Y`` a stationary AR(1) of std ``cloud_std`` and coefficient ``phi``. ``scale`` makes the
  long-run mean exactly ``mean`` using the closed-form mean of the clipped Gaussian.
- ``trace``: replay of a shipped or user CSV, each row held for ``trace_seconds_per_row``, starting at a
  uniformly random row (wrapping around the end), or with ``supply.trace_start`` at one of the candidate rows
  of :func:`lrm_gym.core.series.supply_trace_starts` (whole days, a date range; no wrapping), scaled so that
  the trace mean is ``mean``.

Gaussian and AR(1) samples are clipped to ``[0, mean + 8 std]``: supply cannot be negative, and the upper
clip (probability below 1e-15 per slot) gives the observation space a finite bound. With ``std`` small
against ``mean`` the lower clip is equally negligible; otherwise the realised mean sits above ``mean``.

The forecast of slots ``t+1..t+H`` seen at slot ``t`` is the true path plus iid ``N(0, (noise * mean)^2)``
errors, clipped to the supply's range.
"""

from __future__ import annotations

import math

import numpy as np

from lrm_gym.core import rng
from lrm_gym.core.compiled import compiled, inlined
from lrm_gym.core.kinds import SUPPLY_AR1, SUPPLY_CONSTANT, SUPPLY_GAUSSIAN, SUPPLY_SOLAR
from lrm_gym.core.params import Params
from lrm_gym.core.supply_math import (  # re-exported: these lived here before supply_math
    UPPER_CLIP_SIGMAS,
    clipped_normal_mean,
    solar_scale,
    solar_shape,
    supply_max,
)
from lrm_gym.core.tables import KernelTables, Scalar

__all__ = [
    "UPPER_CLIP_SIGMAS",
    "clipped_normal_mean",
    "forecast_into",
    "sample_path",
    "sample_supply_paths",
    "solar_scale",
    "solar_shape",
    "supply_max",
]


@inlined
def sample_path(t: KernelTables, path: np.ndarray, rng_state: np.ndarray) -> None:
    """Fill one env's ``path`` (baseline energy per slot) from its random stream; ``t`` is ``params.kernel``."""
    sc = t.scalars
    kind, mean, std = int(sc[Scalar.SUPPLY_KIND]), sc[Scalar.SUPPLY_MEAN_J], sc[Scalar.SUPPLY_STD_J]
    if kind == SUPPLY_CONSTANT:
        path[:] = mean
    elif kind == SUPPLY_GAUSSIAN:
        for i in range(path.size):
            path[i] = min(max(mean + std * rng.standard_normal(rng_state), 0.0), sc[Scalar.SUPPLY_MAX_J])
    elif kind == SUPPLY_AR1:
        _stationary_ar1(rng_state, sc[Scalar.SUPPLY_PHI], path)
        for i in range(path.size):
            path[i] = min(max(mean + std * path[i], 0.0), sc[Scalar.SUPPLY_MAX_J])
    elif kind == SUPPLY_SOLAR:
        _stationary_ar1(rng_state, sc[Scalar.SUPPLY_PHI], path)
        for i in range(path.size):
            cloud = min(max(sc[Scalar.CLOUD_MEAN] + sc[Scalar.CLOUD_STD] * path[i], 0.0), 1.0)
            path[i] = sc[Scalar.SOLAR_SCALE_J] * t.supply_shape[i] * cloud
    else:  # trace, from a uniformly random row, or from a candidate start of supply.trace_start
        if t.trace_starts.size == 0:
            start = rng.integers(rng_state, t.trace.size)
        else:  # the window fits inside the trace: the modulo below never wraps
            start = t.trace_starts[rng.integers(rng_state, t.trace_starts.size)]
        for i in range(path.size):
            path[i] = t.trace[(start + int(t.supply_shape[i])) % t.trace.size]


@compiled
def _stationary_ar1(rng_state: np.ndarray, phi: float, out: np.ndarray) -> None:
    """A unit-variance stationary AR(1) path into ``out``."""
    innovation = math.sqrt(1.0 - phi * phi)
    x = rng.standard_normal(rng_state)
    for i in range(out.size):
        if i > 0:
            x = phi * x + innovation * rng.standard_normal(rng_state)
        out[i] = x


@inlined
def forecast_into(t: KernelTables, path: np.ndarray, slot: int, out: np.ndarray, rng_state: np.ndarray) -> None:
    """Forecast of slots ``slot+1..slot+H`` of one env's ``path`` into ``out`` (``(H,)``)."""
    sc = t.scalars
    noise = sc[Scalar.FORECAST_NOISE] * sc[Scalar.SUPPLY_MEAN_J]
    for h in range(out.size):
        truth = path[slot + 1 + h]
        if noise > 0.0:
            out[h] = min(max(truth + noise * rng.standard_normal(rng_state), 0.0), sc[Scalar.SUPPLY_MAX_J])
        else:
            out[h] = truth


def sample_supply_paths(params: Params, seeds: np.ndarray | list[int], length: int | None = None) -> np.ndarray:
    """Supply paths ``(len(seeds), length)`` as the envs draw them at reset, one per seed (for analysis and
    tests; ``length`` defaults to the episode's path, horizon plus forecast horizon)."""
    length = params.horizon_slots + params.supply.forecast_horizon if length is None else length
    if params.supply.kind in ("solar", "trace") and length > params.kernel.supply_shape.size:
        slots = params.kernel.supply_shape.size
        raise ValueError(f"length {length} exceeds the {slots} slots of the scenario's episode")
    states = rng.new_states(seeds)
    paths = np.empty((states.shape[0], length))
    for row in range(states.shape[0]):
        sample_path(params.kernel, paths[row], states[row])
    return paths
