"""Fit the capability and reasoning-step length of the ``fleet-b200-qwen3`` models to published numbers.

For each of Qwen3-8B, -14B and -32B (docs/model.md section 7, "Measured catalogue"):

- ``step_success`` ``r`` stays the scaling law's (Chinchilla fit at the catalogue's parameter count);
- ``skill_coverage`` ``gamma`` is solved (``scipy.optimize.brentq``) so that the mean ``P(correct)`` of the
  scenario's one task class (difficulty uniform on ``DIFFICULTY``) at the longest budget equals the model's
  published GPQA-Diamond accuracy in thinking mode (``lrm_gym/scenarios/data/published_accuracy.csv``);
- ``tokens_per_step`` is the measured mean output length on GPQA Diamond (ML.ENERGY v3, one B200, mean over
  its measured batch sizes: the output length does not depend on the batch) divided by the model's mean
  number of steps at the longest budget, so the longest budget's mean output equals the measurement.

The shorter budgets' accuracies and lengths are the model's predictions, not measurements. Prints the values
to copy into ``lrm_gym/scenarios/fleet-b200-qwen3.yaml`` (and its data-centre variant) and what they give;
``tests/lrm_gym/test_catalogue.py`` checks the YAML against the published and measured numbers.

Run: ``python scripts/fit_qwen3_fleet.py`` (reads only the shipped CSVs).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from lrm_gym.core import capability
from lrm_gym.core.outcomes import step_moments
from lrm_gym.scenarios import catalogue

DIFFICULTY = (1, 8)
BUDGETS = (4, 8, 16)
MODELS = (("Qwen/Qwen3-8B", 8e9), ("Qwen/Qwen3-14B", 14e9), ("Qwen/Qwen3-32B", 32e9))


def class_means(step_success: float, skill_coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``P(correct)`` and mean steps per budget over the class's difficulties."""
    lo, hi = DIFFICULTY
    p, steps, _ = step_moments(np.array([step_success]), np.array([skill_coverage]), np.array(BUDGETS), hi)
    return p[0, :, lo : hi + 1].mean(1), steps[0, :, lo : hi + 1].mean(1)


def main() -> None:
    for model_id, params in MODELS:
        target = catalogue.published_accuracy(model_id, "gpqa-diamond").accuracy
        measured = catalogue.batch_curve(model_id, "B200", 1, "gpqa").output_tokens.mean()
        r = capability.step_success(params)
        gamma = brentq(lambda g, r=r, target=target: class_means(r, g)[0][-1] - target, 0.3, 1.0 - 1e-9)
        gamma = round(gamma, 4)
        accuracy, steps = class_means(r, gamma)
        tokens_per_step = round(measured / steps[-1])
        print(
            f"{model_id}: r {r:.4f}, skill_coverage {gamma:.4f}, tokens_per_step {tokens_per_step} "
            f"(measured output {measured:.0f} tokens; published accuracy {target:.3f}) -> by budget "
            f"{list(BUDGETS)}: accuracy {np.round(accuracy, 3).tolist()}, "
            f"output tokens {np.round(steps * tokens_per_step).astype(int).tolist()}"
        )


if __name__ == "__main__":
    main()
