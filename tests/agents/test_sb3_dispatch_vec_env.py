"""NativeDispatchVecEnv: SB3's VecEnv on the slot-level envs replays single envs, and SB3 trains on it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import SAC
from stable_baselines3.common.vec_env import VecMonitor

import lrm_gym  # noqa: F401  (registers the ids)
from agents.training.sb3_dispatch_vec_env import NativeDispatchVecEnv
from lrm_gym.registration import dispatch_env_id

SHORT = {"horizon_slots": 3}


@pytest.mark.parametrize("action", ["allowance", "class-routing"])
def test_env_i_replays_the_single_env_seeded_s_plus_i_across_episodes(action: str) -> None:
    n = 3
    vec = NativeDispatchVecEnv(n, scenario="volatile", overrides=SHORT, action=action)
    vec.seed(20)
    obs = vec.reset()
    singles = [gym.make(dispatch_env_id("volatile"), overrides=SHORT, action=action) for _ in range(n)]
    expected = np.stack([env.reset(seed=20 + i)[0] for i, env in enumerate(singles)])
    np.testing.assert_array_equal(obs, expected)
    rng = np.random.default_rng(1)
    ends = 0
    for _ in range(7):  # over two episode ends (same-step autoreset)
        actions = rng.uniform(-1, 1, (n, *vec.action_space.shape)).astype(np.float32)
        obs, rewards, dones, infos = vec.step(actions)
        for i, env in enumerate(singles):
            single_obs, reward, _, truncated, info = env.step(actions[i])
            assert rewards[i] == np.float32(reward) and dones[i] == truncated
            if truncated:
                np.testing.assert_array_equal(infos[i]["terminal_observation"], single_obs)
                assert infos[i]["totals"] == info["totals"] and infos[i]["TimeLimit.truncated"]
                single_obs, _ = env.reset()
                ends += 1
            np.testing.assert_array_equal(obs[i], single_obs)
    assert ends == 2 * n


def test_sac_learns_on_it_and_bad_actions_are_refused() -> None:
    env = VecMonitor(NativeDispatchVecEnv(4, scenario="critical", overrides=SHORT))
    model = SAC("MlpPolicy", env, learning_starts=8, batch_size=16, seed=0).learn(64)
    assert model.num_timesteps == 64
    with pytest.raises(ValueError, match=r"action\[0, 2\] = 2.0 is outside \[-1, 1\]"):
        env.step(np.array([[0.0, 0.0, 2.0]] * 4))
