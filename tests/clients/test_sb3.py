"""Stable-Baselines3 and sb3-contrib as their docs use a registered Gymnasium env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import lrm_gym  # noqa: F401 (registers the ids)

pytest.importorskip("stable_baselines3")
ENV_KWARGS = {"overrides": {"horizon_slots": 10}}


@pytest.mark.parametrize("algo", ["PPO", "A2C", "DQN"])
def test_sb3_trains_with_multi_input_policy_on_subprocess_envs(algo: str) -> None:
    import stable_baselines3
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    # The prefix imports lrm_gym in the workers (a script's own `import lrm_gym` does too: workers re-import it).
    env_id = "lrm_gym:lrm_gym/EnergyRouting-v2"
    vec_env = make_vec_env(env_id, n_envs=2, vec_env_cls=SubprocVecEnv, env_kwargs=ENV_KWARGS)
    kwargs = {"n_steps": 64} if algo == "PPO" else {"learning_starts": 32} if algo == "DQN" else {}
    model = getattr(stable_baselines3, algo)("MultiInputPolicy", vec_env, seed=0, **kwargs)
    model.learn(256)
    obs = vec_env.reset()
    actions, _ = model.predict(obs)
    vec_env.step(actions)
    vec_env.close()


def test_sb3_mlp_policy_on_the_flat_observation() -> None:
    from stable_baselines3 import PPO

    env = gym.make("lrm_gym/EnergyRouting-v2", observation="flat", **ENV_KWARGS)
    PPO("MlpPolicy", env, n_steps=64, batch_size=32, seed=0).learn(128)


def test_sb3_contrib_action_masker_on_gym_make() -> None:
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.maskable.utils import get_action_masks
    from sb3_contrib.common.wrappers import ActionMasker

    env = ActionMasker(gym.make("lrm_gym/EnergyRouting-v2", **ENV_KWARGS), lambda e: e.unwrapped.action_masks())
    model = MaskablePPO("MultiInputPolicy", env, n_steps=64, batch_size=32, seed=0).learn(128)
    obs, info = env.reset(seed=1)
    for _ in range(100):
        masks = get_action_masks(env)
        np.testing.assert_array_equal(masks, info["action_mask"])
        action, _ = model.predict(obs, action_masks=masks)
        obs, _, _, truncated, info = env.step(action)
        assert not info["masked_action"]  # MaskablePPO never picks a masked action
        if truncated:
            obs, info = env.reset()
