"""RLlib training backend: PPO (new API stack) on any lrm_gym id, in the same run-folder shape as the SB3 path.

``lrm-gym train --backend rllib --algo ppo`` and :func:`train` write ``<log_folder>/ppo/<env>_<n>/``
(rl-zoo3's shape, ``/`` in the id replaced by ``-``):

```
<env>/config.yml    resolved run configuration (env kwargs, seed, budget, hyperparameters, versions)
<env>/args.yml      the request as given
progress.csv        one row per RLlib training iteration (env steps, mean episode return, seconds)
checkpoints/rl_model_<steps>_steps/   RLlib algorithm checkpoints every ``save_freq`` env steps
model/              the final RLlib algorithm checkpoint (the counterpart of SB3's ``<env>.zip``)
best_model/         the evaluated checkpoint with the best mean validation return (SB3's ``best_model.zip``)
evaluations.npz     rl-zoo3 format: ``timesteps``, ``results`` and ``ep_lengths`` per evaluation point
evaluation.json     the final evaluation, one :class:`agents.evaluation.EpisodeMetrics` per seed
```

Budgets are in env steps like the SB3 path; RLlib trains in iterations of ``train_batch_size_per_learner``
steps, so ``n_timesteps``, ``eval_freq`` and ``save_freq`` are rounded up to whole iterations. Every
evaluation loads the checkpoint just written into :class:`RLlibPolicy` (SB3's ``predict`` signature) and
scores it with :func:`agents.evaluation.evaluate`, the code the benchmark uses for every other policy, on
seeds ``seed + EVAL_SEED_OFFSET + i``. Action masking: see :mod:`agents.training.rllib_masking`.

Needs the ``ray`` extra (``pip install "lrm-gym[ray]"``).
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import yaml

import lrm_gym
from agents.evaluation import EpisodeMetrics, evaluate
from agents.policies.rllib import algorithm_checkpoint, policy_factory
from agents.ray_runtime import ray_runtime, require_ray
from agents.training.checks import RLLIB_RULES, check_values
from agents.training.zoo import (
    EVAL_SEED_OFFSET,
    check_run_settings,
    env_name,
    next_run_dir,
    read_hyperparams_entry,
)

ALGOS: tuple[str, ...] = ("ppo",)
"""Algorithms this backend trains (RLlib's action-masking module pattern is written for PPO)."""

DEFAULT_N_TIMESTEPS = 100_000

PPO_DEFAULTS: dict[str, Any] = {
    "lr": 3e-4,
    "gamma": 0.99,
    "lambda_": 0.95,
    "clip_param": 0.2,
    "entropy_coeff": 0.0,
    "vf_loss_coeff": 0.5,
    "train_batch_size_per_learner": 2048,
    "minibatch_size": 256,
    "num_epochs": 10,
    "fcnet_hiddens": [64, 64],
    "fcnet_activation": "tanh",
}
"""PPO hyperparameters (RLlib's names) and their defaults, matching ``configs/maskable-ppo.yml`` where the
two libraries share a setting; ``fcnet_*`` go to the model config, the rest to ``PPOConfig.training``."""

_MODEL_KEYS = frozenset({"fcnet_hiddens", "fcnet_activation"})
_ENV_KWARGS = frozenset({"overrides"})


@dataclass(frozen=True)
class RLlibTrainConfig:
    """One RLlib training run; the fields mean what :class:`agents.training.sb3.TrainSpec`'s do.

    Attributes:
        env_id: a registered lrm_gym id.
        algo: one of :data:`ALGOS`.
        seed: seeds RLlib's sampling and network initialisation; evaluation seeds start at
            ``seed + EVAL_SEED_OFFSET``.
        n_timesteps: training budget in env steps (``None``: the config file's, else 100k).
        eval_freq: evaluate every this many env steps (``<= 0``: only once, at the end).
        eval_episodes: episodes per evaluation.
        log_folder: runs go to ``<log_folder>/<algo>/<env>_<n>/``.
        conf_file: optional rl-zoo3-style YAML (entries keyed by env id or ``default``) with
            ``n_timesteps``, ``env_kwargs`` and keys of :data:`PPO_DEFAULTS`.
        hyperparams: overrides of :data:`PPO_DEFAULTS` and the file (``n_timesteps`` and ``num_env_runners``
            allowed too).
        env_kwargs: ``{"overrides": {...}}`` for the training and evaluation envs.
        trained_agent: an RLlib algorithm checkpoint (or a run folder) to continue training from.
        save_freq: checkpoint every this many env steps (``<= 0``: only the final ``model/``).
        progress: print one line per iteration.
        run_dir: write to exactly this folder instead of the next numbered one.
        num_env_runners: RLlib sampling actors, one CPU each; 0 samples in the driver (right for one small
            machine; on a cluster, ``-params num_env_runners:N`` spreads sampling over its nodes).
        address: Ray cluster to join; ``None`` starts a local runtime.
        num_cpus: CPUs of a local runtime (capped at the machine's cores).
    """

    env_id: str
    algo: str = "ppo"
    seed: int = 0
    n_timesteps: int | None = None
    eval_freq: int = 10_000
    eval_episodes: int = 5
    log_folder: str = "logs"
    conf_file: str | None = None
    hyperparams: Mapping[str, Any] = field(default_factory=dict)
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    trained_agent: str | None = None
    save_freq: int = -1
    progress: bool = False
    run_dir: str | None = None
    num_env_runners: int = 0
    address: str | None = None
    num_cpus: int | None = None

    @classmethod
    def from_train_spec(cls, spec: Any, **ray_options: Any) -> RLlibTrainConfig:
        """The config for an :class:`agents.training.sb3.TrainSpec` (``lrm-gym train``'s request)."""
        return cls(
            env_id=spec.env_id,
            algo=spec.algo,
            seed=spec.seed,
            n_timesteps=spec.n_timesteps,
            eval_freq=spec.eval_freq,
            eval_episodes=spec.eval_episodes,
            log_folder=spec.log_folder,
            conf_file=spec.conf_file,
            hyperparams=dict(spec.hyperparams or {}),
            env_kwargs=dict(spec.env_kwargs or {}),
            trained_agent=spec.trained_agent,
            save_freq=spec.save_freq,
            progress=spec.progress,
            run_dir=spec.run_dir,
            **ray_options,
        )


@dataclass(frozen=True)
class ResolvedRun:
    """A validated :class:`RLlibTrainConfig`: merged hyperparameters, budget in iterations, run folder."""

    config: RLlibTrainConfig
    source: str
    hyperparams: dict[str, Any]
    overrides: dict[str, Any]
    n_timesteps: int
    iterations: int
    eval_every: int  # iterations; 0 = final evaluation only
    save_every: int  # iterations; 0 = final model only
    num_env_runners: int
    run_dir: Path

    @property
    def eval_seeds(self) -> range:
        first = self.config.seed + EVAL_SEED_OFFSET
        return range(first, first + self.config.eval_episodes)


@dataclass(frozen=True)
class TrainResult:
    """Where a run wrote its files, and its final evaluation."""

    run_dir: Path
    model_dir: Path  # the final checkpoint
    best_dir: Path  # the checkpoint with the best mean validation return (SB3's ``best_model``)
    evaluation: list[EpisodeMetrics]  # of the final checkpoint


def _every(freq: int, batch: int) -> int:
    return math.ceil(freq / batch) if freq > 0 else 0


def resolve(config: RLlibTrainConfig) -> ResolvedRun:
    """Validate everything that can be wrong before Ray starts; ``ValueError`` naming the bad setting."""
    if config.algo not in ALGOS:
        raise ValueError(f"--algo: the rllib backend trains {list(ALGOS)}, got {config.algo!r}")
    namespace = f"{lrm_gym.registration.NAMESPACE}/"
    if config.env_id not in gym.registry or not config.env_id.startswith(namespace):
        ids = sorted(i for i in gym.registry if i.startswith(namespace))
        raise ValueError(f"--env: {config.env_id!r} is not a registered lrm_gym id; known: {ids}")
    if config.eval_episodes < 1:
        raise ValueError(f"--eval-episodes must be positive, got {config.eval_episodes}")
    check_run_settings(config.seed, config.log_folder, config.run_dir)
    entry, source = _read_conf(config.conf_file, config.env_id)
    entry_env_kwargs = entry.pop("env_kwargs", None) or {}
    merged = {**entry, **config.hyperparams}
    n_timesteps = merged.pop("n_timesteps", DEFAULT_N_TIMESTEPS)
    num_env_runners = merged.pop("num_env_runners", config.num_env_runners)
    if not isinstance(num_env_runners, int) or num_env_runners < 0:
        raise ValueError(f"num_env_runners must be an integer >= 0, got {num_env_runners!r}")
    if config.n_timesteps is not None:
        n_timesteps = config.n_timesteps
    if not isinstance(n_timesteps, (int, float)) or int(n_timesteps) != n_timesteps or n_timesteps < 1:
        raise ValueError(f"--n-timesteps must be a positive integer, got {n_timesteps!r}")
    unknown = sorted(set(merged) - set(PPO_DEFAULTS))
    if unknown:
        raise ValueError(f"{source}: unknown hyperparameters {unknown}; the rllib backend knows {sorted(PPO_DEFAULTS)}")
    hyperparams = {**PPO_DEFAULTS, **merged}
    check_values(hyperparams, RLLIB_RULES, source)
    batch = hyperparams["train_batch_size_per_learner"]
    env_kwargs = {**entry_env_kwargs, **config.env_kwargs}
    bad_kwargs = sorted(set(env_kwargs) - _ENV_KWARGS)
    if bad_kwargs:
        raise ValueError(f"--env-kwargs: the rllib backend takes only {sorted(_ENV_KWARGS)}, got {bad_kwargs}")
    overrides = dict(env_kwargs.get("overrides") or {})
    try:
        kwargs: dict[str, Any] = {"overrides": overrides} if overrides else {}
        gym.make(config.env_id, **kwargs).close()
    except (TypeError, ValueError) as err:
        raise ValueError(f"cannot build {config.env_id} with overrides {overrides}: {err}") from err
    if config.trained_agent is not None:
        algorithm_checkpoint(config.trained_agent)
    run_dir = Path(config.run_dir) if config.run_dir else next_run_dir(config.log_folder, config.algo, config.env_id)
    return ResolvedRun(
        config=config,
        source=source,
        hyperparams=hyperparams,
        overrides=overrides,
        n_timesteps=int(n_timesteps),
        iterations=math.ceil(n_timesteps / batch),
        eval_every=_every(config.eval_freq, batch),
        save_every=_every(config.save_freq, batch),
        num_env_runners=num_env_runners,
        run_dir=run_dir,
    )


def _read_conf(conf_file: str | None, env_id: str) -> tuple[dict[str, Any], str]:
    """The entry for ``env_id`` (else ``default``) of an rl-zoo3-style YAML file, and where it came from."""
    if conf_file is None:
        return {}, "rllib PPO defaults"
    return read_hyperparams_entry(Path(conf_file), env_id)


def build_algo_config(run: ResolvedRun) -> Any:
    """The RLlib ``PPOConfig`` of a run (new API stack, :class:`MaskedPPOTorchRLModule`)."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from agents.training.rllib_masking import MaskedPPOTorchRLModule, register_rllib_env

    model = {k: v for k, v in run.hyperparams.items() if k in _MODEL_KEYS}
    training = {k: v for k, v in run.hyperparams.items() if k not in _MODEL_KEYS}
    return (
        PPOConfig()
        .environment(register_rllib_env(), env_config={"env_id": run.config.env_id, "overrides": run.overrides})
        .env_runners(num_env_runners=run.num_env_runners)
        .training(**training)
        .rl_module(rl_module_spec=RLModuleSpec(module_class=MaskedPPOTorchRLModule, model_config=model))
        .debugging(seed=run.config.seed)
    )


def train(config: RLlibTrainConfig) -> TrainResult:
    """Train with RLlib, checkpoint and evaluate through :func:`agents.evaluation.evaluate`; write the run folder.

    Raises:
        ValueError: a bad setting (before Ray starts or any folder is written).
        agents.ray_runtime.RayUnavailableError: the ``ray`` extra is missing or the cluster unreachable.
    """
    require_ray()
    run = resolve(config)
    run.run_dir.mkdir(parents=True, exist_ok=True)
    _write_config(run)
    eval_steps: list[int] = []
    eval_results: list[list[EpisodeMetrics]] = []
    eval_checkpoints: list[Path] = []

    with ray_runtime(config.address, config.num_cpus):
        algo = build_algo_config(run).build_algo()
        try:
            if config.trained_agent is not None:
                algo.restore_from_path(algorithm_checkpoint(config.trained_agent).resolve().as_posix())
            with (run.run_dir / "progress.csv").open("w", newline="") as stream:
                writer = csv.DictWriter(stream, fieldnames=["iteration", "env_steps", "episode_return_mean", "seconds"])
                writer.writeheader()
                for iteration in range(1, run.iterations + 1):
                    start = time.perf_counter()
                    row = _progress_row(iteration, algo.train(), time.perf_counter() - start)
                    writer.writerow(row)
                    stream.flush()
                    if config.progress:
                        print(
                            f"iteration {iteration}/{run.iterations}: {row['env_steps']} env steps, "
                            f"mean episode return {row['episode_return_mean']:.3f}"
                        )
                    if iteration == run.iterations:
                        break
                    steps = int(row["env_steps"])
                    checkpoint = None
                    if run.save_every and iteration % run.save_every == 0:
                        checkpoint = _save(algo, run.run_dir / "checkpoints" / f"rl_model_{steps}_steps")
                    if run.eval_every and iteration % run.eval_every == 0:
                        if checkpoint is None:
                            checkpoint = _save(algo, run.run_dir / "checkpoints" / f"eval_{steps}_steps")
                        eval_steps.append(steps)
                        eval_checkpoints.append(checkpoint)
                        eval_results.append(
                            evaluate(policy_factory(checkpoint), config.env_id, run.eval_seeds, run.overrides)
                        )
            model_dir = _save(algo, run.run_dir / "model")
            final_steps = int(row["env_steps"])
        finally:
            algo.stop()

    final = evaluate(policy_factory(model_dir), config.env_id, run.eval_seeds, run.overrides)
    eval_steps.append(final_steps)
    eval_results.append(final)
    eval_checkpoints.append(model_dir)
    _write_evaluations(run.run_dir, eval_steps, eval_results)
    # As SB3's EvalCallback keeps best_model.zip: the checkpoint with the best mean validation return.
    best = int(np.argmax([np.mean([e.episode_return for e in episodes]) for episodes in eval_results]))
    best_dir = run.run_dir / "best_model"
    shutil.copytree(eval_checkpoints[best], best_dir, dirs_exist_ok=True)
    return TrainResult(run_dir=run.run_dir, model_dir=model_dir, best_dir=best_dir, evaluation=final)


def train_spec(spec: Any, address: str | None = None, num_cpus: int | None = None) -> Path:
    """``lrm-gym train --backend rllib``: train an :class:`agents.training.sb3.TrainSpec`, return its run folder."""
    require_ray()
    config = RLlibTrainConfig.from_train_spec(spec, address=address, num_cpus=num_cpus)
    run = resolve(config)  # bad input fails here, before Ray starts
    where = f"the Ray cluster at {address}" if address else "a local Ray runtime"
    print(f"Training {config.algo} (RLlib) on {config.env_id} for {run.n_timesteps} steps on {where}")
    print(f"Log path: {run.run_dir}")
    result = train(replace(config, run_dir=str(run.run_dir)))
    print(f"Final evaluation: mean return {np.mean([e.episode_return for e in result.evaluation]):.3f}")
    return result.run_dir


def _save(algo: Any, path: Path) -> Path:
    return Path(algo.save_to_path(path.resolve().as_posix()))


def _progress_row(iteration: int, result: Mapping[str, Any], seconds: float) -> dict[str, Any]:
    from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, EPISODE_RETURN_MEAN, NUM_ENV_STEPS_SAMPLED_LIFETIME

    # An iteration shorter than an episode has no finished episode: RLlib then reports no return at all.
    episode_return = result.get(ENV_RUNNER_RESULTS, {}).get(EPISODE_RETURN_MEAN, math.nan)
    return {
        "iteration": iteration,
        "env_steps": int(result.get(NUM_ENV_STEPS_SAMPLED_LIFETIME, 0)),
        "episode_return_mean": float(episode_return),
        "seconds": round(seconds, 3),
    }


def _write_config(run: ResolvedRun) -> None:
    import ray
    import torch

    params_dir = run.run_dir / env_name(run.config.env_id)
    params_dir.mkdir(exist_ok=True)
    resolved = {
        "source": run.source,
        "backend": "rllib",
        "algo": run.config.algo,
        "env_id": run.config.env_id,
        "n_timesteps": run.n_timesteps,
        "iterations": run.iterations,
        "num_env_runners": run.num_env_runners,
        "env_kwargs": {"overrides": run.overrides},
        "hyperparams": run.hyperparams,
        "eval_seeds": [run.eval_seeds.start, run.eval_seeds.stop - 1],
        "versions": {"ray": str(ray.__version__), "torch": str(torch.__version__), "gymnasium": str(gym.__version__)},
    }
    (params_dir / "config.yml").write_text(yaml.safe_dump(resolved, sort_keys=False))
    args = asdict(run.config) | {"hyperparams": dict(run.config.hyperparams), "env_kwargs": dict(run.config.env_kwargs)}
    (params_dir / "args.yml").write_text(yaml.safe_dump(args, sort_keys=False))


def _write_evaluations(run_dir: Path, steps: Sequence[int], results: Sequence[Sequence[EpisodeMetrics]]) -> None:
    np.savez(
        run_dir / "evaluations.npz",
        timesteps=np.asarray(steps, dtype=np.int64),
        results=np.asarray([[e.episode_return for e in episodes] for episodes in results], dtype=np.float64),
        ep_lengths=np.asarray([[e.steps for e in episodes] for episodes in results], dtype=np.int64),
    )
    final = [e.as_dict() for e in results[-1]]
    (run_dir / "evaluation.json").write_text(json.dumps(final, indent=2))
