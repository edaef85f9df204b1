"""Per-environment random streams, compiled: xoshiro256** with the distributions the simulator draws.

Each environment (row of a batch) owns four uint64 words of generator state in ``State.rng``, so a
sub-environment's randomness depends only on its own seed and history: row ``i`` of a vector env seeded with
``s + i`` replays exactly the single env seeded with ``s + i``, and copying a row's state (generator
included) into another batch continues it identically. A generator object per row would cost microseconds
per call across the Python/numba boundary; four words in an array cost nothing.

Algorithms: xoshiro256** (Blackman and Vigna 2018) seeded through splitmix64, as numpy's and Java's
generators seed; uniforms from the top 53 bits; normals by Box-Muller; Poisson by inversion for small means
and by Hormann's PTRS transformed rejection (as numpy) for means of 10 and more; gamma by Marsaglia-Tsang;
the negative binomial as a gamma-Poisson mixture. Every distribution is checked against its moments in
``tests/test_rng.py``.
"""

from __future__ import annotations

import math

import numpy as np

from lrm_gym.core.compiled import compiled

WORDS = 4
"""uint64 words of generator state per row."""

_SPLITMIX_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SPLITMIX_M1 = np.uint64(0xBF58476D1CE4E5B9)
_SPLITMIX_M2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_M53 = 1.0 / 9007199254740992.0


@compiled
def _rotl(x: np.uint64, k: int) -> np.uint64:
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@compiled
def seed_state(state: np.ndarray, seed: np.uint64) -> None:
    """Fill one row's ``(WORDS,)`` state from a 64-bit seed by splitmix64 (never all zero)."""
    z = np.uint64(seed)
    for i in range(WORDS):
        z = z + _SPLITMIX_GAMMA
        x = z
        x = (x ^ (x >> np.uint64(30))) * _SPLITMIX_M1
        x = (x ^ (x >> np.uint64(27))) * _SPLITMIX_M2
        state[i] = x ^ (x >> np.uint64(31))


@compiled
def next_u64(s: np.ndarray) -> np.uint64:
    """The next 64 random bits of the stream ``s`` (one row's state, updated in place)."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@compiled
def uniform(s: np.ndarray) -> float:
    """Uniform on ``[0, 1)`` with 53 random bits."""
    return float(next_u64(s) >> np.uint64(11)) * _TWO_POW_M53


@compiled
def integers(s: np.ndarray, high: int) -> int:
    """Uniform integer in ``[0, high)`` (bias below ``high / 2**53``)."""
    return min(int(uniform(s) * high), high - 1)


@compiled
def standard_normal(s: np.ndarray) -> float:
    """Standard normal by Box-Muller (one of the pair; the other is not kept, so no hidden state)."""
    u1 = 1.0 - uniform(s)  # in (0, 1]: log is finite
    u2 = uniform(s)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@compiled
def poisson(s: np.ndarray, lam: float) -> int:
    """Poisson count with mean ``lam`` (0 for ``lam <= 0``)."""
    if lam <= 0.0:
        return 0
    if lam < 10.0:
        # inversion: walk the CDF from 0
        u = uniform(s)
        k, p = 0, math.exp(-lam)
        cdf = p
        while u > cdf and k < 1000:
            k += 1
            p *= lam / k
            cdf += p
        return k
    # PTRS (Hormann 1993), the algorithm numpy uses for lam >= 10
    slam, loglam = math.sqrt(lam), math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(s) - 0.5
        v = uniform(s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1):
            return int(k)


@compiled
def gamma(s: np.ndarray, shape: float) -> float:
    """Gamma variate with unit scale (Marsaglia and Tsang 2000; boosted for ``shape < 1``)."""
    if shape < 1.0:
        return gamma(s, shape + 1.0) * (1.0 - uniform(s)) ** (1.0 / shape)
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = standard_normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = 1.0 - uniform(s)
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v


@compiled
def negative_binomial(s: np.ndarray, n: float, p: float) -> int:
    """Failures before ``n`` successes of probability ``p`` (numpy's parametrisation), as Poisson(Gamma)."""
    if p >= 1.0:
        return 0
    return poisson(s, gamma(s, n) * (1.0 - p) / p)


@compiled
def seed_rows(states: np.ndarray, rows: np.ndarray, seeds: np.ndarray) -> None:
    """Seed ``states[rows[k]]`` from ``seeds[k]``."""
    for k in range(rows.size):
        seed_state(states[rows[k]], np.uint64(seeds[k]))


def new_states(seeds: np.ndarray | list[int]) -> np.ndarray:
    """Generator states ``(len(seeds), WORDS)`` for the given non-negative integer seeds."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    states = np.zeros((seeds.size, WORDS), np.uint64)
    seed_rows(states, np.arange(seeds.size), seeds)
    return states
