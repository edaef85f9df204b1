"""lrm_gym in Stable-Baselines3 and with the agents package: SB3's env checker, SB3 algorithms on the env,
the ``lrm-gym rollout`` command, and reward terms of the same order under analytic policies."""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium as gym
import pytest
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import lrm_gym
from tests.conftest import ALL_IDS
from tests.lrm_gym.test_env import make


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_sb3_checker(env_id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(gym.make(env_id).unwrapped, warn=True)


def test_rollout_prints_a_row_per_scenario() -> None:
    """``lrm-gym rollout`` runs every scenario to truncation and prints its totals."""
    result = subprocess.run(
        [sys.executable, "-m", "agents.cli", "rollout", "--seed", "0"], capture_output=True, text=True, check=True
    )
    for scenario in lrm_gym.scenario_names():
        assert scenario in result.stdout


def test_sb3_algorithms_train_on_the_env() -> None:
    """Smoke: MaskablePPO on the Dict observation, DQN on the flattened one behind the fallback wrapper."""
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import DQN

    MaskablePPO("MultiInputPolicy", make(), n_steps=64, batch_size=32, n_epochs=1).learn(128)
    flat = lrm_gym.FlattenRoutingObservation(lrm_gym.MaskedActionFallback(make()))
    DQN("MlpPolicy", flat, learning_starts=32, buffer_size=1000).learn(128)


@pytest.mark.parametrize("policy", ["supply-tracking", "accuracy-target"])
def test_reward_terms_are_of_the_same_order(policy: str) -> None:
    """At the critical point, quality and energy reward terms stay within 10x (docs/model.md section 15)."""
    from agents.policies.analytic import make_policy

    env = gym.make("lrm_gym/EnergyRouting-Critical-v2", overrides={"horizon_slots": 60})
    agent = make_policy(policy, env)
    obs, info = env.reset(seed=0)
    truncated = False
    while not truncated:
        action, _ = agent.predict(obs, action_masks=info["action_mask"].astype(bool))
        obs, _, _, truncated, info = env.step(int(action))
    totals = info["totals"]
    quality = totals["reward_quality"]
    energy = -(totals["reward_auxiliary"] + totals["reward_waste"])
    assert quality > 0 and energy > 0
    assert 0.1 < energy / quality < 10.0, (quality, energy)
