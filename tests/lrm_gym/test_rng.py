"""The compiled per-row random streams of ``lrm_gym.core.rng``: reproducibility and distributions.

Seeds are fixed, so every test is deterministic. Moment checks allow ``Z = 4`` standard errors (two-sided
p ~ 6e-5 per comparison under a correct generator); the standard error of each statistic is derived in the
test from the distribution's own moments (asymptotic, n >= 1e5):

* sample mean: ``SE = sqrt(sigma^2 / n)``;
* sample variance: ``Var(s^2) ~ (mu4 - sigma^4) / n`` with ``mu4`` the fourth central moment, so
  ``SE = sqrt((mu4 - sigma^4) / n)``.

Goodness-of-fit tests (scipy's Kolmogorov-Smirnov for continuous laws, Pearson chi-square for discrete ones,
tail bins pooled until each expected count is at least 5) must not reject at ``ALPHA = 1e-3``.

Samples are drawn by the small ``@njit`` loops below, so each test costs milliseconds once numba compiled.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit
from scipy import stats

from lrm_gym.core import rng

Z = 4.0
ALPHA = 1e-3
N = 100_000  # draws per distribution check: 4 SE of a mean is 1.3% of sigma

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


# --------------------------------------------------------------------------------------------- sampling loops


@njit
def _u64s(state, n):
    out = np.empty(n, np.uint64)
    for i in range(n):
        out[i] = rng.next_u64(state)
    return out


@njit
def _uniforms(state, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.uniform(state)
    return out


@njit
def _integers(state, high, n):
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = rng.integers(state, high)
    return out


@njit
def _normals(state, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.standard_normal(state)
    return out


@njit
def _poissons(state, lam, n):
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = rng.poisson(state, lam)
    return out


@njit
def _gammas(state, shape, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.gamma(state, shape)
    return out


@njit
def _negative_binomials(state, successes, p, n):
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = rng.negative_binomial(state, successes, p)
    return out


def _state(seed: int) -> np.ndarray:
    return rng.new_states([seed])[0]


# --------------------------------------------------------------------------------------------- statistics


def _assert_moments(x: np.ndarray, mean: float, var: float, mu4: float) -> None:
    """Sample mean and variance within ``Z`` SE of ``mean`` and ``var`` (``mu4``: fourth central moment)."""
    n = x.size
    se_mean = math.sqrt(var / n)
    se_var = math.sqrt((mu4 - var**2) / n)
    m, v = float(x.mean()), float(x.var(ddof=1))
    assert abs(m - mean) <= Z * se_mean, f"mean {m:.6g} vs {mean:.6g}: {(m - mean) / se_mean:+.2f} SE"
    assert abs(v - var) <= Z * se_var, f"variance {v:.6g} vs {var:.6g}: {(v - var) / se_var:+.2f} SE"


def _assert_ks(x: np.ndarray, cdf) -> None:
    result = stats.kstest(x, cdf)
    assert result.pvalue > ALPHA, f"KS statistic {result.statistic:.4g}, p = {result.pvalue:.3g}"


def _assert_chisquare_discrete(x: np.ndarray, dist) -> None:
    """Pearson chi-square of integer samples against a frozen scipy law on ``{0, 1, ...}``.

    Bins ``0 .. K-1`` plus the tail ``>= K``; scanning left to right, adjacent bins are pooled until each
    expected count reaches 5, and a short remainder at the right end joins the last full bin.
    """
    n = x.size
    k_max = int(max(x.max(), dist.isf(1e-12))) + 1
    expected = n * np.append(dist.pmf(np.arange(k_max)), dist.sf(k_max - 1))
    observed = np.bincount(np.minimum(x, k_max), minlength=k_max + 1).astype(float)
    obs_bins, exp_bins = [], []
    acc_o = acc_e = 0.0
    for o, e in zip(observed, expected, strict=True):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 5.0:
            obs_bins.append(acc_o)
            exp_bins.append(acc_e)
            acc_o = acc_e = 0.0
    obs_bins[-1] += acc_o
    exp_bins[-1] += acc_e
    assert len(exp_bins) >= 2
    result = stats.chisquare(obs_bins, exp_bins)
    assert result.pvalue > ALPHA, f"chi2 = {result.statistic:.1f} on {len(exp_bins) - 1} dof, p = {result.pvalue:.3g}"


# --------------------------------------------------------------------------------------------- reproducibility


def _splitmix_reference(seed: int) -> list[int]:
    """Plain-Python splitmix64: the four state words ``seed_state`` should produce."""
    z, words = seed, []
    for _ in range(rng.WORDS):
        z = (z + _GOLDEN) & _MASK64
        x = z
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
        words.append(x ^ (x >> 31))
    return words


def _xoshiro_reference(words: list[int], n: int) -> list[int]:
    """Plain-Python xoshiro256** (Blackman and Vigna): the first ``n`` outputs from state ``words``."""

    def rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & _MASK64

    s = list(words)
    out = []
    for _ in range(n):
        out.append(rotl((s[1] * 5) & _MASK64, 7) * 9 & _MASK64)
        t = (s[1] << 17) & _MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def test_seeding_matches_splitmix64_test_vector() -> None:
    # splitmix64 seeded with 0 starts e220a8397b1dcdaf 6e789e6aa1b965f4 06c45d188009454f f88bb8a8724c81ec
    expected = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F, 0xF88BB8A8724C81EC]
    assert _splitmix_reference(0) == expected
    assert [int(w) for w in _state(0)] == expected


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 + 7, 2**64 - 1])
def test_stream_matches_reference_xoshiro256starstar(seed: int) -> None:
    words = _splitmix_reference(seed)
    state = rng.new_states([seed])[0]
    assert [int(w) for w in state] == words
    assert [int(v) for v in _u64s(state, 64)] == _xoshiro_reference(words, 64)


def test_same_seed_same_stream() -> None:
    a, b = _state(2024), _state(2024)
    np.testing.assert_array_equal(_u64s(a, 1000), _u64s(b, 1000))
    np.testing.assert_array_equal(a, b)  # and the states stay in step
    np.testing.assert_array_equal(_normals(a, 100), _normals(b, 100))


@pytest.mark.parametrize(("seed_a", "seed_b"), [(0, 1), (41, 42), (2**32 - 1, 2**32)])
def test_different_seeds_different_streams(seed_a: int, seed_b: int) -> None:
    a, b = _u64s(_state(seed_a), 10_000), _u64s(_state(seed_b), 10_000)
    # two independent 64-bit streams coincide at a position with probability 2**-64
    assert not np.any(a == b)


def test_adjacent_rows_are_uncorrelated() -> None:
    """Rows seeded ``s`` and ``s + 1`` in one batch: uniforms' correlation within Z / sqrt(n) of 0."""
    states = rng.new_states([100, 101])
    n = N
    u, v = _uniforms(states[0], n), _uniforms(states[1], n)
    # under independence the sample correlation has SE 1 / sqrt(n)
    assert abs(np.corrcoef(u, v)[0, 1]) <= Z / math.sqrt(n)
    assert not np.any(u == v)


def test_serial_correlation_of_uniforms() -> None:
    u = _uniforms(_state(5), N)
    # lag-1 sample autocorrelation of an i.i.d. sequence has SE 1 / sqrt(n)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) <= Z / math.sqrt(N - 1)


def test_seeded_state_never_all_zero() -> None:
    states = rng.new_states(np.arange(20_000))
    assert np.all(np.any(states != 0, axis=1))
    assert len({tuple(row) for row in states.tolist()}) == states.shape[0]


@pytest.mark.parametrize("word", range(rng.WORDS))
def test_seed_zeroing_one_word_still_gives_live_stream(word: int) -> None:
    """The splitmix64 finaliser is a bijection with mix(0) = 0, so seed ``-(word + 1) * gamma`` zeroes that
    word, and only that one (the four counters differ, so at most one word can be zero)."""
    seed = (-(word + 1) * _GOLDEN) & _MASK64
    state = _state(seed)
    assert state[word] == 0
    assert np.count_nonzero(state) == rng.WORDS - 1
    out = _u64s(state, 1000)
    assert np.unique(out).size == out.size


def test_new_states_rows_equal_seed_state() -> None:
    seeds = [0, 1, 2, 7, 123456789, 2**63, 2**64 - 1]
    states = rng.new_states(seeds)
    assert states.shape == (len(seeds), rng.WORDS)
    assert states.dtype == np.uint64
    for k, seed in enumerate(seeds):
        single = np.zeros(rng.WORDS, np.uint64)
        rng.seed_state(single, np.uint64(seed))
        np.testing.assert_array_equal(states[k], single)
    # a batch seeded s + i replays, row by row, the single generators seeded s + i
    batch = rng.new_states(np.arange(50, 54))
    for i in range(4):
        np.testing.assert_array_equal(_u64s(batch[i], 100), _u64s(_state(50 + i), 100))


def test_seed_rows_seeds_only_the_given_rows() -> None:
    states = np.zeros((3, rng.WORDS), np.uint64)
    rng.seed_rows(states, np.array([2, 0]), np.array([5, 9], np.uint64))
    np.testing.assert_array_equal(states[2], _state(5))
    np.testing.assert_array_equal(states[0], _state(9))
    np.testing.assert_array_equal(states[1], 0)


def test_rows_are_independent_and_copies_continue_identically() -> None:
    states = rng.new_states([3, 4])
    row1 = states[1].copy()
    _u64s(states[0], 100)  # drawing from row 0 leaves row 1 alone
    np.testing.assert_array_equal(states[1], row1)
    copied = states[0].copy()
    np.testing.assert_array_equal(_u64s(copied, 100), _u64s(states[0], 100))


# --------------------------------------------------------------------------------------------- uniform, integers


def test_uniform_range_moments_and_fit() -> None:
    u = _uniforms(_state(11), N)
    assert u.min() >= 0.0
    assert u.max() < 1.0
    # U(0, 1): sigma^2 = 1/12, mu4 = 1/80
    _assert_moments(u, 0.5, 1.0 / 12.0, 1.0 / 80.0)
    _assert_ks(u, stats.uniform.cdf)
    counts = np.bincount((u * 100).astype(np.int64), minlength=100)  # 1000 expected per bin
    assert stats.chisquare(counts).pvalue > ALPHA


def test_uniform_uses_53_bits() -> None:
    u = _uniforms(_state(12), 10_000)
    scaled = u * 2.0**53
    np.testing.assert_array_equal(scaled, np.floor(scaled))  # exact multiples of 2**-53
    # the low bits are used: a 32-bit uniform would leave scaled divisible by 2**21
    assert np.any(scaled % 2.0**21 != 0)


@pytest.mark.parametrize("high", [1, 2, 6, 37])
def test_integers_range_and_frequencies(high: int) -> None:
    x = _integers(_state(20 + high), high, N)
    assert x.min() >= 0
    assert x.max() < high
    freq = np.bincount(x, minlength=high) / N
    p = 1.0 / high
    # each value's frequency is a binomial proportion: SE = sqrt(p (1 - p) / n)
    se = math.sqrt(p * (1.0 - p) / N)
    assert np.all(np.abs(freq - p) <= Z * se), (freq - p) / max(se, 1e-300)


# --------------------------------------------------------------------------------------------- normal


def test_standard_normal_moments_and_fit() -> None:
    x = _normals(_state(30), N)
    assert np.all(np.isfinite(x))
    # N(0, 1): mu4 = 3, so SE of the variance is sqrt((3 - 1) / n) = sqrt(2 / n)
    _assert_moments(x, 0.0, 1.0, 3.0)
    _assert_ks(x, stats.norm.cdf)


# --------------------------------------------------------------------------------------------- poisson


def test_poisson_zero_and_negative_mean_is_zero() -> None:
    state = _state(40)
    assert np.all(_poissons(state, 0.0, 1000) == 0)
    assert np.all(_poissons(state, -1.0, 1000) == 0)


@pytest.mark.parametrize("lam", [0.3, 3.5, 9.99, 10.0, 40.0, 250.0])
def test_poisson_moments(lam: float) -> None:
    x = _poissons(_state(41), lam, N)
    assert x.min() >= 0
    # Poisson(lam): sigma^2 = lam, mu4 = lam + 3 lam^2, so Var(s^2) ~ (lam + 2 lam^2) / n
    _assert_moments(x.astype(float), lam, lam, lam + 3.0 * lam**2)


@pytest.mark.parametrize("lam", [0.3, 3.5, 10.0, 40.0, 250.0])
def test_poisson_chisquare(lam: float) -> None:
    """Inversion (small means), PTRS at its threshold 10, and PTRS for large means against the exact pmf."""
    _assert_chisquare_discrete(_poissons(_state(42), lam, N), stats.poisson(lam))


# --------------------------------------------------------------------------------------------- gamma


@pytest.mark.parametrize("shape", [0.2, 0.5, 1.0, 5.0])
def test_gamma_moments_and_fit(shape: float) -> None:
    x = _gammas(_state(50), shape, N)
    assert np.all(x >= 0.0)
    assert np.all(np.isfinite(x))
    # Gamma(k, 1): sigma^2 = k, mu4 = 3 k (k + 2), so Var(s^2) ~ (2 k^2 + 6 k) / n
    _assert_moments(x, shape, shape, 3.0 * shape * (shape + 2.0))
    _assert_ks(x, stats.gamma(shape).cdf)


# --------------------------------------------------------------------------------------------- negative binomial


def _nbinom_moments(n: float, p: float) -> tuple[float, float, float]:
    """Mean, variance and fourth central moment of numpy's NB(n, p) (failures before n successes).

    mean = n q / p, var = n q / p^2 (q = 1 - p); excess kurtosis 6 / n + p^2 / (n q), so
    mu4 = var^2 (3 + 6 / n + p^2 / (n q)).
    """
    q = 1.0 - p
    mean, var = n * q / p, n * q / p**2
    return mean, var, var**2 * (3.0 + 6.0 / n + p**2 / (n * q))


@pytest.mark.parametrize(("n", "p"), [(5.0, 5.0 / 45.0), (0.7, 0.2)])
def test_negative_binomial_moments_and_fit(n: float, p: float) -> None:
    mean, var, mu4 = _nbinom_moments(n, p)
    ref = stats.nbinom(n, p)
    assert np.allclose([mean, var, mu4 / var**2 - 3.0], [*ref.stats("mv"), ref.stats("k")])  # closed form ok
    x = _negative_binomials(_state(60), n, p, N)
    assert x.min() >= 0
    _assert_moments(x.astype(float), mean, var, mu4)
    _assert_chisquare_discrete(x, ref)


def test_negative_binomial_certain_success_is_zero() -> None:
    assert np.all(_negative_binomials(_state(61), 3.0, 1.0, 100) == 0)
