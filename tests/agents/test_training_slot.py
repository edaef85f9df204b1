"""Training on the slot-level envs (lrm_gym/EnergyDispatch-*, continuous "allowance" action): PPO, SAC, TD3 and
RecurrentPPO through ``lrm-gym train`` with tiny budgets, reloading without pickles, and the errors that keep
each algorithm on the action space it needs."""

from __future__ import annotations

import re
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.evaluation import evaluate
from agents.policies.sb3 import SlotLearnedPolicy, load_policy, policy_factory
from agents.training.hyperparams import ALGOS, CONTINUOUS_ONLY, DISCRETE_ONLY, RECURRENT, load_hyperparams
from agents.training.sb3 import last_model
from tests.agents.test_training_sb3 import ROOT, run_cli

SLOT_ENV = "lrm_gym/EnergyDispatch-Volatile-v2"
TASK_ENV = "lrm_gym/EnergyRouting-Volatile-v2"
SHORT = {"horizon_slots": 4}  # 4 slot steps per episode
SLOT_ALGOS = ("ppo", "recurrent-ppo", "sac", "td3")
TINY = {  # small rollouts and buffers, so that a 128-step budget really is 128 steps
    "ppo": ["n_envs:2", "n_steps:16", "batch_size:16", "n_epochs:1"],
    "recurrent-ppo": ["n_envs:2", "n_steps:16", "batch_size:16", "n_epochs:1"],
    "sac": ["learning_starts:16", "batch_size:16", "buffer_size:1000"],
    "td3": ["learning_starts:16", "batch_size:16", "buffer_size:1000"],
}


def test_every_algorithm_is_on_one_side_of_the_action_split() -> None:
    assert set(SLOT_ALGOS) | DISCRETE_ONLY <= set(ALGOS)
    assert set(SLOT_ALGOS) >= CONTINUOUS_ONLY and not (DISCRETE_ONLY & set(SLOT_ALGOS))
    assert set(SLOT_ALGOS) >= RECURRENT


@pytest.mark.parametrize("algo", SLOT_ALGOS)
def test_train_on_the_slot_env_reloads_without_pickles_and_evaluates(algo: str, tmp_path: Path) -> None:
    done = run_cli(
        "train",
        "--algo",
        algo,
        "--env",
        SLOT_ENV,
        "-n",
        "128",
        "--eval-freq",
        "64",
        "--eval-episodes",
        "1",
        "-f",
        str(tmp_path),
        "--env-kwargs",
        "overrides:{horizon_slots: 4}",
        "--no-progress",
        "-params",
        *TINY[algo],
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    run = tmp_path / algo / "lrm_gym-EnergyDispatch-Volatile-v2_1"
    for name in ("evaluations.npz", "best_model.zip", "progress.csv"):
        assert (run / name).is_file(), name
    config = (run / "lrm_gym-EnergyDispatch-Volatile-v2" / "config.yml").read_text()
    assert "MaskedActionFallback" not in config and "action: allowance" in config

    hp = load_hyperparams(algo, SLOT_ENV)
    assert hp.wrappers == () and hp.env_kwargs["action"] == "allowance"
    factory = policy_factory(last_model(run), algo, hp.wrappers, {"action": "allowance"})
    episodes = evaluate(factory, SLOT_ENV, [7, 8], SHORT)
    assert [e.seed for e in episodes] == [7, 8]
    assert all(e.tasks_arrived > 0 and 0 < e.steps <= 4 for e in episodes)

    # the pickle-free load predicts exactly as SB3's own load, hidden state included
    env = gym.make(SLOT_ENV, overrides=SHORT, action="allowance")
    policy = load_policy(last_model(run), algo, env, hp.wrappers)
    assert isinstance(policy, SlotLearnedPolicy)
    plain = ALGOS[algo].load(last_model(run), device="cpu")
    plain_weights = plain.policy.state_dict()
    for name, weights in policy.model.policy.state_dict().items():
        assert torch.equal(weights, plain_weights[name]), name
    obs, _ = env.reset(seed=9)
    state_a = state_b = None
    start = np.ones((1,), dtype=bool)
    for _ in range(4):
        action_a, state_a = policy.predict(obs, state_a, start, deterministic=True)
        action_b, state_b = plain.predict(obs, state_b, start, deterministic=True)
        np.testing.assert_array_equal(action_a, action_b)
        assert env.action_space.contains(np.asarray(action_a, dtype=np.float32))
        obs, _, terminated, truncated, _ = env.step(action_a)
        start = np.zeros((1,), dtype=bool)
        if terminated or truncated:
            break


@pytest.mark.parametrize(
    ("algo", "env_id", "message"),
    [
        ("sac", TASK_ENV, "sac needs a continuous (Box) action space"),
        ("td3", TASK_ENV, "use the slot-level lrm_gym/EnergyDispatch ids"),
        ("dqn", SLOT_ENV, "dqn needs a discrete action space"),
        ("maskable-ppo", SLOT_ENV, "maskable-ppo needs a discrete action space"),
    ],
)
def test_an_algorithm_on_the_wrong_action_space_is_refused(algo: str, env_id: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        load_hyperparams(algo, env_id)


def test_per_task_wrappers_and_half_noise_settings_are_refused_on_the_slot_env() -> None:
    with pytest.raises(ValueError, match="act on the per-task envs' masks"):
        load_hyperparams("ppo", SLOT_ENV, overrides={"env_wrapper": ["lrm_gym.MaskedActionFallback"]})
    with pytest.raises(ValueError, match="noise_type and noise_std go together"):
        load_hyperparams("sac", SLOT_ENV, overrides={"noise_std": 0.2})
    with pytest.raises(ValueError, match=r"exploration noise of .* not ppo"):
        load_hyperparams("ppo", SLOT_ENV, overrides={"noise_type": "normal", "noise_std": 0.2})
    with pytest.raises(ValueError, match="ent_coef: must be a number >= 0, or"):
        load_hyperparams("sac", SLOT_ENV, overrides={"ent_coef": "automatic"})
    assert load_hyperparams("td3", SLOT_ENV).action_noise_std == 0.1
    assert load_hyperparams("sac", SLOT_ENV, overrides={"ent_coef": "auto_0.1"}).algo_kwargs["ent_coef"] == "auto_0.1"


@pytest.mark.parametrize("algo", ["ppo", "recurrent-ppo"])
def test_every_slot_level_id_has_an_entry_in_the_files_whose_default_is_per_task(algo: str) -> None:
    # their `default:` is for the per-task envs (a fallback wrapper, a Dict policy): a slot-level id without its
    # own entry would fail, so a new scenario must get one (and so must a benchmark suite's every scenario)
    from lrm_gym.registration import DISPATCH_FAMILY, family_ids

    for env_id in family_ids(DISPATCH_FAMILY):
        hp = load_hyperparams(algo, env_id)
        assert hp.source.endswith(f"[{env_id}]"), env_id
        assert hp.wrappers == () and hp.algo_kwargs["gamma"] == 0.99
