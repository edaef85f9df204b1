"""RLlib training backend: PPO (new API stack) on any lrm_gym id, in the same run-folder shape as the SB3 path.

A run writes ``<log_folder>/<algo>/<env>_<n>/`` (rl-zoo3's shape, ``/`` in the id replaced by ``-``):

```
config.yml          resolved run configuration (env, overrides, seed, iterations, hyperparameters, versions)
progress.csv        one row per training iteration (env steps, mean episode return, seconds)
checkpoints/iter_<k>/  RLlib algorithm checkpoint at every evaluation point
model/              the final RLlib algorithm checkpoint (the counterpart of rl-zoo's ``<env>.zip``)
evaluations.npz     rl-zoo3 format: ``timesteps``, ``results`` and ``ep_lengths`` per evaluation point
evaluation.json     the final evaluation, one :class:`agents.evaluation.EpisodeMetrics` per seed
```

Every evaluation, during and after training, loads the checkpoint just written into :class:`RLlibPolicy`
(SB3's ``predict`` signature) and scores it with :func:`agents.evaluation.evaluate`, the code the benchmark
uses for every other policy. Action masking: see :mod:`agents.rllib_masking`.

Needs the ``ray`` extra (``pip install "lrm-gym[ray]"``).
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import yaml

import lrm_gym
from agents.evaluation import EpisodeMetrics, evaluate
from agents.ray_runtime import ray_runtime, require_ray

ALGOS: tuple[str, ...] = ("ppo",)
"""Algorithms this backend trains (RLlib's masking module pattern is written for PPO)."""

PPO_DEFAULTS: dict[str, Any] = {
    "lr": 3e-4,
    "gamma": 0.99,
    "lambda_": 0.95,
    "clip_param": 0.2,
    "entropy_coeff": 0.01,
    "vf_loss_coeff": 0.5,
    "train_batch_size_per_learner": 2000,
    "minibatch_size": 128,
    "num_epochs": 10,
    "fcnet_hiddens": [64, 64],
    "fcnet_activation": "tanh",
}
"""PPO hyperparameters and their defaults; ``fcnet_*`` go to the model config, the rest to ``.training()``."""

_MODEL_KEYS = frozenset({"fcnet_hiddens", "fcnet_activation"})
_MODULE_SUBDIR = ("learner_group", "learner", "rl_module", "default_policy")
"""Where RLlib's algorithm checkpoint keeps the trained RLModule (``COMPONENT_LEARNER_GROUP`` etc.)."""


@dataclass(frozen=True)
class RLlibTrainConfig:
    """One RLlib training run.

    Attributes:
        env_id: a registered lrm_gym id.
        algo: one of :data:`ALGOS`.
        iterations: RLlib training iterations (each samples ``train_batch_size_per_learner`` env steps).
        seed: seed of RLlib's sampling and network initialisation.
        overrides: scenario overrides for the training and evaluation envs.
        hyperparams: PPO settings overriding :data:`PPO_DEFAULTS`.
        eval_freq: evaluate (and checkpoint) every this many iterations; 0 = only at the end.
        eval_episodes: evaluation episodes per evaluation point.
        eval_seed: first evaluation seed (seeds ``eval_seed .. eval_seed + eval_episodes - 1``).
        num_env_runners: RLlib sampling actors; 0 samples in the driver (right for one small machine).
        log_folder: root of the run folders.
        address: Ray cluster to join; ``None`` starts a local runtime.
        num_cpus: CPUs of a local runtime (capped at the machine's cores).
    """

    env_id: str
    algo: str = "ppo"
    iterations: int = 10
    seed: int = 0
    overrides: Mapping[str, Any] = field(default_factory=dict)
    hyperparams: Mapping[str, Any] = field(default_factory=dict)
    eval_freq: int = 0
    eval_episodes: int = 5
    eval_seed: int = 10_000
    num_env_runners: int = 0
    log_folder: str = "logs"
    address: str | None = None
    num_cpus: int | None = None

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise ValueError(f"algo: the rllib backend trains {list(ALGOS)}, got {self.algo!r}")
        if self.env_id not in gym.registry or not self.env_id.startswith(f"{lrm_gym.registration.NAMESPACE}/"):
            ids = sorted(i for i in gym.registry if i.startswith(f"{lrm_gym.registration.NAMESPACE}/"))
            raise ValueError(f"env: {self.env_id!r} is not a registered lrm_gym id; known: {ids}")
        for name in ("iterations", "eval_episodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("eval_freq", "num_env_runners"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        unknown = set(self.hyperparams) - set(PPO_DEFAULTS)
        if unknown:
            raise ValueError(f"hyperparams: unknown keys {sorted(unknown)}; known: {sorted(PPO_DEFAULTS)}")

    def resolved_hyperparams(self) -> dict[str, Any]:
        return {**PPO_DEFAULTS, **self.hyperparams}


@dataclass(frozen=True)
class TrainResult:
    """Where a run wrote its files, and its final evaluation."""

    run_dir: Path
    model_dir: Path
    evaluation: list[EpisodeMetrics]


def env_folder_name(env_id: str) -> str:
    """rl-zoo3's folder name for an env id: ``/`` replaced by ``-`` (huggingface_sb3's ``EnvironmentName``)."""
    return env_id.replace("/", "-")


def next_run_dir(log_folder: str | Path, algo: str, env_id: str) -> Path:
    """``<log_folder>/<algo>/<env>_<n+1>`` where ``n`` is the largest existing run number (rl-zoo3's rule)."""
    root = Path(log_folder) / algo
    name = env_folder_name(env_id)
    taken = [int(p.name.rsplit("_", 1)[1]) for p in root.glob(f"{name}_*") if p.name.rsplit("_", 1)[1].isdigit()]
    return root / f"{name}_{max(taken, default=0) + 1}"


def build_algo_config(config: RLlibTrainConfig) -> Any:
    """The RLlib ``PPOConfig`` for a run (new API stack, masked PPO module)."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from agents.rllib_masking import MaskedPPOTorchRLModule, register_rllib_env

    hp = config.resolved_hyperparams()
    model = {k: v for k, v in hp.items() if k in _MODEL_KEYS}
    training = {k: v for k, v in hp.items() if k not in _MODEL_KEYS}
    env_config = {"env_id": config.env_id, "overrides": dict(config.overrides)}
    return (
        PPOConfig()
        .environment(register_rllib_env(), env_config=env_config)
        .env_runners(num_env_runners=config.num_env_runners)
        .training(**training)
        .rl_module(rl_module_spec=RLModuleSpec(module_class=MaskedPPOTorchRLModule, model_config=model))
        .debugging(seed=config.seed)
    )


def train(config: RLlibTrainConfig, progress: Callable[[int, dict[str, float]], None] | None = None) -> TrainResult:
    """Train ``config.algo`` with RLlib, checkpoint and evaluate it; write the run folder.

    Args:
        config: the run.
        progress: called after every iteration with ``(iteration, row of progress.csv)``.

    Returns:
        The run folder, the final checkpoint and the final evaluation.
    """
    require_ray()  # a missing extra fails before any folder is made
    run_dir = next_run_dir(config.log_folder, config.algo, config.env_id)
    run_dir.mkdir(parents=True)
    _write_config(run_dir, config)
    seeds = range(config.eval_seed, config.eval_seed + config.eval_episodes)
    eval_steps: list[int] = []
    eval_results: list[list[EpisodeMetrics]] = []

    with ray_runtime(config.address, config.num_cpus):
        algo = build_algo_config(config).build_algo()
        try:
            with (run_dir / "progress.csv").open("w", newline="") as stream:
                writer = csv.DictWriter(stream, fieldnames=["iteration", "env_steps", "episode_return_mean", "seconds"])
                writer.writeheader()
                for iteration in range(1, config.iterations + 1):
                    start = time.perf_counter()
                    result = algo.train()
                    row = _progress_row(iteration, result, time.perf_counter() - start)
                    writer.writerow(row)
                    stream.flush()
                    if progress is not None:
                        progress(iteration, row)
                    if config.eval_freq and iteration % config.eval_freq == 0 and iteration < config.iterations:
                        checkpoint = Path(
                            algo.save_to_path(str((run_dir / "checkpoints" / f"iter_{iteration:06d}").resolve()))
                        )
                        eval_steps.append(int(row["env_steps"]))
                        eval_results.append(
                            evaluate(policy_factory(checkpoint), config.env_id, seeds, config.overrides)
                        )
            model_dir = Path(algo.save_to_path(str((run_dir / "model").resolve())))
            final_steps = int(row["env_steps"])
        finally:
            algo.stop()

    final = evaluate(policy_factory(model_dir), config.env_id, seeds, config.overrides)
    eval_steps.append(final_steps)
    eval_results.append(final)
    _write_evaluations(run_dir, eval_steps, eval_results)
    return TrainResult(run_dir=run_dir, model_dir=model_dir, evaluation=final)


def _progress_row(iteration: int, result: Mapping[str, Any], seconds: float) -> dict[str, float]:
    from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, EPISODE_RETURN_MEAN, NUM_ENV_STEPS_SAMPLED_LIFETIME

    # An iteration shorter than an episode has no finished episode: RLlib then reports no return at all.
    episode_return = result.get(ENV_RUNNER_RESULTS, {}).get(EPISODE_RETURN_MEAN, math.nan)
    return {
        "iteration": iteration,
        "env_steps": int(result.get(NUM_ENV_STEPS_SAMPLED_LIFETIME, 0)),
        "episode_return_mean": float(episode_return),
        "seconds": round(seconds, 3),
    }


def _write_config(run_dir: Path, config: RLlibTrainConfig) -> None:
    import ray
    import torch

    resolved = asdict(config) | {
        "backend": "rllib",
        "overrides": dict(config.overrides),
        "hyperparams": config.resolved_hyperparams(),
        "versions": {"ray": str(ray.__version__), "torch": str(torch.__version__), "gymnasium": str(gym.__version__)},
    }
    (run_dir / "config.yml").write_text(yaml.safe_dump(resolved, sort_keys=False))


def _write_evaluations(run_dir: Path, steps: Sequence[int], results: Sequence[Sequence[EpisodeMetrics]]) -> None:
    np.savez(
        run_dir / "evaluations.npz",
        timesteps=np.asarray(steps, dtype=np.int64),
        results=np.asarray([[e.episode_return for e in episodes] for episodes in results], dtype=np.float64),
        ep_lengths=np.asarray([[e.steps for e in episodes] for episodes in results], dtype=np.int64),
    )
    final = [e.as_dict() for e in results[-1]]
    (run_dir / "evaluation.json").write_text(json.dumps(final, indent=2, allow_nan=True))


def module_path(checkpoint: str | Path) -> Path:
    """The RLModule folder inside an RLlib algorithm checkpoint, a run folder (its ``model/``) or itself.

    Raises:
        FileNotFoundError: no RLlib module checkpoint at or under ``checkpoint``.
    """
    path = Path(checkpoint)
    for candidate in (path, path.joinpath(*_MODULE_SUBDIR), path.joinpath("model", *_MODULE_SUBDIR)):
        if (candidate / "module_state.pkl").is_file() or (candidate / "module_state.pt").is_file():
            return candidate
    raise FileNotFoundError(
        f"no RLlib policy checkpoint at {str(path)!r}: expected a run folder, its model/ or "
        "checkpoints/iter_<k>/ folder, or an RLModule folder"
    )


class RLlibPolicy:
    """A trained RLlib RLModule behind SB3's ``predict`` signature, fed lrm_gym's ``Dict`` observation.

    The observation is flattened exactly as :class:`lrm_gym.FlattenRoutingObservation` does in training,
    and the mask (``action_masks``, as :func:`agents.evaluation.evaluate` passes it) goes in beside it.
    """

    def __init__(self, module: Any, observation_space: gym.spaces.Dict, seed: int | None = None) -> None:
        from agents.rllib_masking import OBS_KEY

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

        module = RLModule.from_checkpoint(module_path(checkpoint).resolve().as_posix())
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

        from agents.rllib_masking import MASK_KEY, OBS_KEY

        single = np.asarray(next(iter(observation.values()))).ndim == 1
        items = [observation] if single else _unbatch(observation)
        flat = np.stack([gym.spaces.flatten(self.observation_space, item) for item in items]).astype(np.float32)
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
