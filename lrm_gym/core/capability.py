"""Training-compute scaling laws: model size -> capability and energy per token.

Sources:
- Chinchilla (Hoffmann et al. 2022): reducible loss ``dL(N) = 406.4 / N^0.34 + 410.7 / D^0.28`` with
  ``D = KAPPA * N`` training tokens (about 20 tokens per parameter), and ``N = sqrt(C_tr / (6 KAPPA))``.
- ML.ENERGY Leaderboard v3 (Jan 2026, B200, vLLM): Qwen3-32B spends 0.312 J per token with reasoning on.
  With ``2 N`` FLOPs per token this calibrates ``JOULES_PER_FLOP``; an 8B model then gets 0.078 J/token,
  the same order as Llama-3.1-8B's measured 0.12 J/token on an H100 (older hardware).

Per-step success ``r = exp(-C_STEP * dL)`` and skill coverage ``gamma = exp(-C_SKILL * dL)`` map loss to the
DS3 reasoning model (Ellis-Mohr et al., arXiv 2507.00004). The two constants are our calibration, not a fit:
they give a 32B model ``r = 0.90`` and ``gamma = 0.96`` and a 1.5B model ``r = 0.77`` and ``gamma = 0.90``,
so that hard tasks separate model sizes while easy tasks do not. Scenarios may set ``step_success``,
``skill_coverage`` and ``joules_per_token`` explicitly to bypass any of these.
"""

from __future__ import annotations

import math

KAPPA = 20.0
"""Chinchilla-optimal training tokens per parameter."""
JOULES_PER_FLOP = 0.312 / (2 * 32e9)
"""Calibrated so that a 32B-parameter model spends 0.312 J per token (ML.ENERGY v3, Qwen3-32B)."""
C_STEP = 0.338
C_SKILL = 0.131


def params_from_training_flops(training_flops: float) -> float:
    """Compute-optimal parameter count ``N = sqrt(C_tr / (6 KAPPA))`` (Chinchilla)."""
    return math.sqrt(training_flops / (6.0 * KAPPA))


def reducible_loss(params: float) -> float:
    """Chinchilla reducible loss at compute-optimal data, ``406.4/N^0.34 + 410.7/(KAPPA N)^0.28``."""
    return 406.4 / params**0.34 + 410.7 / (KAPPA * params) ** 0.28


def step_success(params: float) -> float:
    """Per-step success probability ``r = exp(-C_STEP * dL(N))``."""
    return math.exp(-C_STEP * reducible_loss(params))


def skill_coverage(params: float) -> float:
    """Probability ``gamma`` that the model holds any one needed skill, ``exp(-C_SKILL * dL(N))``."""
    return math.exp(-C_SKILL * reducible_loss(params))


def joules_per_token(params: float) -> float:
    """Energy per generated token, ``2 N`` FLOPs times ``JOULES_PER_FLOP``."""
    return 2.0 * params * JOULES_PER_FLOP
