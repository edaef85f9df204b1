"""Saved SB3 model files (``.zip``): their metadata checked as plain JSON before SB3 loads them.

An SB3 zip holds a JSON file ``data``; objects that are not JSON (spaces, the policy class, schedules) are
stored pickled under ``:serialized:`` with a readable copy of their public attributes beside it. SB3's
``load`` unpickles them, and unpickling runs whatever code the file names, so a model file is code: load
only files from a trusted source (as SB3's documentation says). What can be checked without unpickling is
checked here first, so that a wrong or malformed file is refused with a clear message before any of its
pickles is opened: the zip layout, the algorithm (from the policy class's module), and the observation and
action spaces (their readable description against the env's).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.save_util import data_to_json

from agents.training.hyperparams import ALGOS

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


def load_model(path: str | Path, algo: str, agent_env: gym.Env[Any, Any], **kwargs: Any) -> BaseAlgorithm:
    """:func:`check_model_file`, then SB3's ``load`` (which unpickles: the file must come from a trusted source).

    Args:
        path: the ``.zip`` file.
        algo: the algorithm it was saved by.
        agent_env: an env with the spaces the model must have (the agent's view, wrappers applied).
        kwargs: passed to ``load`` (e.g. ``env`` to continue training).
    """
    check_model_file(path, algo, agent_env)
    try:
        return ALGOS[algo].load(path, device="cpu", **kwargs)
    except Exception as err:  # a damaged file fails in many ways (torch, zip, pickle)
        raise ValueError(f"cannot load model file {path}: {type(err).__name__}: {err}") from err
