"""The inference-compute law: task outcome of one option, its closed-form moments, and sampling.

A task needs ``m`` reasoning skills. On model ``i`` with step cap ``K`` (DS3, arXiv 2507.00004):

- the model holds all ``m`` skills with probability ``gamma_i^m``;
- if it does, it reasons until ``m`` steps have succeeded: ``S = m + NegBin(m, r_i)`` steps. The answer is
  correct when ``S <= K`` and uses ``S`` steps; otherwise it stops at ``K`` steps, wrong;
- if it lacks a skill it reasons to the cap ``K`` and is wrong.

So ``P(correct) = gamma^m * P(Binomial(K, r) >= m)``, and the step count's first two moments are finite
sums over ``s = m..K``. Tokens are ``prompt + tokens_per_step * steps`` and energy is tokens times
joules per token; energy moments follow linearly from step moments.

Sampling uses two uniforms per task drawn at arrival (``u_skill``, ``u_steps``): skills are held when
``u_skill < gamma^m`` and ``S`` is the inverse CDF of ``m + NegBin(m, r)`` at ``u_steps``. Drawing them at
arrival keeps every transition a pure function of (state, draws) and gives common random numbers across
options.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from lrm_gym.core.compiled import compiled


def step_cdf_table(step_success: np.ndarray, max_difficulty: int, max_steps: int) -> np.ndarray:
    """``cdf[i, m, s] = P(m + NegBin(m, r_i) <= s)`` for ``m = 0..max_difficulty``, ``s = 0..max_steps``.

    Row ``m = 0`` is unused (difficulty starts at 1) and is all ones.
    """
    r = np.asarray(step_success, dtype=np.float64)[:, None, None]
    m = np.arange(max_difficulty + 1)[None, :, None]
    s = np.arange(max_steps + 1)[None, None, :]
    failures = s - m
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = np.where(failures >= 0, stats.nbinom.cdf(failures, np.maximum(m, 1), r), 0.0)
    cdf[:, 0, :] = 1.0
    return cdf


def step_moments(
    step_success: np.ndarray, skill_coverage: np.ndarray, max_steps: np.ndarray, max_difficulty: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form ``P(correct)``, ``E[steps]`` and ``E[steps^2]`` for every (model, budget, difficulty).

    Args:
        step_success: ``r`` per model, shape ``(M,)``.
        skill_coverage: ``gamma`` per model, shape ``(M,)``.
        max_steps: cap ``K`` per budget, shape ``(B,)``.
        max_difficulty: largest ``m``; outputs cover ``m = 0..max_difficulty`` (row 0 unused).

    Returns:
        Three arrays of shape ``(M, B, max_difficulty + 1)``.
    """
    k_max = int(np.max(max_steps))
    r = np.asarray(step_success, dtype=np.float64)
    gamma = np.asarray(skill_coverage, dtype=np.float64)
    m = np.arange(max_difficulty + 1)
    s = np.arange(k_max + 1)
    failures = s[None, :] - m[:, None]
    # pmf[i, m, s] = P(S = s) for S = m + NegBin(m, r_i)
    with np.errstate(divide="ignore", invalid="ignore"):
        pmf = np.where(
            failures[None] >= 0,
            stats.nbinom.pmf(failures[None], np.maximum(m, 1)[None, :, None], r[:, None, None]),
            0.0,
        )
    caps = np.asarray(max_steps)
    within = s[None, :] <= caps[:, None]  # (B, S)
    pmf_b = pmf[:, None, :, :] * within[None, :, None, :]  # (M, B, m, S)
    p_finish = pmf_b.sum(-1)
    s1 = (pmf_b * s).sum(-1)
    s2 = (pmf_b * s**2).sum(-1)
    known = gamma[:, None, None] ** m[None, None, :]  # (M, 1, m)
    k = caps[None, :, None].astype(np.float64)
    p_correct = known * p_finish
    mean_steps = known * (s1 + k * (1 - p_finish)) + (1 - known) * k
    second_steps = known * (s2 + k**2 * (1 - p_finish)) + (1 - known) * k**2
    p_correct[..., 0] = 1.0  # m = 0 is unused; keep the row finite and harmless
    return p_correct, mean_steps, second_steps


@compiled
def sample_outcome(
    cdf: np.ndarray, gamma_pow: np.ndarray, model: int, cap: int, difficulty: int, u_skill: float, u_steps: float
) -> tuple[int, bool]:
    """Steps used and correctness of one task on (``model``, ``cap``), from its two uniforms.

    ``cdf`` is :func:`step_cdf_table` and ``gamma_pow[i, m] = gamma_i^m``. ``S`` is the number of table
    entries below ``u_steps`` (the inverse CDF; the table is non-decreasing in ``s``).
    """
    row = cdf[model, difficulty]
    needed = 0
    while needed < row.size and row[needed] < u_steps:
        needed += 1
    correct = u_skill < gamma_pow[model, difficulty] and needed <= cap
    return (needed if correct else cap), correct


@compiled
def _sample_outcomes(cdf, gamma_pow, model, cap, difficulty, u_skill, u_steps, steps, correct):  # type: ignore[no-untyped-def]
    for k in range(steps.size):
        steps[k], correct[k] = sample_outcome(cdf, gamma_pow, model[k], cap[k], difficulty[k], u_skill[k], u_steps[k])


def sample_steps(
    cdf: np.ndarray,
    gamma_pow: np.ndarray,
    model: np.ndarray,
    cap: np.ndarray,
    difficulty: np.ndarray,
    u_skill: np.ndarray,
    u_steps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sample_outcome` over arrays of one shape (for analysis and tests): ``(steps, correct)``."""
    args = np.broadcast_arrays(model, cap, difficulty, u_skill, u_steps)
    shape = args[0].shape
    model, cap, difficulty = (np.ascontiguousarray(a, dtype=np.int64).ravel() for a in args[:3])
    u_skill, u_steps = (np.ascontiguousarray(a, dtype=np.float64).ravel() for a in args[3:])
    steps, correct = np.empty(model.size, np.int64), np.empty(model.size, np.bool_)
    _sample_outcomes(cdf, gamma_pow, model, cap, difficulty, u_skill, u_steps, steps, correct)
    return steps.reshape(shape), correct.reshape(shape)
