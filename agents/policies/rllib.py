"""A trained RLlib RLModule as a policy of :func:`agents.evaluation.evaluate` (SB3's ``predict`` signature).

Needs the ``ray`` extra (``pip install "lrm-gym[ray]"``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

_MODULE_SUBDIR = ("learner_group", "learner", "rl_module", "default_policy")
"""Where RLlib's algorithm checkpoint keeps the trained RLModule (``COMPONENT_LEARNER_GROUP`` etc.)."""
_CTOR_KEY = "class_and_ctor_args_file"
_STATE_EXTENSIONS = (".pkl", ".msgpack", ".pt")


def algorithm_checkpoint(path: str | Path) -> Path:
    """An RLlib algorithm checkpoint folder: ``path`` itself or a run folder's ``model/``, its metadata checked.

    Raises:
        ValueError: neither holds ``rllib_checkpoint.json``, or the checkpoint's files are not what RLlib writes.
    """
    path = Path(path)
    for candidate in (path, path / "model"):
        if (candidate / "rllib_checkpoint.json").is_file():
            check_checkpoint_files(candidate, "rllib_checkpoint.json")
            check_checkpoint_files(candidate.joinpath(*_MODULE_SUBDIR), "metadata.json")
            return candidate
    raise ValueError(f"no RLlib algorithm checkpoint at {str(path)!r} (expected rllib_checkpoint.json)")


def module_path(checkpoint: str | Path) -> Path:
    """The RLModule folder inside an RLlib algorithm checkpoint, a run folder (its ``model/``) or itself.

    Raises:
        FileNotFoundError: no RLlib module checkpoint at or under ``checkpoint``.
        ValueError: the module folder's files are not what RLlib writes.
    """
    path = Path(checkpoint)
    for candidate in (path, path.joinpath(*_MODULE_SUBDIR), path.joinpath("model", *_MODULE_SUBDIR)):
        if (candidate / "module_state.pkl").is_file() or (candidate / "module_state.pt").is_file():
            check_checkpoint_files(candidate, "metadata.json")
            return candidate
    raise FileNotFoundError(
        f"no RLlib policy checkpoint at {str(path)!r}: expected a run folder, its model/ or "
        "checkpoints/rl_model_<steps>_steps/ folder, or an RLModule folder"
    )


def check_checkpoint_files(folder: Path, metadata_name: str) -> None:
    """Check the JSON metadata of an RLlib checkpoint folder and the files it names, before RLlib opens them.

    RLlib's checkpoints hold pickles (``class_and_ctor_args.pkl``, ``*_state.pkl``) that run code when loaded,
    so a checkpoint is code: load only checkpoints from a trusted source (as Ray's documentation says). This
    refuses what is not an RLlib checkpoint with a clear message instead of an error from inside RLlib.
    """
    metadata = folder / metadata_name
    try:
        info = json.loads(metadata.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"RLlib checkpoint {str(folder)!r}: cannot read {metadata_name} ({err})") from err
    names = info.get(_CTOR_KEY) if isinstance(info, dict) else None
    state = info.get("state_file") if isinstance(info, dict) else None
    if not isinstance(names, str) or not isinstance(state, str) or "checkpoint_version" not in info:
        raise ValueError(
            f"RLlib checkpoint {str(folder)!r}: {metadata_name} must be a JSON object with {_CTOR_KEY}, "
            "state_file and checkpoint_version"
        )
    for name in (names, state):
        if Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"RLlib checkpoint {str(folder)!r}: {metadata_name} names {name!r}, not a file inside it")
    if not (folder / names).is_file() or not any((folder / f"{state}{ext}").is_file() for ext in _STATE_EXTENSIONS):
        raise ValueError(f"RLlib checkpoint {str(folder)!r}: the files {metadata_name} names are missing")


class RLlibPolicy:
    """A trained RLlib RLModule behind SB3's ``predict`` signature, fed lrm_gym's ``Dict`` observation.

    The observation is flattened exactly as :class:`lrm_gym.FlattenRoutingObservation` does in training,
    and the mask (``action_masks``, as :func:`agents.evaluation.evaluate` passes it) goes in beside it.
    """

    def __init__(self, module: Any, observation_space: gym.spaces.Dict, seed: int | None = None) -> None:
        from agents.training.rllib_masking import OBS_KEY

        if not isinstance(observation_space, gym.spaces.Dict):
            raise ValueError(f"RLlibPolicy needs the env's Dict observation space, got {observation_space}")
        expected = module.observation_space[OBS_KEY].shape
        got = (gym.spaces.flatdim(observation_space),)
        if expected != got:
            raise ValueError(
                f"the policy was trained on flat observations of shape {expected}, this env gives {got}: "
                "evaluate it on the env id and overrides it was trained with"
            )
        self.module = module
        self.observation_space = observation_space
        self.n_actions = int(module.action_space.n)
        self._rng = np.random.default_rng(seed)

    @classmethod
    def load(cls, checkpoint: str | Path, observation_space: gym.spaces.Dict, seed: int | None = None) -> RLlibPolicy:
        """Load the module of an RLlib checkpoint (no Ray runtime is started)."""
        from ray.rllib.core.rl_module.rl_module import RLModule

        module: Any = RLModule.from_checkpoint(module_path(checkpoint).resolve().as_posix())  # a torch module
        module.eval()
        return cls(module, observation_space, seed=seed)

    def predict(
        self,
        observation: Mapping[str, np.ndarray],
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Any]:
        """Actions for one observation or a batch (each ``Dict`` entry with a leading batch axis).

        ``action_masks=None`` means every action is allowed (as in sb3-contrib's ``MaskablePPO``).
        """
        import torch
        from ray.rllib.core.columns import Columns

        from agents.training.rllib_masking import MASK_KEY, OBS_KEY

        single = np.asarray(next(iter(observation.values()))).ndim == 1
        items = [observation] if single else _unbatch(observation)
        flat = np.stack([np.asarray(gym.spaces.flatten(self.observation_space, item)) for item in items])
        flat = flat.astype(np.float32)
        if action_masks is None:
            mask = np.ones((len(items), self.n_actions), dtype=np.float32)
        else:
            mask = np.asarray(action_masks, dtype=np.float32).reshape(len(items), self.n_actions)
        with torch.no_grad():
            out = self.module.forward_inference(
                {Columns.OBS: {MASK_KEY: torch.from_numpy(mask), OBS_KEY: torch.from_numpy(flat)}}
            )
        logits = out[Columns.ACTION_DIST_INPUTS].numpy().astype(np.float64)
        if deterministic:
            actions = logits.argmax(axis=1)
        else:
            probs = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
            actions = np.array([self._rng.choice(self.n_actions, p=p) for p in probs])
        return (actions[0] if single else actions), state


def _unbatch(observation: Mapping[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    n = len(next(iter(observation.values())))
    return [{key: np.asarray(value)[i] for key, value in observation.items()} for i in range(n)]


def policy_factory(checkpoint: str | Path, seed: int | None = None) -> Callable[[gym.Env], RLlibPolicy]:
    """``env -> RLlibPolicy``, the factory form :func:`agents.evaluation.evaluate` accepts."""
    module_path(checkpoint)  # fail now, not inside the evaluation loop

    def make(env: gym.Env) -> RLlibPolicy:
        return RLlibPolicy.load(checkpoint, env.observation_space, seed=seed)  # type: ignore[arg-type]

    return make
