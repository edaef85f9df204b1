"""RLlib PPO by id: remote env runners build the env through the ``lrm_gym:`` prefix, which imports lrm_gym."""

from __future__ import annotations

import pytest

pytest.importorskip("ray.rllib")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def test_rllib_ppo_by_id_with_a_remote_env_runner() -> None:
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        config = (
            PPOConfig()
            .environment(
                "lrm_gym:lrm_gym/EnergyRouting-v2",
                env_config={"observation": "flat", "overrides": {"horizon_slots": 3}},
            )
            .env_runners(num_env_runners=1)
            .training(train_batch_size_per_learner=64, minibatch_size=32, num_epochs=1)
        )
        algo = config.build_algo()
        result = algo.train()
        algo.stop()
    finally:
        ray.shutdown()
    assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 64
