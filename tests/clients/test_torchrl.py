"""TorchRL's ``GymEnv`` on an lrm_gym id: spec check, random rollouts, the mask as an ``ActionMask`` transform."""

from __future__ import annotations

import gymnasium as gym
import pytest

import lrm_gym  # noqa: F401 (registers the ids)

torch = pytest.importorskip("torch")
pytest.importorskip("torchrl")


def test_torchrl_gym_env_passes_check_env_specs_and_rolls_out() -> None:
    from torchrl.envs import GymEnv
    from torchrl.envs.utils import check_env_specs

    env = GymEnv("lrm_gym/EnergyRouting-v2", categorical_action_encoding=True)
    check_env_specs(env)
    rollout = env.rollout(300)  # random actions, masked ones included
    assert rollout["next", "reward"].shape == (300, 1)


def test_torchrl_action_mask_transform_reads_the_bool_mask_and_cost_from_info() -> None:
    from torchrl.data import Binary, Unbounded
    from torchrl.envs import ActionMask, GymEnv, TransformedEnv
    from torchrl.envs.libs.gym import default_info_dict_reader
    from torchrl.envs.utils import check_env_specs

    n_actions = int(gym.make("lrm_gym/EnergyRouting-v2").action_space.n)
    base = GymEnv("lrm_gym/EnergyRouting-v2", categorical_action_encoding=True)
    specs = {"action_mask": Binary(n_actions, dtype=torch.bool), "cost": Unbounded((), dtype=torch.float64)}
    base.set_info_dict_reader(default_info_dict_reader(["action_mask", "cost"], spec=specs))
    env = TransformedEnv(base, ActionMask())
    check_env_specs(env)
    rollout = env.rollout(300)
    chosen = rollout["action_mask"].gather(-1, rollout["action"].unsqueeze(-1))
    assert chosen.all()  # the transform's random actions respect the mask
    assert (rollout["next", "cost"] >= 0).all()
