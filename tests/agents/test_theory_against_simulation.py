"""lrm_gym.theory: closed forms against direct computation, and simulation against theory.

Statistical checks run independent episodes side by side (:func:`agents.experiments.simulate.simulate`) and compare a
mean over episodes with the closed form. Tolerance: ``Z_TOL = 4`` standard errors of that mean (standard error
from the spread across the independent episodes). A correct model fails one such comparison with probability
about 6e-5; the sample sizes give standard errors of 1-3% of the compared value.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from agents.experiments.simulate import simulate
from agents.policies.analytic import AccuracyTarget, CriticalMix, FixedOption
from lrm_gym import theory
from lrm_gym.core.params import Params, build_params
from lrm_gym.scenarios.loader import load_scenario, merge_overrides

Z_TOL = 4.0


def _models(**fields: Any) -> list[dict[str, Any]]:
    return [{**m, "capacity_tokens_per_slot": None, **fields} for m in load_scenario("critical").model_dump()["models"]]


def _params(overrides: dict[str, Any]) -> Params:
    return build_params(load_scenario("critical", overrides))


# A Gaussian imbalance: large idle power carries the mean demand with no variance, so the supply mean sits
# ~30 supply std above 0 (no clipping) and supply noise is 99% of Var(Delta).
GAUSSIAN = {"horizon_slots": 200, "arrivals": {"rate_per_slot": 8.0}, "models": _models(idle_w=3000.0)}
LOSSLESS = {"charge_efficiency": 1.0, "discharge_efficiency": 1.0, "max_charge_w": None, "max_discharge_w": None}


def _sigma(params: Params, routing: np.ndarray) -> float:
    return math.sqrt(theory.variance_decomposition(params, routing).imbalance)


# ---------------------------------------------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("theta", [-2.5, -1.0, -0.2, 0.0, 0.3, 1.0, 2.0])
def test_unbuffered_rates_are_the_truncated_normal_means(theta: float) -> None:
    sigma = 1.7
    density = stats.norm(loc=-theta, scale=sigma).pdf
    aux, _ = integrate.quad(lambda x: x * density(x), 0, np.inf)
    waste, _ = integrate.quad(lambda x: -x * density(x), -np.inf, 0)
    rates = theory.unbuffered_loss_rates(theta, sigma)
    assert rates.auxiliary == pytest.approx(aux, rel=1e-7, abs=1e-12)
    assert rates.waste == pytest.approx(waste, rel=1e-7, abs=1e-12)
    assert rates.waste - rates.auxiliary == pytest.approx(theta)  # the long-run balance identity


def test_unbuffered_rates_at_criticality_and_without_noise() -> None:
    rates = theory.unbuffered_loss_rates(0.0, np.array([0.5, 2.0]))
    np.testing.assert_allclose(rates.auxiliary, np.array([0.5, 2.0]) / math.sqrt(2 * math.pi))
    ramps = theory.unbuffered_loss_rates(np.array([-2.0, 0.0, 3.0]), 0.0)
    np.testing.assert_array_equal(ramps.auxiliary, [2.0, 0.0, 0.0])
    np.testing.assert_array_equal(ramps.waste, [0.0, 0.0, 3.0])


def test_buffered_rates_balance_continuity_and_limits() -> None:
    sigma, capacity = 1.3, 9.0
    theta = np.array([-0.5, -1e-12, 0.0, 1e-12, 0.5])
    rates = theory.buffered_loss_rates(theta, sigma, capacity)
    np.testing.assert_allclose(rates.waste - rates.auxiliary, theta, atol=1e-12)
    np.testing.assert_allclose(rates.auxiliary[1:4], sigma**2 / (2 * capacity), rtol=1e-9)
    far = theory.buffered_loss_rates(np.array([-50.0, 50.0]), sigma, capacity)
    np.testing.assert_allclose(far.auxiliary, [50.0, 0.0], atol=1e-12)
    # the boundary correction is O(sigma / C): it vanishes as storage grows
    big = np.array([10.0, 100.0, 1000.0])
    plain = theory.buffered_loss_rates(0.0, sigma, big * sigma).auxiliary
    corrected = theory.buffered_loss_rates(0.0, sigma, big * sigma, boundary_correction=True).auxiliary
    np.testing.assert_allclose(plain / corrected - 1, 2 * theory.SIEGMUND_BETA / big, rtol=1e-9)


def test_newsvendor_level_minimises_the_expected_penalty() -> None:
    sigma, c_aux, c_waste = 2.0, 3.0, 1.0

    def cost(theta: float) -> float:
        rates = theory.unbuffered_loss_rates(theta, sigma)
        return c_aux * rates.auxiliary + c_waste * rates.waste

    best = optimize.minimize_scalar(cost, bounds=(-10, 10), method="bounded", options={"xatol": 1e-9}).x
    assert theory.newsvendor_drift(sigma, c_aux, c_waste) == pytest.approx(best, abs=1e-6)
    assert theory.newsvendor_drift(sigma, 1.0, 1.0) == 0.0
    assert theory.newsvendor_supply(10.0, sigma, c_aux, c_waste) == pytest.approx(10.0 + best, abs=1e-6)


def test_critical_mix_hits_the_target_and_refuses_unreachable_ones() -> None:
    p = theory.critical_mix(100.0, 400.0, 250.0)
    assert p * 100.0 + (1 - p) * 400.0 == pytest.approx(250.0)
    with pytest.raises(ValueError, match="outside"):
        theory.critical_mix(100.0, 400.0, 450.0)


def _random_catalog(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = np.sort(rng.uniform(10, 1000, n))
    std = rng.uniform(0, 1, n) * mean
    accuracy = np.clip(np.sort(rng.uniform(0.2, 0.95, n)) + rng.normal(0, 0.1, n), 0, 1)
    return mean, std, accuracy


@pytest.mark.parametrize("case", range(25))
def test_lp_is_critical_meets_the_floor_and_beats_every_two_option_mix(case: int) -> None:
    rng = np.random.default_rng(case)
    mean, std, accuracy = _random_catalog(rng, int(rng.integers(3, 6)))
    target = rng.uniform(mean.min(), mean.max())
    floor = rng.uniform(accuracy.min(), accuracy.max()) * 0.9
    try:
        result = theory.variance_aware_mix(mean, std, accuracy, target, floor)
    except ValueError as err:
        assert "accuracy-floor" in str(err)
        pairs = []
    else:
        assert result.mix.min() >= 0 and result.mix.sum() == pytest.approx(1.0)
        assert result.mean == pytest.approx(target, rel=1e-8)
        assert result.accuracy >= floor - 1e-8
        pairs = list(itertools.combinations(range(mean.size), 2))
    for i, j in pairs:
        if not min(mean[i], mean[j]) <= target <= max(mean[i], mean[j]):
            continue
        p = theory.critical_mix(mean[i], mean[j], target)
        pair = np.zeros(mean.size)
        pair[[i, j]] = [p, 1 - p]
        mix = theory.mix_moments(pair, mean, std, accuracy)
        if mix.accuracy >= floor:
            assert result.second_moment <= mix.second_moment * (1 + 1e-9)


def test_lp_over_several_decision_types() -> None:
    params = _params({})
    mean, std, accuracy, weights = theory.option_catalog(params)
    target = float(weights @ mean.mean(axis=1))
    result = theory.variance_aware_mix(mean, std, accuracy, target, 0.7, weights)
    np.testing.assert_allclose(result.mix.sum(axis=1), 1.0)
    assert result.mean == pytest.approx(target, rel=1e-8)
    assert result.accuracy >= 0.7 - 1e-8


@pytest.mark.parametrize(
    ("target", "floor", "match"),
    [
        (5.0, 0.0, "critical-mean constraint"),
        (2000.0, 0.0, "critical-mean constraint"),
        (500.0, 0.99, "accuracy-floor constraint cannot be met: floor 0.9900 exceeds the best reachable"),
        (15.0, 0.85, "accuracy-floor constraint cannot be met at the critical point"),
    ],
)
def test_infeasible_lp_names_the_constraint(target: float, floor: float, match: str) -> None:
    mean, std, accuracy = np.array([10.0, 100.0, 1000.0]), np.array([1.0, 10.0, 100.0]), np.array([0.3, 0.6, 0.9])
    with pytest.raises(ValueError, match=match):
        theory.variance_aware_mix(mean, std, accuracy, target, floor)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: theory.unbuffered_loss_rates(0.0, -1.0), "sigma must be finite and >= 0"),
        (lambda: theory.buffered_loss_rates(0.0, -0.1, 5.0), "sigma must be finite and >= 0"),
        (lambda: theory.buffered_loss_rates(0.0, 1.0, 0.0), "capacity must be finite and > 0"),
        (lambda: theory.newsvendor_drift(-1.0, 1.0, 1.0), "sigma must be finite and >= 0"),
        (lambda: theory.newsvendor_drift(1.0, -1.0, 1.0), "auxiliary_cost and waste_cost"),
        (lambda: theory.variance_aware_mix([1.0], [-1.0], [0.5], 1.0), "std must be >= 0"),
    ],
)
def test_bad_input_is_rejected(call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_supply_without_closed_form_is_named() -> None:
    params = build_params(load_scenario("solar"))
    with pytest.raises(ValueError, match="not 'solar'"):
        theory.supply_variance(params)


# ---------------------------------------------------------------------------------------------------------------
# simulation against theory
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0.0, 1.0, -1.0, 2.0, -2.0])
def test_unbuffered_gaussian_loss_rates_match_simulation(k: float) -> None:
    """At theta = k sigma: measured in development, |z| <= 0.7 for every point with 64 episodes."""
    base = _params(GAUSSIAN)
    routing = AccuracyTarget(base).routing()
    sigma = _sigma(base, routing)
    params = _params(
        merge_overrides(GAUSSIAN, {"supply": {"provisioning": 1 + k * sigma / base.critical_slot_energy_j}})
    )
    theta = params.supply.mean_j - theory.mean_slot_demand(params, routing)
    assert theta == pytest.approx(k * sigma, abs=1e-6 * sigma)
    series = simulate(AccuracyTarget(params), params, n_envs=32, seed=11)
    expected = theory.unbuffered_loss_rates(theta, sigma)
    for name, value in (("auxiliary_j", expected.auxiliary), ("waste_j", expected.waste)):
        mean, se = series.rate(name)
        assert abs(mean - value) <= Z_TOL * se, (name, mean, value, se)


def test_critical_point_loss_with_demand_driven_variance() -> None:
    """The shipped critical setting (compound-Poisson demand, 60 W supply noise) at b = b*: sigma / sqrt(2 pi)."""
    params = _params({"horizon_slots": 120, "arrivals": {"rate_per_slot": 8.0}, "models": _models()})
    policy = AccuracyTarget(params)
    sigma = _sigma(params, policy.routing())
    series = simulate(policy, params, n_envs=48, seed=2)
    for name in ("auxiliary_j", "waste_j"):
        mean, se = series.rate(name)
        assert abs(mean - sigma / math.sqrt(2 * math.pi)) <= Z_TOL * se, (name, mean, se)


@pytest.mark.parametrize(("capacity", "k"), [(4.0, 0.0), (8.0, 0.25), (8.0, -0.25)])
def test_buffered_loss_rates_match_simulation(capacity: float, k: float) -> None:
    """Lossless storage of C >> sigma against the Siegmund-corrected diffusion (|z| <= 2.4 over 192 episodes
    per case in development).

    The first ``2 (C / sigma)^2 + 10`` slots (the storage level's mixing time) are discarded. Per-episode
    losses at the far boundary are mostly zero with rare large values, so the standard error needs many
    episodes to be trustworthy: 128 here (32 gave a 4.4-SE miss on one seed).
    """
    horizon = 400
    setting = merge_overrides(GAUSSIAN, {"horizon_slots": horizon})
    base = _params(setting)
    routing = AccuracyTarget(base).routing()
    sigma = _sigma(base, routing)
    params = _params(
        merge_overrides(
            setting,
            {
                "supply": {"provisioning": 1 + k * sigma / base.critical_slot_energy_j},
                "storage": {**LOSSLESS, "capacity_wh": capacity * sigma / 3600.0, "initial_fraction": 0.5},
            },
        )
    )
    series = simulate(AccuracyTarget(params), params, n_envs=128, seed=5)
    burn = int(2 * capacity**2) + 10
    expected = theory.buffered_loss_rates(k * sigma, sigma, capacity * sigma, boundary_correction=True)
    for values, value in ((series.auxiliary_j, expected.auxiliary), (series.waste_j, expected.waste)):
        per_env = values[:, burn:].mean(axis=1)
        se = per_env.std(ddof=1) / math.sqrt(per_env.size)
        assert abs(per_env.mean() - value) <= Z_TOL * se, (per_env.mean(), value, se)


@pytest.mark.parametrize("scenario", ["critical", "solar-battery", "wind-trace"])
def test_balance_identity_over_every_simulated_horizon(scenario: str) -> None:
    """``sum(aux) - sum(waste) = sum(D - B) + sum(charge) - sum(discharge)`` per episode, to float rounding."""
    params = build_params(load_scenario(scenario, {"horizon_slots": 24}))
    series = simulate(CriticalMix(params), params, n_envs=4, seed=0)
    lhs = series.total("auxiliary_j") - series.total("waste_j")
    rhs = series.total("demand_j") - series.total("baseline_j") + series.total("charge_j") - series.total("discharge_j")
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-6 * series.total("demand_j").max())
    if params.storage.capacity_j == 0:
        np.testing.assert_array_equal(series.total("charge_j"), 0.0)


def test_balance_identity_with_lossless_storage_uses_the_level() -> None:
    """With lossless storage the charge/discharge terms are the level's change: ``aux - waste = D - B + dS``."""
    params = _params({"horizon_slots": 60, "storage": {**LOSSLESS, "capacity_wh": 3.0}, "models": _models()})
    series = simulate(AccuracyTarget(params), params, n_envs=4, seed=0)
    lhs = series.total("auxiliary_j") - series.total("waste_j")
    rhs = series.total("demand_j") - series.total("baseline_j") + series.storage_end_j - series.storage_start_j
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("arrivals", "policy"),
    [
        ({"kind": "poisson", "rate_per_slot": 20.0}, "accuracy-target"),
        ({"kind": "negbin", "rate_per_slot": 40.0, "dispersion": 8.0}, "critical-mix"),
        ({"kind": "constant", "rate_per_slot": 20.0}, "fixed-largest"),
    ],
)
def test_variance_decomposition_matches_empirical_slot_demand(arrivals: dict[str, Any], policy: str) -> None:
    """Var(D) from the decomposition against the sample variance of slot demand (SE across episodes)."""
    params = _params({"horizon_slots": 150, "arrivals": arrivals, "models": _models()})
    router = {
        "accuracy-target": lambda: AccuracyTarget(params),
        "critical-mix": lambda: CriticalMix(params),
        "fixed-largest": lambda: FixedOption(params, "largest"),
    }[policy]()
    parts = theory.variance_decomposition(params, router.routing())
    if arrivals["kind"] == "constant":
        assert parts.arrivals == 0.0
    series = simulate(router, params, n_envs=32, seed=3)
    assert series.merged_slots == 0  # every slot recorded on its own
    per_env = series.demand_j.var(axis=1, ddof=1)
    se = per_env.std(ddof=1) / math.sqrt(per_env.size)
    assert abs(per_env.mean() - parts.demand) <= Z_TOL * se, (per_env.mean(), parts.demand, se)
    arrivals_seen = series.tasks_arrived.var(axis=1, ddof=1)
    arrivals_se = arrivals_seen.std(ddof=1) / math.sqrt(arrivals_seen.size)
    assert abs(arrivals_seen.mean() - theory.arrival_variance(params)) <= Z_TOL * arrivals_se + 1e-12
