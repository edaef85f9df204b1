"""Saved SB3 model files (``.zip``): their metadata checked as plain JSON before SB3 loads them.

An SB3 zip holds a JSON file ``data``; objects that are not JSON (spaces, the policy class, schedules) are
stored pickled under ``:serialized:`` with a readable copy of their public attributes beside it. SB3's
``load`` unpickles them, and unpickling runs whatever code the file names. So:

- :func:`check_model_file` reads only JSON and refuses a wrong or malformed file before any pickle is
  opened: the zip layout, the algorithm (from the policy class's module), and the observation and action
  spaces (their readable copies against the env's).
- :func:`load_for_prediction` (evaluation, the benchmark) replaces every pickled entry by an object built
  from data, so loading a model to evaluate it opens no pickle (SB3 reads the weights with
  ``torch.load(weights_only=True)``).
- :func:`load_to_continue` (``lrm-gym train -i``) is SB3's plain load, which unpickles the schedules and
  random state that training needs as saved: such a file is code and must come from a trusted source (as
  SB3's documentation says).
"""

from __future__ import annotations

import copy
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.save_util import data_to_json
from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit
from stable_baselines3.common.utils import FloatSchedule

from agents.training.hyperparams import ALGOS
from agents.training.literals import NAMES

MAX_DATA_BYTES = 50_000_000
"""A ``data`` entry larger than this is refused (SB3 writes a few kB; a zip bomb would exhaust memory)."""

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_BOX_IN_DICT = re.compile(r"'([^']+)': Box\(.*?, (\([\d, ]*\)), \w+\)", re.S)


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON ``data`` of an SB3 model zip, parsed as JSON only (nothing is unpickled).

    Raises:
        ValueError: no such file, not a zip, no ``data`` entry, not JSON, or no policy class and spaces.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"model file {path} does not exist")
    try:
        with zipfile.ZipFile(path) as archive:
            if "data" not in archive.namelist():
                raise ValueError(f"model file {path} is not an SB3 model: it has no 'data' entry")
            if archive.getinfo("data").file_size > MAX_DATA_BYTES:
                raise ValueError(f"model file {path}: its 'data' entry is larger than {MAX_DATA_BYTES} bytes")
            data = json.loads(archive.read("data"))
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"cannot read model file {path}: {type(err).__name__}: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"model file {path}: its 'data' entry is not a JSON object")
    for key in ("policy_class", "observation_space", "action_space"):
        if not isinstance(data.get(key), dict) or ":type:" not in data[key]:
            raise ValueError(f"model file {path} does not record its {key} (not a model saved by SB3)")
    return data


def saved_algorithm(data: dict[str, Any]) -> str | None:
    """The key of :data:`ALGOS` that saved ``data``, from its policy class's module (``None``: none of ours)."""
    module = data["policy_class"].get("__module__")
    matches = [a for a in sorted(ALGOS) if module in {c.__module__ for c in ALGOS[a].policy_aliases.values()}]
    if set(matches) == {"a2c", "ppo"}:  # they share their policy classes; only PPO saves a clip range
        return "ppo" if "clip_range" in data else "a2c"
    return matches[0] if len(matches) == 1 else None


def readable(entry: dict[str, Any]) -> dict[str, Any]:
    """The readable copy of a pickled entry: its type and public attributes, memory addresses removed."""
    return {
        key: _ADDRESS.sub("", value) if isinstance(value, str) else value
        for key, value in entry.items()
        if key != ":serialized:" and not key.startswith("_")
    }


def readable_space(space: spaces.Space[Any]) -> dict[str, Any]:
    """What SB3 would write for ``space`` (the same function SB3's ``save`` uses), as :func:`readable`."""
    return readable(json.loads(data_to_json({"space": space}))["space"])


def describe_space(space: spaces.Space[Any]) -> str:
    """A short description: shapes only (``Dict(energy=(10,), ...)``, ``Box(84,)``, ``Discrete(10)``)."""
    if isinstance(space, spaces.Dict):
        return "Dict(" + ", ".join(f"{k}={v.shape}" for k, v in space.spaces.items()) + ")"
    if isinstance(space, spaces.Discrete):
        return f"Discrete({space.n})"
    return f"{type(space).__name__}{space.shape}"


def describe_saved_space(entry: dict[str, Any]) -> str:
    """:func:`describe_space` of a space as SB3 saved it, from its readable copy."""
    kind = str(entry.get(":type:", "")).removesuffix("'>").rsplit(".", 1)[-1]
    if kind == "Dict":
        shapes = _BOX_IN_DICT.findall(str(entry.get("spaces", "")))
        return "Dict(" + ", ".join(f"{key}={shape}" for key, shape in shapes) + ")"
    if "n" in entry and kind in ("Discrete", "RoutingActions"):
        return f"Discrete({entry['n']})"
    shape = entry.get("_shape")
    return f"{kind}{tuple(shape) if isinstance(shape, list) else shape}"


def check_model_file(path: str | Path, algo: str, env: gym.Env[Any, Any]) -> None:
    """Raise ``ValueError`` unless ``path`` is an SB3 zip saved by ``algo`` on ``env``'s spaces (read as JSON)."""
    data = read_metadata(path)
    saved = saved_algorithm(data)
    if saved != algo:
        module = data["policy_class"].get("__module__")
        by = saved or f"an algorithm other than {sorted(ALGOS)} (policy module {module!r})"
        raise ValueError(f"model file {path} was saved by {by}, not {algo}")
    obs, act = data["observation_space"], data["action_space"]
    if readable(obs) == readable_space(env.observation_space) and readable(act) == readable_space(env.action_space):
        return
    name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    model, here = describe_saved_space(obs), describe_space(env.observation_space)
    why = "the same shapes but other bounds (another scenario)" if model == here else f"observations {here}"
    raise ValueError(
        f"model file {path} does not fit env {name}: the model was trained on observations {model} and "
        f"actions {describe_saved_space(act)}; the env has {why} and actions {describe_space(env.action_space)}"
    )


def policy_class(data: dict[str, Any], algo: str) -> type[Any]:
    """The policy class a model was saved with, found by its readable module and ``__init__`` among the
    algorithm's policies (``MlpPolicy``, ``MultiInputPolicy``, ...), without unpickling it."""
    entry = data["policy_class"]
    init = _ADDRESS.sub("", str(entry.get("__init__", "")))
    found = [
        cls
        for cls in ALGOS[algo].policy_aliases.values()
        if cls.__module__ == entry.get("__module__") and init == f"<function {cls.__init__.__qualname__}>"
    ]
    if len(found) != 1:
        raise ValueError(f"its policy class ({entry.get('__module__')}, {init}) is not one of {algo}'s policies")
    return found[0]


def _policy_kwargs(entry: dict[str, Any]) -> dict[str, Any]:
    """``policy_kwargs`` rebuilt from its readable copy: classes by their name in :data:`NAMES`."""
    classes = {str(cls): cls for cls in NAMES.values()}
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key in (":type:", ":serialized:"):
            continue
        if isinstance(value, str) and value in classes:
            value = classes[value]
        elif isinstance(value, str) and value.startswith(("<class ", "<function ")):
            raise ValueError(f"its policy_kwargs {key} is {value}, which lrm-gym cannot rebuild from data")
        out[key] = value
    return out


_TRAINING_STATE: dict[str, Any] = {
    "learning_rate": 0.0,
    "lr_schedule": FloatSchedule(0.0),
    "clip_range": FloatSchedule(0.0),
    "clip_range_vf": None,
    "exploration_schedule": FloatSchedule(0.0),
    "train_freq": TrainFreq(1, TrainFrequencyUnit.STEP),
    "rollout_buffer_class": None,  # None: SB3 picks its buffer for the observation space
    "replay_buffer_class": None,
    "action_noise": None,
    "_last_obs": None,
    "_last_episode_starts": None,
    "_last_original_obs": None,
    "ep_info_buffer": None,
    "ep_success_buffer": None,
}
"""Pickled entries that only training reads (schedules, buffers, the last observation, episode statistics),
and what a model loaded for prediction gets instead. The optimizer's state, learning rate included, is
loaded from the model's weights, so predictions are the same."""


def prediction_objects(data: dict[str, Any], algo: str, agent_env: gym.Env[Any, Any]) -> dict[str, Any]:
    """SB3 ``custom_objects`` replacing every pickled entry of ``data``, so that loading opens no pickle.

    Spaces are the env's (their readable copies were checked equal), the policy class is found by name,
    ``policy_kwargs`` is rebuilt from its readable copy, training state is neutral (:data:`_TRAINING_STATE`).

    Raises:
        ValueError: a pickled entry that cannot be rebuilt from data.
    """
    objects: dict[str, Any] = {}
    for key, entry in data.items():
        if not isinstance(entry, dict) or ":serialized:" not in entry:
            continue
        if key in ("observation_space", "action_space"):
            objects[key] = copy.deepcopy(getattr(agent_env, key))  # a copy: not linked to this env's masks
        elif key == "policy_class":
            objects[key] = policy_class(data, algo)
        elif key == "policy_kwargs":
            objects[key] = _policy_kwargs(entry)
        elif key in _TRAINING_STATE:
            objects[key] = copy.copy(_TRAINING_STATE[key])
        else:
            raise ValueError(f"its pickled entry {key!r} ({entry.get(':type:')}) cannot be rebuilt from data")
    return objects


def load_for_prediction(path: str | Path, algo: str, agent_env: gym.Env[Any, Any]) -> BaseAlgorithm:
    """A saved model for ``predict``, loaded without unpickling anything from the file.

    :func:`check_model_file` first; then SB3's ``load`` with every pickled entry of ``data`` replaced by an
    object built from data (:func:`prediction_objects`); SB3 reads the weights with
    ``torch.load(weights_only=True)``, which refuses code. The model predicts exactly as a plain load would;
    its training state (schedules, buffers) is neutral, so it is not for continuing training
    (:func:`load_to_continue`).
    """
    check_model_file(path, algo, agent_env)
    try:
        objects = prediction_objects(read_metadata(path), algo, agent_env)
    except ValueError as err:
        raise ValueError(f"model file {path}: {err}") from err
    return _load(path, algo, custom_objects=objects)


def load_to_continue(path: str | Path, algo: str, agent_env: gym.Env[Any, Any], **kwargs: Any) -> BaseAlgorithm:
    """:func:`check_model_file`, then SB3's plain ``load`` with ``kwargs`` (e.g. ``env``) to continue training.

    This load unpickles the file's schedules, spaces and random state (training needs them as saved): the
    file must come from a trusted source.
    """
    check_model_file(path, algo, agent_env)
    return _load(path, algo, **kwargs)


def _load(path: str | Path, algo: str, **kwargs: Any) -> BaseAlgorithm:
    try:
        return ALGOS[algo].load(path, device="cpu", **kwargs)
    except Exception as err:  # a damaged file fails in many ways (torch, zip, pickle)
        raise ValueError(f"cannot load model file {path}: {type(err).__name__}: {err}") from err
