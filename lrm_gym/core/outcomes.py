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


def sample_steps(
    cdf: np.ndarray,
    gamma_pow: np.ndarray,
    model: np.ndarray,
    cap: np.ndarray,
    difficulty: np.ndarray,
    u_skill: np.ndarray,
    u_steps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Steps used and correctness for tasks given their option's model and cap, and their uniforms.

    ``cdf`` is :func:`step_cdf_table`, ``gamma_pow[i, m] = gamma_i^m``. All other arguments are arrays of one
    shape (or scalars). Returns ``(steps, correct)``.
    """
    # one flat gather of each task's CDF row (faster than 2-D fancy indexing)
    rows = np.asarray(model) * cdf.shape[1] + np.asarray(difficulty)
    needed = np.sum(cdf.reshape(-1, cdf.shape[2]).take(rows, axis=0) < np.asarray(u_steps)[..., None], axis=-1)
    correct = (np.asarray(u_skill) < gamma_pow[model, difficulty]) & (needed <= cap)
    steps = np.where(correct, needed, cap)
    return steps, correct
