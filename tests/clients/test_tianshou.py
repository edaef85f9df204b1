"""Tianshou 2.0 DQN on the flat observation, as Tianshou's DQN tutorial sets it up."""

from __future__ import annotations

import gymnasium as gym
import pytest

import lrm_gym  # noqa: F401 (registers the ids)

ts = pytest.importorskip("tianshou")


def make() -> gym.Env:
    return gym.make("lrm_gym/EnergyRouting-v2", observation="flat", overrides={"horizon_slots": 10})


def test_tianshou_dqn_trains_on_the_flat_observation() -> None:
    from tianshou.algorithm import DQN
    from tianshou.algorithm.modelfree.dqn import DiscreteQLearningPolicy
    from tianshou.algorithm.optim import AdamOptimizerFactory
    from tianshou.trainer import OffPolicyTrainerParams
    from tianshou.utils.net.common import Net

    env = make()
    train_envs = ts.env.DummyVectorEnv([make, make])
    net = Net(state_shape=env.observation_space.shape, action_shape=env.action_space.n, hidden_sizes=[64, 64])
    policy = DiscreteQLearningPolicy(model=net, action_space=env.action_space, eps_training=0.5)
    algorithm = DQN(policy=policy, optim=AdamOptimizerFactory(lr=1e-3), target_update_freq=50)
    collector = ts.data.Collector(algorithm, train_envs, ts.data.VectorReplayBuffer(2000, 2), exploration_noise=True)
    collector.reset()
    collector.collect(n_step=64)
    params = OffPolicyTrainerParams(
        training_collector=collector,
        max_epochs=1,
        epoch_num_steps=300,
        collection_step_num_env_steps=10,
        batch_size=32,
        test_step_num_episodes=0,
        verbose=False,
        show_progress=False,
    )
    result = algorithm.run_training(params)
    assert result.timing.total_time > 0
    assert collector.buffer.info["masked_action"].any()  # epsilon-greedy picks masked actions: they are legal
