"""Nothing in a hyperparameter file, a suite, a command-line value or a model file's metadata runs as code.

Every attack below would create a marker file if the data were executed; each test runs in a fresh
``tmp_path`` working directory and asserts that the marker never appears and that the input is refused
with an error naming it. ``test_the_attack_strings_work_on_a_bare_eval`` shows the strings are live
attacks (they do write the marker under the ``eval`` the code used before), so the other tests can fail.
"""

from __future__ import annotations

import base64
import contextlib
import json
import pathlib
import pickle
import re
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
import torch
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO

import lrm_gym
from agents.cli import main
from agents.policies.rllib import algorithm_checkpoint, module_path
from agents.policies.sb3 import load_policy
from agents.training.hyperparams import load_hyperparams
from agents.training.literals import parse_expression, parse_policy_kwargs
from tests.agents.test_training_sb3 import run_cli

ENV = "lrm_gym/EnergyRouting-Volatile-v2"
MARKER = "pwned.txt"
SHELL = "th.os.system('touch pwned.txt')"
ESCAPE = (
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]()"
    "._module.__builtins__['__import__']('os').system('touch pwned.txt')"
)
"""Reaches ``os.system`` from an ``eval`` without builtins, through ``object.__subclasses__()``."""
TANH = "dict(net_arch=[8], activation_fn=nn.Tanh)"


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def train(*args: str) -> list[str]:
    return ["train", "--algo", "maskable-ppo", "--env", ENV, "-n", "64", "--no-progress", *args]


def assert_refused(code: int, capsys: pytest.CaptureFixture[str], *words: str) -> None:
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("lrm-gym train: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err


# ---------------------------------------------------------------------------------------------------------
# Hyperparameters: policy_kwargs, normalize, env_wrapper


def test_the_attack_strings_work_on_a_bare_eval(cwd: Path) -> None:
    """The control: the namespaces the old code gave ``eval`` do run the attacks."""
    eval(SHELL, {"__builtins__": {}}, {"dict": dict, "nn": torch.nn, "th": torch})
    assert (cwd / MARKER).is_file()
    (cwd / MARKER).unlink()
    eval(ESCAPE, {"__builtins__": {}}, {"dict": dict, "True": True, "False": False})
    assert (cwd / MARKER).is_file()


def test_policy_kwargs_from_the_command_line_never_run(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_refused(main(train("-params", f"policy_kwargs:{SHELL}")), capsys, "policy_kwargs", "th.os.system")
    assert_refused(main(train("-params", f"policy_kwargs:{ESCAPE}")), capsys, "policy_kwargs")
    assert not (cwd / MARKER).exists()
    assert list(cwd.iterdir()) == [], "nothing may be written"


def test_normalize_expression_never_runs(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_refused(main(train("-params", f"normalize:{ESCAPE}")), capsys, "normalize")
    assert_refused(main(train("-params", f"normalize:{SHELL}")), capsys, "normalize")
    assert not (cwd / MARKER).exists()


def test_expressions_in_a_hyperparameter_file_never_run(cwd: Path) -> None:
    conf = cwd / "evil.yml"
    for key, attack in (("policy_kwargs", SHELL), ("policy_kwargs", ESCAPE), ("normalize", ESCAPE)):
        conf.write_text(json.dumps({"default": {key: attack}}))  # JSON is YAML
        with pytest.raises(ValueError, match=key):
            load_hyperparams("ppo", ENV, conf)
    assert not (cwd / MARKER).exists()


def test_env_wrapper_never_imports_a_module_it_does_not_list(
    cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a module on the import path whose import writes the marker: rl-zoo3 would import it
    (cwd / "evil_wrapper.py").write_text(f"import pathlib\npathlib.Path({str(cwd / MARKER)!r}).touch()\nWrap = None\n")
    monkeypatch.syspath_prepend(str(cwd))
    assert_refused(main(train("-params", "env_wrapper:evil_wrapper.Wrap")), capsys, "evil_wrapper.Wrap", "allowed")
    assert_refused(main(train("-params", "env_wrapper:[{os.system: {}}]")), capsys, "os.system")
    assert not (cwd / MARKER).exists()
    assert "evil_wrapper" not in sys.modules


def test_a_suite_with_a_code_string_fails_benchmark_validation(cwd: Path) -> None:
    suite = cwd / "evil.yaml"
    suite.write_text(
        "name: evil\n"
        "eval: {seeds: {start: 0, count: 1}}\n"
        "scenarios: [volatile]\n"
        "learned:\n"
        f'  - {{algo: ppo, n_timesteps: 64, hyperparams: {{policy_kwargs: "{SHELL}"}}}}\n'
    )
    done = run_cli("benchmark", "--suite", str(suite), "--out", str(cwd / "out"), cwd=cwd)
    assert done.returncode == 2, done.stderr
    assert "lrm-gym benchmark: error:" in done.stderr and "policy_kwargs" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (cwd / MARKER).exists()


# ---------------------------------------------------------------------------------------------------------
# The safe grammar still reads what rl-zoo3 writes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dict(net_arch=[64, 64], activation_fn=nn.Tanh)", {"net_arch": [64, 64], "activation_fn": torch.nn.Tanh}),
        (
            "dict(log_std_init=-2, ortho_init=False, activation_fn=nn.ReLU, net_arch=dict(pi=[256, 256], vf=[256]))",
            {
                "log_std_init": -2,
                "ortho_init": False,
                "activation_fn": torch.nn.ReLU,
                "net_arch": {"pi": [256, 256], "vf": [256]},
            },
        ),
        (
            "dict(optimizer_class=th.optim.RMSprop, optimizer_kwargs=dict(eps=1e-5, alpha=0.99), net_arch=[8])",
            {"optimizer_class": torch.optim.RMSprop, "optimizer_kwargs": {"eps": 1e-5, "alpha": 0.99}, "net_arch": [8]},
        ),
        (
            "{'net_arch': (32, 32), 'activation_fn': torch.nn.SiLU}",
            {"net_arch": (32, 32), "activation_fn": torch.nn.SiLU},
        ),
        (
            "dict(net_arch=[64], activation_fn=th.nn.GELU, squash_output=None)",
            {"net_arch": [64], "activation_fn": torch.nn.GELU, "squash_output": None},
        ),
    ],
)
def test_rl_zoo3_policy_kwargs_strings_parse_to_the_same_objects(text: str, expected: dict[str, Any]) -> None:
    assert parse_policy_kwargs(text, "f") == expected


def test_policy_kwargs_mapping_form_resolves_class_names() -> None:
    got = parse_policy_kwargs({"net_arch": [64], "activation_fn": "nn.ELU", "optimizer_class": "th.optim.Adam"}, "f")
    assert got == {"net_arch": [64], "activation_fn": torch.nn.ELU, "optimizer_class": torch.optim.Adam}
    with pytest.raises(ValueError, match=r"activation_fn 'os\.system' is not a known name"):
        parse_policy_kwargs({"activation_fn": "os.system"}, "f")


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("nn.Tanh()", "nn.Tanh()"),  # a call of anything but dict
        ("dict(**x)", "dict(**x)"),
        ("dict(a=__import__('os'))", "__import__('os')"),
        ("dict(a=nn.modules.activation.os)", "nn.modules.activation.os"),
        ("[x for x in ()]", "[x for x in ()]"),
        ("dict(a=lambda: 1)", "lambda: 1"),
        ("dict(a=1 + 1)", "1 + 1"),
        ("dict(a=nn)", "nn"),
    ],
)
def test_anything_outside_the_grammar_is_named(text: str, part: str) -> None:
    with pytest.raises(ValueError, match="policy_kwargs") as err:
        parse_expression(text, "policy_kwargs")
    assert repr(part) in str(err.value)


def test_normalize_accepts_the_rl_zoo3_string_and_the_mapping() -> None:
    for value in ("dict(norm_obs=False, norm_reward=True)", {"norm_obs": False, "norm_reward": True}):
        assert load_hyperparams("ppo", ENV, overrides={"normalize": value}).normalize_reward is True


# ---------------------------------------------------------------------------------------------------------
# Model files: checked as JSON before SB3 or RLlib unpickles anything


class Touch:
    """Unpickling this object creates ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return (pathlib.Path.touch, (self.path,))


def payload(path: Path) -> str:
    return base64.b64encode(pickle.dumps(Touch(path))).decode()


def saved_model(env_id: str, folder: Path, algo: Any = PPO) -> Path:
    """A model trained a few steps (so that its file holds every pickled entry training leaves, e.g. the
    last observation), with an rl-zoo3 schedule and activation function (pickled entries too)."""
    env = gym.make(env_id, overrides={"horizon_slots": 1})
    if algo is PPO:
        env = lrm_gym.MaskedActionFallback(env)
    path = folder / f"{algo.__name__}-{env_id.replace('/', '-')}.zip"
    kwargs = load_hyperparams("ppo", ENV, overrides={"learning_rate": "lin_1e-3", "policy_kwargs": TANH}).algo_kwargs
    model = algo(
        "MultiInputPolicy",
        env,
        n_steps=8,
        batch_size=8,
        n_epochs=1,
        seed=0,
        device="cpu",
        **{k: kwargs[k] for k in ("learning_rate", "policy_kwargs")},
    )
    model.learn(16)
    model.save(path)
    return path


def crafted(
    real: Path, out: Path, edit: Callable[[dict[str, Any]], Any] | None = None, replace: dict[str, bytes] | None = None
) -> Path:
    """A copy of the SB3 zip ``real`` with its ``data`` edited and entries replaced (SB3's layout kept)."""
    with zipfile.ZipFile(real) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "data" and edit is not None:
                data = json.loads(content)
                edit(data)
                content = json.dumps(data).encode()
            target.writestr(name, (replace or {}).get(name, content))
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {
        "ppo": saved_model(ENV, folder),
        "ppo-solar": saved_model("lrm_gym/EnergyRouting-Solar-v2", folder),
        "maskable-ppo": saved_model(ENV, folder, MaskablePPO),
    }


def refuse_everywhere(path: Path, algo: str, cwd: Path, capsys: pytest.CaptureFixture[str], *words: str) -> None:
    """``lrm-gym train -i`` and the evaluation loader both refuse ``path`` without writing the marker."""
    code = main(["train", "--algo", algo, "--env", ENV, "-n", "8", "-i", str(path), "-f", str(cwd / "logs")])
    assert_refused(code, capsys, str(path), *words)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_policy(path, algo, gym.make(ENV), (("lrm_gym.MaskedActionFallback", {}),))
    assert not (cwd / MARKER).exists()
    assert not (cwd / "logs").exists()


def test_model_with_pickled_spaces_of_another_env_is_refused_unopened(
    models: dict[str, Path], cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def poison(data: dict[str, Any]) -> None:
        data["observation_space"][":serialized:"] = payload(cwd / MARKER)
        data["action_space"][":serialized:"] = payload(cwd / MARKER)

    path = crafted(models["ppo-solar"], cwd / "evil.zip", poison)
    refuse_everywhere(path, "ppo", cwd, capsys, "does not fit env", "energy=(14,)")


def test_model_whose_spaces_have_no_readable_copy_is_refused_unopened(
    models: dict[str, Path], cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def strip(data: dict[str, Any]) -> None:
        for key in ("observation_space", "action_space"):
            data[key] = {":type:": data[key][":type:"], ":serialized:": payload(cwd / MARKER)}

    refuse_everywhere(crafted(models["ppo"], cwd / "evil.zip", strip), "ppo", cwd, capsys, "does not fit env")


def test_model_saved_by_another_algorithm_is_refused_unopened(
    models: dict[str, Path], cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def poison(data: dict[str, Any]) -> None:
        data["policy_class"][":serialized:"] = payload(cwd / MARKER)

    path = crafted(models["maskable-ppo"], cwd / "evil.zip", poison)
    refuse_everywhere(path, "ppo", cwd, capsys, "saved by maskable-ppo, not ppo")


def test_model_whose_data_is_a_pickle_is_refused_unopened(
    models: dict[str, Path], cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = crafted(models["ppo"], cwd / "evil.zip", replace={"data": pickle.dumps(Touch(cwd / MARKER))})
    refuse_everywhere(path, "ppo", cwd, capsys, "cannot read model file")
    (cwd / "not-a-zip.zip").write_bytes(pickle.dumps(Touch(cwd / MARKER)))
    refuse_everywhere(cwd / "not-a-zip.zip", "ppo", cwd, capsys, "cannot read model file")


def test_pickled_weights_are_not_unpickled(models: dict[str, Path], cwd: Path) -> None:
    """The metadata is right, the weights file is a pickle: SB3 reads tensors with ``weights_only=True``."""
    path = crafted(
        models["ppo"], cwd / "evil.zip", replace={"policy.pth": pickle.dumps(Touch(cwd / MARKER), protocol=2)}
    )
    with pytest.raises(ValueError, match="cannot load model file"):
        load_policy(path, "ppo", gym.make(ENV), (("lrm_gym.MaskedActionFallback", {}),))
    assert not (cwd / MARKER).exists()


def test_evaluation_loads_open_no_pickle_even_when_the_metadata_fits(models: dict[str, Path], cwd: Path) -> None:
    """Every pickled entry of ``data`` holds the payload and the readable copies are right: SB3's plain load
    runs it (the control), the evaluation loader rebuilds every entry from data and predicts the same."""
    real = models["ppo"]

    def poison(data: dict[str, Any]) -> None:
        for entry in data.values():
            if isinstance(entry, dict) and ":serialized:" in entry:
                entry[":serialized:"] = payload(cwd / MARKER)

    evil = crafted(real, cwd / "evil.zip", poison)
    wrappers = (("lrm_gym.MaskedActionFallback", {}),)
    env = gym.make(ENV)
    safe, clean = load_policy(evil, "ppo", env, wrappers), load_policy(real, "ppo", env, wrappers)
    assert not (cwd / MARKER).exists()
    obs, info = env.reset(seed=5)
    for _ in range(50):
        masks = info["action_mask"].astype(bool)
        action = safe.predict(obs, action_masks=masks)[0]
        assert action == clean.predict(obs, action_masks=masks)[0]
        obs, _, terminated, truncated, info = env.step(int(action))
        if terminated or truncated:
            obs, info = env.reset()

    # the control: SB3's own load opens the pickles (then fails: the payload returns None, not a space)
    with contextlib.suppress(Exception):
        PPO.load(evil, device="cpu")
    assert (cwd / MARKER).is_file()


def test_malformed_rllib_checkpoints_are_refused_unopened(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = pickle.dumps(Touch(cwd / MARKER))
    checkpoint = cwd / "checkpoint"
    module = checkpoint.joinpath("learner_group", "learner", "rl_module", "default_policy")
    module.mkdir(parents=True)
    for folder in (checkpoint, module):
        (folder / "class_and_ctor_args.pkl").write_bytes(evil)
    (checkpoint / "algorithm_state.pkl").write_bytes(evil)
    (module / "module_state.pkl").write_bytes(evil)

    (checkpoint / "rllib_checkpoint.json").write_bytes(evil)  # not JSON
    with pytest.raises(ValueError, match=r"cannot read rllib_checkpoint\.json"):
        algorithm_checkpoint(checkpoint)
    info = {"class_and_ctor_args_file": "../../evil.pkl", "state_file": "algorithm_state", "checkpoint_version": "2.1"}
    (checkpoint / "rllib_checkpoint.json").write_text(json.dumps(info))
    code = main(["train", "--backend", "rllib", "--algo", "ppo", "--env", ENV, "-i", str(checkpoint), "-n", "8"])
    assert_refused(code, capsys, "not a file inside it")
    (module / "metadata.json").write_text("[]")
    with pytest.raises(ValueError, match=r"metadata\.json must be a JSON object"):
        module_path(checkpoint)
    assert not (cwd / MARKER).exists()
