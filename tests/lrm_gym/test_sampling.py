"""Statistical agreement of the simulator with its closed forms.

Tolerance: every comparison allows ``Z = 4`` standard errors (two-sided p ~ 6e-5 per comparison; seeds are
fixed, so the tests are deterministic; the bound says the sample sizes are large enough for the claim).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from lrm_gym.core.outcomes import sample_steps, step_moments
from lrm_gym.core.params import build_params
from lrm_gym.core.supply import sample_supply_paths
from lrm_gym.scenarios import load_scenario

Z = 4.0


def test_sampled_outcomes_match_closed_forms() -> None:
    """Accuracy, mean steps and step variance of every (model, budget, difficulty) from 20k draws each."""
    params = build_params(load_scenario("critical"))
    rng = np.random.default_rng(0)
    n = 20_000
    caps = np.unique(params.option_cap)
    p_correct, mean_steps, second_steps = step_moments(
        params.model_step_success, params.model_skill_coverage, caps, params.max_difficulty
    )
    for i in range(params.n_models):
        for b, cap in enumerate(caps):
            for m in (1, 3, 6, 10):
                steps, correct = sample_steps(
                    params.step_cdf,
                    params.gamma_pow,
                    np.full(n, i),
                    np.full(n, cap),
                    np.full(n, m),
                    rng.random(n),
                    rng.random(n),
                )
                p = p_correct[i, b, m]
                assert abs(correct.mean() - p) <= Z * np.sqrt(max(p * (1 - p), 1e-12) / n) + 1e-12
                var = second_steps[i, b, m] - mean_steps[i, b, m] ** 2
                assert abs(steps.mean() - mean_steps[i, b, m]) <= Z * np.sqrt(var / n) + 1e-12
                # variance of the sample variance ~ (mu4 - var^2) / n; bound mu4 by the cap: mu4 <= cap^2 var
                assert abs(steps.var() - var) <= Z * np.sqrt(cap**2 * var / n) + 1e-12


def test_closed_form_accuracy_is_the_binomial_formula() -> None:
    """P(correct) = gamma^m P(Binomial(K, r) >= m), as docs/model.md section 8 states."""
    from scipy import stats

    r, gamma = np.array([0.8]), np.array([0.9])
    p_correct, _, _ = step_moments(r, gamma, np.array([7]), 9)
    for m in range(1, 10):
        assert p_correct[0, 0, m] == pytest.approx(0.9**m * stats.binom.sf(m - 1, 7, 0.8), abs=1e-12)


def test_env_reports_the_moments_it_samples() -> None:
    """Through the env: per option, the realised accuracy and energy match what the observation reports."""
    overrides = {
        "horizon_slots": 500,
        "arrivals": {"kind": "constant", "rate_per_slot": 54.0},
        "tasks": {"classes": [{"name": "fixed", "weight": 1.0, "difficulty": 5, "prompt_tokens": 300}]},
        "models": [
            {"name": "small", "params": 1.5e9, "tokens_per_step": 350},
            {"name": "large", "params": 3.2e10, "tokens_per_step": 350},
        ],
        "budgets": [{"name": "short", "max_steps": 6}, {"name": "long", "max_steps": 12}],
    }
    env = gym.make("lrm_gym/EnergyRouting-v2", overrides=overrides)
    params = env.unwrapped.params
    o = params.n_options
    obs, info = env.reset(seed=1)
    expected_energy = obs["options"][:o] * params.task_energy_unit_j
    expected_std = obs["options"][o : 2 * o] * params.task_energy_unit_j
    expected_acc = obs["options"][2 * o : 3 * o].astype(np.float64)
    energy: list[list[float]] = [[] for _ in range(o)]
    correct: list[list[bool]] = [[] for _ in range(o)]
    step, truncated = 0, False
    while not truncated:
        option = step % o
        obs, _, _, truncated, info = env.step(1 + option)
        energy[option].append(info["task_energy_j"])
        correct[option].append(info["task_correct"])
        step += 1
    for k in range(o):
        n = len(energy[k])
        assert n >= 6000
        p = expected_acc[k]
        assert abs(np.mean(correct[k]) - p) <= Z * np.sqrt(p * (1 - p) / n)
        assert abs(np.mean(energy[k]) - expected_energy[k]) <= Z * expected_std[k] / np.sqrt(n) + 1e-3
        assert np.std(energy[k]) == pytest.approx(expected_std[k], rel=0.1)


@pytest.mark.parametrize("scenario", ["critical", "volatile", "solar", "wind-trace"])
def test_supply_paths_have_the_configured_mean(scenario: str) -> None:
    """Per-path means over 1,000 independent episodes; SE from their spread (valid for any autocorrelation)."""
    params = build_params(load_scenario(scenario))
    paths = sample_supply_paths(params, np.arange(1000), params.horizon_slots)
    per_path = paths.mean(axis=1)
    se = per_path.std(ddof=1) / np.sqrt(per_path.size)
    # solar: the clear-sky shape averages to 1/pi only over whole days; its horizon is exactly one day.
    assert abs(per_path.mean() - params.supply.mean_j) <= Z * se + 1e-9 * params.supply.mean_j
    assert paths.min() >= 0.0 and paths.max() <= params.supply.max_j


def test_gaussian_and_ar1_supply_moments() -> None:
    """Gaussian: std as configured; AR(1): stationary std and lag-1 correlation phi."""
    base = {"supply": {"kind": "gaussian", "mean_w": 1000.0, "std_w": 100.0, "provisioning": None}}
    params = build_params(load_scenario("critical", base))
    paths = sample_supply_paths(params, np.arange(200), 500)
    n = paths.size
    assert abs(paths.std() - params.supply.std_j) <= Z * params.supply.std_j / np.sqrt(2 * n)
    ar = {"supply": {**base["supply"], "kind": "ar1", "phi": 0.8}}
    params = build_params(load_scenario("critical", ar))
    paths = sample_supply_paths(params, np.arange(400), 400)
    dev = (paths - params.supply.mean_j) / params.supply.std_j
    lag1 = np.mean(dev[:, 1:] * dev[:, :-1])
    # per-path lag-1 products are correlated; use the spread of per-path estimates for the SE
    per_path = np.mean(dev[:, 1:] * dev[:, :-1], axis=1)
    assert abs(lag1 - 0.8) <= Z * per_path.std(ddof=1) / np.sqrt(per_path.size)
    per_path_var = np.mean(dev**2, axis=1)
    assert abs(per_path_var.mean() - 1.0) <= Z * per_path_var.std(ddof=1) / np.sqrt(per_path.size)


@pytest.mark.parametrize(
    ("arrivals", "variance_of"),
    [
        ({"kind": "poisson", "rate_per_slot": 7.0}, lambda m: m),
        ({"kind": "negbin", "rate_per_slot": 7.0, "dispersion": 2.0}, lambda m: m + m**2 / 2.0),
    ],
)
def test_arrival_counts(arrivals: dict, variance_of) -> None:
    """Mean arrivals per slot equal the rate (SE from the process variance), queue large enough to keep all."""
    overrides = {"horizon_slots": 3000, "arrivals": arrivals, "queue": {"capacity": 1000}}
    env = gym.make("lrm_gym/EnergyRouting-v2", overrides=overrides)
    _, info = env.reset(seed=11)
    truncated = False
    while not truncated:
        _, _, _, truncated, info = env.step(1)  # cheapest option, never defer
    slots = info["totals"]["slots_closed"]
    mean = info["totals"]["tasks_arrived"] / slots
    rate = arrivals["rate_per_slot"]
    assert abs(mean - rate) <= Z * np.sqrt(variance_of(rate) / slots)


def test_constant_arrivals_are_exact() -> None:
    env = gym.make(
        "lrm_gym/EnergyRouting-v2",
        overrides={"horizon_slots": 10, "arrivals": {"kind": "constant", "rate_per_slot": 2.5}},
    )
    _, info = env.reset(seed=0)
    truncated = False
    while not truncated:
        _, _, _, truncated, info = env.step(1)
    assert info["totals"]["tasks_arrived"] == 25
