"""The forecast MPC under measured grid signals charges its plan at the observed slot's carbon and price."""

from __future__ import annotations

import gymnasium as gym
import pytest

import lrm_gym  # noqa: F401  (registers the ids)
from agents.policies.mpc import ForecastMPC
from lrm_gym.core.grid import auxiliary_weight_per_kwh, episode_grid
from lrm_gym.registration import env_id


def test_auxiliary_weight_adds_carbon_and_price_at_the_slot() -> None:
    env = gym.make(env_id("grid-caiso-carbon-summer"), overrides={"horizon_slots": 4})
    params = env.unwrapped.params
    # 400 per kWh + 1,250 per kg * 0.2 kg/kWh (+ no price weight)
    assert auxiliary_weight_per_kwh(params, 0.3, 200.0) == pytest.approx(400.0 + 250.0)
    policy = ForecastMPC(params)
    obs, _ = env.reset(seed=1)
    carbon = episode_grid(params, env.unwrapped._state)["carbon_g_per_kwh"][0]
    weight = policy._auxiliary_weight({k: v.astype(float) for k, v in obs.items()}, 0.3, 0)
    assert weight == pytest.approx(400.0 + 1.25 * carbon, rel=1e-6)  # the observation is float32


def test_without_grid_weights_the_plan_charges_the_flat_penalty() -> None:
    params = gym.make(env_id("solar-battery"), overrides={"horizon_slots": 4}).unwrapped.params
    assert auxiliary_weight_per_kwh(params, 123.0, 456.0) == params.reward_auxiliary_per_kwh
