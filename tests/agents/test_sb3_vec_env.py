"""SB3's VecEnv interface on the compiled core: parity with single envs, same-step autoreset, MaskablePPO."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.vec_env import VecMonitor

import lrm_gym  # noqa: F401 (registers the ids)
from agents.training.sb3_vec_env import NativeVecEnv

SHORT = {"horizon_slots": 3}


def test_each_env_replays_the_single_env_with_the_same_seed_across_episode_ends() -> None:
    """``seed(s)`` gives env i the single env's ``reset(seed=s + i)``; a finished episode's last
    observation is in ``terminal_observation`` and the next episode starts on the same step."""
    n = 3
    env = NativeVecEnv(n, scenario="volatile", overrides=SHORT)
    assert env.seed(7) == [7, 8, 9]
    obs = env.reset()
    singles = [gym.make("lrm_gym/EnergyRouting-Volatile-v2", overrides=SHORT) for _ in range(n)]
    single_obs = [single.reset(seed=7 + i)[0] for i, single in enumerate(singles)]
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(300):
        for i in range(n):
            for key, value in single_obs[i].items():
                np.testing.assert_array_equal(obs[key][i], value)
        actions = np.array([rng.choice(np.flatnonzero(mask)) for mask in get_action_masks(env)])
        obs, rewards, dones, infos = env.step(actions)
        assert rewards.dtype == np.float32 and dones.dtype == bool
        for i, single in enumerate(singles):
            last, reward, terminated, truncated, _ = single.step(int(actions[i]))
            assert rewards[i] == np.float32(reward) and not terminated and dones[i] == truncated
            if truncated:
                ends += 1
                assert infos[i]["TimeLimit.truncated"]
                for key, value in last.items():
                    np.testing.assert_array_equal(infos[i]["terminal_observation"][key], value)
                last, _ = single.reset()  # continues the env's random stream, as the vec env does
            else:
                assert infos[i] == {}
            single_obs[i] = last
    assert ends >= 2 * n  # every env crossed episode boundaries


def test_maskable_ppo_trains_and_acts_within_the_masks() -> None:
    env = VecMonitor(NativeVecEnv(8, scenario="volatile", overrides=SHORT))
    assert is_masking_supported(env)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=32, batch_size=64, n_epochs=1, seed=0)
    model.learn(512)
    obs = env.reset()
    for _ in range(20):
        masks = get_action_masks(env)
        actions, _ = model.predict(obs, action_masks=masks)
        assert masks[np.arange(8), actions].all()
        obs, _, _, _ = env.step(actions)


def test_bad_input_gets_clear_errors() -> None:
    with pytest.raises(ValueError, match="num_envs"):
        NativeVecEnv(0)
    urgent = {"classes": [{"name": "urgent", "weight": 1.0, "difficulty": 3, "slack_slots": 0}]}
    env = NativeVecEnv(2, overrides={**SHORT, "tasks": urgent})  # no slack: defer (0) is always masked
    env.reset()
    with pytest.raises(ValueError, match="actions"):
        env.step(np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="actions"):
        env.step(np.zeros(2))
    with pytest.raises(ValueError, match="masked"):
        env.step(np.zeros(2, np.int64))
    with pytest.raises(AttributeError, match="action_masks"):
        env.env_method("render")
    with pytest.raises(AttributeError, match="cannot be set"):
        env.set_attr("params", None)
    env._seeds = [1, None]
    with pytest.raises(ValueError, match="seed all envs or none"):
        env.reset()


def test_seeds_over_the_full_range_and_a_clear_error_past_it() -> None:
    """Seeds up to 2**64 - 1 as in the single env; ``seed + i`` past that names the env, before any reset."""
    env = NativeVecEnv(2, scenario="volatile", overrides={"horizon_slots": 2})
    env.seed(2**64 - 2)
    env.reset()  # envs get 2**64 - 2 and 2**64 - 1
    env.seed(2**64 - 1)
    with pytest.raises(ValueError, match="seed of env 1"):
        env.reset()


def test_num_envs_past_the_limit_fails_before_allocating() -> None:
    with pytest.raises(ValueError, match="num_envs"):
        NativeVecEnv(2**21, scenario="volatile")
