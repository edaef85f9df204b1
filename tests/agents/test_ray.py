"""Ray backends: RLlib PPO training and evaluation, the Ray task executor, and its parity with the local pool.

Everything here runs on a local Ray runtime limited to this machine's cores (at most 2), without the
dashboard, and shut down at the end of the module.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from agents.ray_runtime import RayUnavailableError, local_num_cpus, parse_address, ray_available

needs_ray = pytest.mark.skipif(
    not ray_available(), reason='needs the optional "ray" extra: pip install "lrm-gym[ray]" (make install does)'
)

# RLlib registers its own env wrapper with Gymnasium on every algorithm build; the repeat warning is noise.
pytestmark = pytest.mark.filterwarnings("ignore:.*Overriding environment rllib-single-agent-env:UserWarning")

ENV_ID = "lrm_gym/EnergyRouting-v2"
SHORT = {"horizon_slots": 3}
TINY_PPO = ["train_batch_size_per_learner:64", "minibatch_size:32", "num_epochs:1", "fcnet_hiddens:[32, 32]"]


@pytest.fixture(scope="module")
def ray_local() -> Any:
    """One local runtime for the module: Ray's start-up is the expensive part of these tests."""
    import ray

    from agents.ray_runtime import LOCAL_OBJECT_STORE_BYTES

    ray.init(
        address="local",
        num_cpus=local_num_cpus(2),
        include_dashboard=False,
        object_store_memory=LOCAL_OBJECT_STORE_BYTES,
        log_to_driver=False,
    )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def trained_run(ray_local: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``lrm-gym train --backend rllib``: one PPO iteration of 64 steps on short episodes."""
    from agents.cli import main

    log_folder = tmp_path_factory.mktemp("rllib_logs")
    argv = ["train", "--backend", "rllib", "--algo", "ppo", "--env", ENV_ID, "-n", "64", "--eval-episodes", "2"]
    argv += ["-f", str(log_folder), "--seed", "3", "--env-kwargs", "overrides:{horizon_slots: 3}"]
    assert main([*argv, "-params", *TINY_PPO]) == 0
    (run_dir,) = (log_folder / "ppo").iterdir()
    return run_dir


@needs_ray
def test_rllib_ppo_run_folder_checkpoint_and_evaluation(trained_run: Path) -> None:
    from agents.evaluation import evaluate
    from agents.policies.rllib import policy_factory
    from agents.training.zoo import EVAL_SEED_OFFSET

    assert trained_run.name == "lrm_gym-EnergyRouting-v2_1"
    config = (trained_run / "lrm_gym-EnergyRouting-v2" / "config.yml").read_text()
    assert "backend: rllib" in config and "horizon_slots: 3" in config and "iterations: 1" in config
    assert (trained_run / "model" / "rllib_checkpoint.json").is_file()
    progress = (trained_run / "progress.csv").read_text().splitlines()
    assert len(progress) == 2 and progress[1].startswith("1,64,")

    # The checkpoint, reloaded, is scored by the benchmark's evaluation code: same seeds, same numbers.
    seeds = [3 + EVAL_SEED_OFFSET, 4 + EVAL_SEED_OFFSET]
    episodes = evaluate(policy_factory(trained_run), ENV_ID, seeds, SHORT)
    assert [e.seed for e in episodes] == seeds
    assert all(e.tasks_dispatched > 0 and e.steps > 0 for e in episodes)
    np.testing.assert_equal([e.as_dict() for e in episodes], json.loads((trained_run / "evaluation.json").read_text()))
    saved = np.load(trained_run / "evaluations.npz")
    assert saved["timesteps"].tolist() == [64]
    np.testing.assert_array_equal(saved["results"], [[e.episode_return for e in episodes]])
    np.testing.assert_array_equal(saved["ep_lengths"], [[e.steps for e in episodes]])


@needs_ray
def test_rllib_training_continues_from_a_checkpoint(trained_run: Path, tmp_path: Path) -> None:
    from agents.training.rllib import RLlibTrainConfig, train

    hyperparams = {"train_batch_size_per_learner": 64, "minibatch_size": 32, "num_epochs": 1, "fcnet_hiddens": [32, 32]}
    config = RLlibTrainConfig(
        env_id=ENV_ID,
        n_timesteps=64,
        eval_episodes=1,
        log_folder=str(tmp_path),
        hyperparams=hyperparams,
        env_kwargs={"overrides": SHORT},
        trained_agent=str(trained_run),
    )
    result = train(config)
    # RLlib restores the step counter with the weights: the new run starts where the first one stopped.
    assert (result.run_dir / "progress.csv").read_text().splitlines()[1].startswith("1,128,")
    assert (result.best_dir / "rllib_checkpoint.json").is_file()


@needs_ray
def test_readme_rllib_example_builds(ray_local: Any) -> None:
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Scaling out", 1)[1].split("\n## ", 1)[0]
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", section, flags=re.S) if "PPOConfig" in b]
    namespace: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    try:
        n_actions = gym.make(ENV_ID).action_space.n  # type: ignore[attr-defined]
        assert namespace["algo"].get_module().observation_space["action_mask"].shape == (n_actions,)
    finally:
        namespace["algo"].stop()


@needs_ray
def test_rllib_policy_never_picks_a_masked_action(trained_run: Path) -> None:
    from agents.policies.rllib import RLlibPolicy

    env = gym.make(ENV_ID, overrides=SHORT)
    policy = RLlibPolicy.load(trained_run, env.observation_space, seed=0)  # type: ignore[arg-type]
    obs, info = env.reset(seed=5)
    rng = np.random.default_rng(0)
    n = env.action_space.n  # type: ignore[attr-defined]
    for _ in range(20):
        only = int(rng.integers(n))
        mask = np.zeros(n, dtype=bool)
        mask[only] = True
        for deterministic in (True, False):
            action, _ = policy.predict(obs, deterministic=deterministic, action_masks=mask)
            assert int(action) == only
        action, _ = policy.predict(obs, action_masks=info["action_mask"].astype(bool))
        assert info["action_mask"][int(action)] == 1
        obs, _, _, truncated, info = env.step(int(action))
        if truncated:
            obs, info = env.reset()
    batch = {key: np.stack([value, value]) for key, value in obs.items()}
    actions, _ = policy.predict(batch, action_masks=np.stack([info["action_mask"]] * 2).astype(bool))
    assert actions.shape == (2,) and actions[0] == actions[1]
    env.close()


@needs_ray
def test_rllib_policy_bad_input(trained_run: Path, tmp_path: Path) -> None:
    from agents.policies.rllib import RLlibPolicy, module_path

    wrong = gym.spaces.Dict({"task": gym.spaces.Box(0.0, 1.0, (3,), np.float32)})
    with pytest.raises(ValueError, match="trained on flat observations of shape"):
        RLlibPolicy.load(trained_run, wrong)
    with pytest.raises(FileNotFoundError, match="no RLlib policy checkpoint"):
        module_path(tmp_path)


def test_rllib_config_bad_input() -> None:
    from agents.training.rllib import RLlibTrainConfig, resolve

    with pytest.raises(ValueError, match="rllib backend trains"):
        resolve(RLlibTrainConfig(env_id=ENV_ID, algo="dqn"))
    with pytest.raises(ValueError, match="not a registered lrm_gym id"):
        resolve(RLlibTrainConfig(env_id="CartPole-v1"))
    with pytest.raises(ValueError, match=r"unknown hyperparameters \['learning_rate'\]"):
        resolve(RLlibTrainConfig(env_id=ENV_ID, hyperparams={"learning_rate": 1e-3}))
    with pytest.raises(ValueError, match="takes only"):
        resolve(RLlibTrainConfig(env_id=ENV_ID, env_kwargs={"scenario": "solar"}))
    with pytest.raises(ValueError, match="horizon_slots"):
        resolve(RLlibTrainConfig(env_id=ENV_ID, env_kwargs={"overrides": {"horizon_slots": -1}}))
    with pytest.raises(ValueError, match="num_env_runners must be an integer >= 0"):
        resolve(RLlibTrainConfig(env_id=ENV_ID, hyperparams={"num_env_runners": -1}))
    run = resolve(RLlibTrainConfig(env_id=ENV_ID, n_timesteps=100, eval_freq=70, hyperparams={"minibatch_size": 8}))
    assert (run.iterations, run.eval_every, run.save_every) == (1, 1, 0)  # 100 and 70 steps round up to 1 batch


@needs_ray
def test_masked_env_and_module_bad_input() -> None:
    from agents.training.rllib_masking import MaskedPPOTorchRLModule, make_rllib_env

    with pytest.raises(ValueError, match="must be an lrm_gym id"):
        make_rllib_env({"env_id": "CartPole-v1"})
    with pytest.raises(ValueError, match="unknown keys"):
        make_rllib_env({"env_id": ENV_ID, "horizon": 3})
    env = make_rllib_env({"env_id": ENV_ID, "overrides": SHORT})
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    np.testing.assert_array_equal(obs["action_mask"], env.action_masks().astype(np.float32))
    with pytest.raises(ValueError, match="needs a Dict observation space"):
        flat_space = env.observation_space["observations"]  # type: ignore[index]
        MaskedPPOTorchRLModule(observation_space=flat_space, action_space=env.action_space)
    env.close()


def _suite(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(
        textwrap.dedent(
            """
            name: tiny
            description: local and Ray backends must agree
            eval: {seeds: [1000000, 1000001]}
            scenarios:
              - {name: critical, overrides: {horizon_slots: 3}}
              - {name: volatile, overrides: {horizon_slots: 3}}
            analytic: [fixed-option, accuracy-target]
            """
        )
    )
    return path


def _table_lines(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


@needs_ray
def test_benchmark_local_and_ray_backends_give_identical_tables(ray_local: Any, tmp_path: Path) -> None:
    from agents.cli import main

    suite = _suite(tmp_path)
    outs = {backend: tmp_path / backend for backend in ("local", "ray")}
    for backend, out in outs.items():
        assert (
            main(["benchmark", "--suite", str(suite), "--out", str(out), "--workers", "2", "--backend", backend]) == 0
        )
    for name in ("results.csv", "episodes.csv"):
        assert (outs["local"] / name).read_text() == (outs["ray"] / name).read_text(), name
    tables = [_table_lines((out / "results.md").read_text()) for out in outs.values()]
    assert tables[0] and tables[0] == tables[1]


@needs_ray
def test_benchmark_trains_and_evaluates_an_rllib_router_on_ray(ray_local: Any, tmp_path: Path) -> None:
    from agents.benchmark.suite import load_suite
    from agents.cli import main
    from agents.evaluation import evaluate
    from agents.policies.rllib import policy_factory

    suite = tmp_path / "rllib.yaml"
    suite.write_text(
        textwrap.dedent(
            """
            name: tiny-rllib
            eval: {seeds: [1000000, 1000001]}
            scenarios: [{name: critical, overrides: {horizon_slots: 3}}]
            analytic: [fixed-option]
            learned:
              - label: rllib-ppo
                algo: ppo
                backend: rllib
                n_timesteps: 128
                seeds: [0]
                eval_freq: 64
                eval_episodes: 1
                hyperparams: {train_batch_size_per_learner: 64, minibatch_size: 32, num_epochs: 1}
            """
        )
    )
    out = tmp_path / "out"
    assert main(["benchmark", "--suite", str(suite), "--out", str(out), "--backend", "ray", "--workers", "2"]) == 0
    run_dir = out / "runs" / "rllib-ppo" / "critical" / "seed_0"
    assert np.load(run_dir / "evaluations.npz")["timesteps"].tolist() == [64, 128]
    # The table's row for the RLlib router is the shared evaluation of its selected checkpoint.
    expected = evaluate(
        policy_factory(run_dir / "best_model"),
        load_suite(suite).scenarios[0].env_id,
        [1000000, 1000001],
        {"horizon_slots": 3},
    )
    rows = [line.split(",") for line in (out / "episodes.csv").read_text().splitlines()]
    header, body = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    learned = [row for row in body if row["policy"] == "rllib-ppo"]
    assert "episode_return" in header and len(learned) == 2
    assert [float(r["episode_return"]) for r in learned] == [e.episode_return for e in expected]


@needs_ray
def test_ray_worker_error_names_its_run_and_keeps_the_others(ray_local: Any, tmp_path: Path) -> None:
    from agents.benchmark.executors import RunError, make_executor
    from agents.benchmark.runs import RunResult, execute_run, plan
    from agents.benchmark.suite import load_suite

    good = plan(load_suite(_suite(tmp_path)), tmp_path)[:2]
    broken = replace(good[0], policy="no-such-policy", label="broken")
    outcomes = make_executor("ray", 2, address=None).map(execute_run, [good[0], broken, good[1]])
    assert isinstance(outcomes[0], RunResult) and outcomes[0].spec == good[0]
    assert isinstance(outcomes[2], RunResult) and outcomes[2].spec == good[1]
    error = outcomes[1]
    assert isinstance(error, RunError) and error.spec is broken
    assert error.spec.name == "critical / broken"
    assert "no-such-policy" in error.summary and error.summary.startswith("ValueError")
    assert "execute_run" in error.error  # the worker's traceback is kept


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@needs_ray
def test_unreachable_address_fails_fast_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from agents.benchmark.ray_executor import RayExecutor
    from agents.cli import main

    address = f"127.0.0.1:{_closed_port()}"
    with pytest.raises(RayUnavailableError, match=f"cannot reach a Ray cluster at '{address}' within 1 s"):
        RayExecutor(2, address=address, connect_timeout_s=1.0)
    argv = ["benchmark", "--suite", str(_suite(tmp_path)), "--out", str(tmp_path / "out"), "--backend", "ray"]
    assert main([*argv, "--address", address]) == 2
    assert f"cannot reach a Ray cluster at '{address}'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["benchmark", "--suite", str(_suite(tmp_path)), "--address", address]) == 2
    assert "use it with --backend ray" in capsys.readouterr().err


@pytest.mark.parametrize("address", ["", "127.0.0.1", "host:port", "ray://:10001", "10.0.0.1:70000"])
def test_malformed_address(address: str) -> None:
    with pytest.raises(ValueError, match="--address"):
        parse_address(address)


def test_address_forms() -> None:
    assert parse_address("auto") is None
    assert parse_address("10.0.0.1:6379") == ("10.0.0.1", 6379)
    assert parse_address("ray://head.example:10001") == ("head.example", 10001)
    assert local_num_cpus(10_000) == local_num_cpus(None)
    with pytest.raises(ValueError, match="num_cpus"):
        local_num_cpus(0)


@needs_ray
def test_executor_without_address_starts_and_stops_its_own_local_runtime() -> None:
    # A fresh interpreter: the module's shared runtime would otherwise be reused.
    code = textwrap.dedent(
        """
        import math, ray
        from agents.benchmark.ray_executor import RayExecutor
        print(RayExecutor(workers=1, progress=False).map(math.sqrt, [4.0, 9.0]), ray.is_initialized())
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[2.0, 3.0] False"


@needs_ray
def test_executor_joins_a_running_cluster_by_address(ray_local: Any) -> None:
    # The module's runtime stands in for a cluster; a fresh interpreter joins it by its GCS address.
    address = ray_local.get_runtime_context().gcs_address
    code = textwrap.dedent(
        f"""
        import math, ray
        from agents.benchmark.ray_executor import RayExecutor
        from agents.ray_runtime import ray_runtime
        with ray_runtime({address!r}):
            print(ray.get_runtime_context().gcs_address)
        print(RayExecutor(workers=1, address={address!r}, progress=False).map(math.sqrt, [4.0]), ray.is_initialized())
        """
    )
    env = os.environ | {"RAY_AUTH_MODE": "token"}  # the runtime started here uses Ray's default token auth
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-2:] == [address, "[2.0] False"]
    # Leaving disconnects the client only: the cluster still runs tasks.
    assert ray_local.get(ray_local.remote(lambda x: x * x).remote(3)) == 9


@needs_ray
def test_any_exception_becomes_that_specs_run_error(ray_local: Any) -> None:
    """Any picklable function works, and any exception it raises becomes that spec's RunError."""
    from agents.benchmark.executors import RunError
    from agents.benchmark.ray_executor import RayExecutor

    outcomes = RayExecutor(2, progress=False).map(math.sqrt, [4.0, -1.0, 9.0])
    assert outcomes[0] == 2.0 and outcomes[2] == 3.0
    assert isinstance(outcomes[1], RunError) and outcomes[1].spec == -1.0
    assert outcomes[1].summary == "ValueError: math domain error"


def test_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from agents.benchmark.ray_executor import RayExecutor
    from agents.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without the extra looks like to `import ray`
    with pytest.raises(RayUnavailableError, match=r'pip install "lrm-gym\[ray\]"'):
        RayExecutor(2)
    assert main(["train", "--backend", "rllib", "--algo", "ppo", "-n", "64"]) == 2
    assert 'Ray is not installed; install the optional extra: pip install "lrm-gym[ray]"' in capsys.readouterr().err
