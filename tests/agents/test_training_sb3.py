"""Training smoke tests (tiny budgets, in a subprocess), resume, the rl-zoo3 path, reloading, and bad input."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.cli import main
from agents.evaluation import evaluate
from agents.policies.sb3 import fallback_action, load_policy
from agents.training.hyperparams import MASKABLE, load_hyperparams
from agents.training.sb3 import ALGOS, TrainSpec, last_model, prepare

ROOT = Path(__file__).resolve().parents[2]
ENV = "lrm_gym/EnergyRouting-Volatile-v2"
SHORT = "overrides:{horizon_slots: 2}"  # about 80 steps per episode
# small rollouts so that a 128-step budget really is 128 steps
TINY = {
    "ppo": ["n_steps:32", "batch_size:32", "n_epochs:1"],
    "maskable-ppo": ["n_steps:32", "batch_size:32", "n_epochs:1"],
    "a2c": ["n_steps:8"],
    "dqn": ["learning_starts:32", "buffer_size:1000"],
}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m agents.cli *args`` in ``cwd``, importing this checkout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "agents.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def train_tiny(algo: str, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "train",
        "--algo",
        algo,
        "--env",
        ENV,
        "-n",
        "128",
        "--eval-freq",
        "64",
        "--eval-episodes",
        "1",
        "-f",
        str(folder),
        "--env-kwargs",
        SHORT,
        "--no-progress",
        "-params",
        *TINY[algo],
        *extra,
        cwd=ROOT,
    )


@pytest.mark.parametrize("algo", sorted(TINY))  # the slot-level ones: tests/agents/test_training_slot.py
def test_train_writes_an_rl_zoo_run_folder_that_reloads_and_evaluates(algo: str, tmp_path: Path) -> None:
    done = train_tiny(algo, tmp_path)
    assert done.returncode == 0, done.stderr
    run = tmp_path / algo / "lrm_gym-EnergyRouting-Volatile-v2_1"
    params = run / "lrm_gym-EnergyRouting-Volatile-v2"
    for name in ("evaluations.npz", "best_model.zip", "progress.csv"):
        assert (run / name).is_file(), name
    assert (params / "config.yml").is_file() and (params / "args.yml").is_file()
    assert list(run.glob("events.out.tfevents.*")), "no TensorBoard events"
    assert last_model(run).name == "lrm_gym-EnergyRouting-Volatile-v2.zip"
    with np.load(run / "evaluations.npz") as data:
        assert data["timesteps"].size >= 1 and data["results"].shape[1] == 1

    # the saved model goes through the benchmark's evaluation code on the raw env
    hp = load_hyperparams(algo, ENV)
    episodes = evaluate(
        lambda env: load_policy(last_model(run), algo, env, hp.wrappers), ENV, [7, 8], {"horizon_slots": 2}
    )
    assert [e.seed for e in episodes] == [7, 8]
    assert all(e.tasks_arrived > 0 and e.steps > 0 for e in episodes)

    # load_policy opens no pickle (it rebuilds them from data) and predicts exactly as SB3's own load
    env = gym.make(ENV, overrides={"horizon_slots": 2})
    safe = load_policy(last_model(run), algo, env, hp.wrappers).model
    plain = ALGOS[algo].load(last_model(run), device="cpu")
    plain_weights = plain.policy.state_dict()
    for name, weights in safe.policy.state_dict().items():
        assert torch.equal(weights, plain_weights[name]), name
    obs, info = env.reset(seed=9)
    for _ in range(40):
        kwargs = {"action_masks": info["action_mask"].astype(bool)} if algo in MASKABLE else {}
        action = safe.predict(obs, deterministic=True, **kwargs)[0]
        assert action == plain.predict(obs, deterministic=True, **kwargs)[0]
        mask = info["action_mask"]
        obs, _, terminated, truncated, info = env.step(int(action) if mask[int(action)] else fallback_action(mask))
        if terminated or truncated:
            obs, info = env.reset()


def test_training_resumes_from_a_saved_model(tmp_path: Path) -> None:
    assert train_tiny("ppo", tmp_path).returncode == 0
    first = tmp_path / "ppo" / "lrm_gym-EnergyRouting-Volatile-v2_1"
    done = train_tiny("ppo", tmp_path, "-i", str(last_model(first)))
    assert done.returncode == 0, done.stderr
    second = tmp_path / "ppo" / "lrm_gym-EnergyRouting-Volatile-v2_2"
    with (second / "progress.csv").open() as f:
        steps = [int(float(r["time/total_timesteps"])) for r in csv.DictReader(f) if r["time/total_timesteps"]]
    assert max(steps) > 128, "the resumed run should continue the saved model's step count"


def test_rl_zoo3_train_reads_our_hyperparameters(tmp_path: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rl_zoo3.train",
            "--algo",
            "ppo",
            "--env",
            "lrm_gym/EnergyRouting-v2",
            "--gym-packages",
            "lrm_gym",
            "-conf",
            str(ROOT / "configs" / "ppo.yml"),
            "-n",
            "64",
            "--eval-freq",
            "-1",
            "-f",
            str(tmp_path),
            "--env-kwargs",
            "overrides:dict(horizon_slots=2)",
            "-params",
            "n_steps:16",
            "batch_size:16",
            "n_epochs:1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run = tmp_path / "ppo" / "lrm_gym-EnergyRouting-v2_1"
    assert (run / "lrm_gym-EnergyRouting-v2.zip").is_file()
    assert (run / "lrm_gym-EnergyRouting-v2" / "config.yml").is_file()


# ---------------------------------------------------------------------------------------------------------
# Bad input fails before training, with a message naming the problem


def test_unknown_algorithm_and_env_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--algo", "ddpg", "--env", ENV, "-f", str(tmp_path)]) == 2
    assert "unknown algorithm 'ddpg'" in capsys.readouterr().err
    assert main(["train", "--algo", "ppo", "--env", "lrm_gym/Nope-v0", "-f", str(tmp_path)]) == 2
    assert "unknown env id 'lrm_gym/Nope-v0'" in capsys.readouterr().err
    assert main(["train", "--algo", "ppo", "--backend", "jax", "-f", str(tmp_path)]) == 2
    assert "unknown backend 'jax'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir()), "nothing may be written before the input is valid"


def test_unreadable_or_invalid_hyperparameters_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read hyperparameter file"):
        prepare(TrainSpec("ppo", ENV, conf_file=str(tmp_path / "missing.yml")))
    bad = tmp_path / "bad.yml"
    bad.write_text("default:\n  policy: MultiInputPolicy\n  n_stepz: 8\n")
    with pytest.raises(ValueError, match=r"PPO has no parameter\(s\) \['n_stepz'\]"):
        prepare(TrainSpec("ppo", ENV, conf_file=str(bad)))
    with pytest.raises(ValueError, match="horizon_slots"):
        prepare(TrainSpec("ppo", ENV, env_kwargs={"overrides": {"horizon_slots": -3}}))


def test_model_for_another_env_is_refused_before_training(tmp_path: Path) -> None:
    from stable_baselines3 import PPO

    other = gym.make("lrm_gym/EnergyRouting-Solar-v2")  # a longer forecast: another observation shape
    path = tmp_path / "solar.zip"
    PPO("MultiInputPolicy", other, n_steps=8, batch_size=8, device="cpu").save(path)
    with pytest.raises(ValueError, match=r"does not fit env lrm_gym/EnergyRouting-Volatile-v2.*energy=\(14,\)"):
        prepare(TrainSpec("ppo", ENV, trained_agent=str(path), log_folder=str(tmp_path / "logs")))
    with pytest.raises(ValueError, match="does not fit env"):
        load_policy(path, "ppo", gym.make(ENV))
    assert not (tmp_path / "logs").exists()


def test_flattened_observation_variant_trains_and_evaluates_on_the_dict_env(tmp_path: Path) -> None:
    flat = "env_wrapper:[lrm_gym.MaskedActionFallback, lrm_gym.FlattenRoutingObservation]"
    done = train_tiny("ppo", tmp_path, flat, "policy:MlpPolicy")
    assert done.returncode == 0, done.stderr
    run = tmp_path / "ppo" / "lrm_gym-EnergyRouting-Volatile-v2_1"
    wrappers = (("lrm_gym.MaskedActionFallback", {}), ("lrm_gym.FlattenRoutingObservation", {}))
    env = gym.make(ENV, overrides={"horizon_slots": 2})
    policy = load_policy(last_model(run), "ppo", env, wrappers)
    assert policy.flatten  # the model sees the flat vector, the benchmark feeds the Dict observation
    episodes = evaluate(lambda env: load_policy(last_model(run), "ppo", env, wrappers), ENV, [3], {"horizon_slots": 2})
    assert episodes[0].steps > 0
