"""``lrm-gym train`` refuses bad input before any work: one line ``lrm-gym train: error: ...``, exit code 2,
no traceback, nothing written; every hyperparameter is checked under its own name."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import yaml

import lrm_gym  # noqa: F401  (registers the env ids)
from agents.cli import main
from agents.paths import CONFIG_DIR
from agents.training.hyperparams import _EXPERIMENT_KEYS, ALGOS, CONTINUOUS_ONLY, load_hyperparams
from agents.training.sb3 import TrainSpec, prepare
from tests.agents.test_training_sb3 import run_cli

ENV = "lrm_gym/EnergyRouting-Volatile-v2"
SLOT_ENV = "lrm_gym/EnergyDispatch-Volatile-v2"


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``lrm-gym train`` in-process; return its error line after checking its form."""
    code = main(["train", "--no-progress", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("lrm-gym train: error: ") and err.count("\n") == 1, err
    return err


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("n", ["0", "-1", "-200000"])
def test_a_non_positive_budget_is_an_error_not_the_files_budget(
    n: str, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert f"-n/--n-timesteps must be a positive integer, got {n}" in refused(["--algo", "ppo", "-n", n], capsys)
    assert list(cwd.iterdir()) == []


def test_a_log_folder_that_is_a_file_fails_before_any_work(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (cwd / "afile").write_text("x")
    assert "-f/--log-folder afile is a file, not a folder" in refused(
        ["--algo", "ppo", "-n", "8", "-f", "afile"], capsys
    )
    assert [p.name for p in cwd.iterdir()] == ["afile"]


def test_a_negative_seed_fails_before_any_work(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--seed must be an integer >= 0, got -1" in refused(["--algo", "ppo", "-n", "8", "--seed", "-1"], capsys)
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nokey", "--env-kwargs expects key:value pairs, got 'nokey'"),
        ("bogus:1", "unexpected keyword argument 'bogus'"),
        ("overrides:5", "overrides must be a mapping"),
        ("overrides:{nope: 1}", "nope: Extra inputs are not permitted"),  # pydantic's several lines, joined
        ("overrides:{horizon_slots: [}", "--env-kwargs overrides: value '{horizon_slots: [}' is not valid YAML"),
        ("overrides:{horizon_slots: -3}", "horizon_slots"),
    ],
)
def test_bad_env_kwargs_are_named(value: str, message: str, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in refused(["--algo", "ppo", "-n", "8", "--env-kwargs", value], capsys)
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize(
    ("algo", "param", "message"),
    [
        ("ppo", "n_steps:-5", "n_steps: must be a positive integer, got -5"),
        ("ppo", "n_steps:8.5", "n_steps: must be a positive integer, got 8.5"),
        ("ppo", "batch_size:0", "batch_size: must be a positive integer, got 0"),
        ("ppo", "n_epochs:true", "n_epochs: must be a positive integer, got True"),
        ("ppo", "gamma:0", "gamma: must be a number in (0, 1], got 0"),
        ("ppo", "gamma:1.5", "gamma: must be a number in (0, 1], got 1.5"),
        ("ppo", "gae_lambda:-0.1", "gae_lambda: must be a number in [0, 1], got -0.1"),
        ("ppo", "learning_rate:-1", "learning_rate: must be a positive number or 'lin_<positive number>', got -1"),
        ("ppo", "learning_rate:lin_x", "learning_rate: must be a positive number or 'lin_<positive number>'"),
        ("ppo", "clip_range:0", "clip_range: must be a positive number"),
        (
            "ppo",
            "ent_coef:-0.01",
            "ent_coef: must be a number >= 0, or (SAC) 'auto' or 'auto_<positive number>', got -0.01",
        ),
        ("ppo", "target_kl:0", "target_kl: must be null or a positive number, got 0"),
        ("ppo", "policy:CnnPolicyz", "policy: PPO takes one of ['CnnPolicy', 'MlpPolicy', 'MultiInputPolicy']"),
        ("ppo", "policy_kwargs:{net_arch: [64, -1]}", "policy_kwargs: net_arch must be a list of positive layer"),
        ("ppo", "policy_kwargs:[1]", "policy_kwargs: must be a mapping"),
        ("ppo", "seed:3", "['seed'] are set by lrm-gym train itself"),
        ("ppo", "rollout_buffer_class:x", "['rollout_buffer_class'] name classes to run"),
        ("ppo", "normalize:true", "normalize must be {norm_obs: false, norm_reward: true}"),
        ("ppo", "n_envs:0", "n_envs must be a positive integer, got 0"),
        ("dqn", "buffer_size:0", "buffer_size: must be a positive integer, got 0"),
        ("dqn", "learning_starts:-1", "learning_starts: must be an integer >= 0, got -1"),
        ("dqn", "train_freq:[4, hours]", "train_freq: must be a positive integer or [positive integer, 'step'"),
        ("dqn", "exploration_final_eps:2", "exploration_final_eps: must be a number in [0, 1], got 2"),
        ("dqn", "gradient_steps:0", "gradient_steps: must be a positive integer or -1"),
        ("a2c", "n_steps:0", "n_steps: must be a positive integer, got 0"),
    ],
)
def test_every_hyperparameter_is_checked_by_name(
    algo: str, param: str, message: str, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert message in refused(["--algo", algo, "--env", ENV, "-n", "8", "-params", param], capsys)
    assert list(cwd.iterdir()) == []


def test_an_exponent_without_a_dot_in_a_file_is_explained(tmp_path: Path) -> None:
    conf = tmp_path / "conf.yml"
    conf.write_text("default:\n  learning_rate: 1e-3\n")  # YAML 1.1 reads this as the text '1e-3'
    with pytest.raises(ValueError, match=r"learning_rate: .*got '1e-3' \(text: YAML reads exponents without a dot"):
        load_hyperparams("ppo", ENV, conf)


def test_bad_input_never_prints_a_traceback(tmp_path: Path) -> None:
    """The same through the real command line (argparse, the package's ``__main__``, exit status)."""
    (tmp_path / "afile").write_text("x")
    for args in (["-n", "0"], ["-f", "afile"], ["--env-kwargs", "overrides:{nope: 1}"], ["-params", "n_steps:-5"]):
        done = run_cli("train", "--algo", "ppo", "--env", ENV, *args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("lrm-gym train: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


# ---------------------------------------------------------------------------------------------------------
# The shipped files still load, and give SB3 the objects they always did


def _shipped_entries() -> list[tuple[str, str]]:
    """(algo, env id) for every algorithm and every env id its file names (``default`` -> every lrm_gym id of the
    family it can train on: the slot-level ids for SAC and TD3, the per-task ids for the others)."""
    pairs = []
    for algo in sorted(ALGOS):
        table = yaml.safe_load((CONFIG_DIR / f"{algo}.yml").read_text())
        family = "lrm_gym/EnergyDispatch" if algo in CONTINUOUS_ONLY else "lrm_gym/EnergyRouting"
        ids = [k for k in table if k != "default"] + (
            sorted(k for k in gym.registry if k.startswith(family) and k not in table) if "default" in table else []
        )
        pairs += [(algo, env_id) for env_id in ids]
    return pairs


@pytest.mark.parametrize(("algo", "env_id"), _shipped_entries())
def test_shipped_configs_load_unchanged(algo: str, env_id: str) -> None:
    hp = load_hyperparams(algo, env_id)
    table = yaml.safe_load((CONFIG_DIR / f"{algo}.yml").read_text())
    entry = table.get(env_id, table["default"])
    # the files use plain YAML values only, so SB3 receives exactly what they say
    assert hp.algo_kwargs == {k: v for k, v in entry.items() if k not in _EXPERIMENT_KEYS}
    assert hp.policy == entry["policy"] and hp.n_envs == entry["n_envs"]
    assert hp.normalize_reward == bool(entry.get("normalize"))


@pytest.mark.parametrize("algo", sorted(ALGOS))
def test_shipped_configs_pass_every_check_before_training(algo: str, tmp_path: Path) -> None:
    slot = algo in CONTINUOUS_ONLY  # SAC and TD3 train on the slot-level envs only
    run = prepare(TrainSpec(algo, SLOT_ENV if slot else ENV, log_folder=str(tmp_path)))
    assert run.n_timesteps == (60_000 if slot else 200_000)
    assert not any(tmp_path.iterdir())
