"""Stable-Baselines3 / sb3-contrib training in rl-zoo3's run-folder shape (``lrm-gym train``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import lrm_gym  # noqa: F401  (registers the env ids)
from agents.policies.sb3_files import check_model_file, load_to_continue
from agents.training.hyperparams import (
    _EXPERIMENT_KEYS,
    ALGOS,
    MASKABLE,
    Hyperparams,
    load_hyperparams,
    make_env,
    wrapper_chain,
)
from agents.training.zoo import EVAL_SEED_OFFSET, check_run_settings, env_name, next_run_dir
from lrm_gym.scenarios.loader import merge_overrides


@dataclass(frozen=True)
class TrainSpec:
    """Everything one training run needs (picklable, so a run can be shipped to a worker process).

    Attributes:
        algo: key of :data:`ALGOS`.
        env_id: a registered env id.
        seed: seeds the training envs (``seed + i``), the evaluation env (``seed + EVAL_SEED_OFFSET``) and
            the algorithm.
        n_timesteps: training budget; ``None`` takes ``n_timesteps`` from the hyperparameter file.
        eval_freq: evaluate every this many env steps (summed over training envs); ``<= 0`` disables it.
        eval_episodes: episodes per evaluation.
        log_folder: runs go to ``<log_folder>/<algo>/<env>_<n>/``.
        conf_file: hyperparameter file (default ``configs/<algo>.yml``).
        hyperparams: overrides of the file's entry.
        env_kwargs: overrides of the entry's ``env_kwargs`` (e.g. ``{"overrides": {"horizon_slots": 30}}``).
        trained_agent: a saved model to continue training from.
        save_freq: checkpoint every this many env steps; ``<= 0`` disables checkpoints.
        progress: show a progress bar.
        verbose: SB3 verbosity.
        run_dir: write to exactly this folder instead of the next numbered one.
    """

    algo: str
    env_id: str
    seed: int = 0
    n_timesteps: int | None = None
    eval_freq: int = 10_000
    eval_episodes: int = 5
    log_folder: str = "logs"
    conf_file: str | None = None
    hyperparams: Mapping[str, Any] | None = None
    env_kwargs: Mapping[str, Any] | None = None
    trained_agent: str | None = None
    save_freq: int = -1
    progress: bool = False
    verbose: int = 0
    run_dir: str | None = None


@dataclass(frozen=True)
class PreparedRun:
    """A validated :class:`TrainSpec`: resolved hyperparameters and the run folder to write."""

    spec: TrainSpec
    hyperparams: Hyperparams
    env_kwargs: dict[str, Any]
    n_timesteps: int
    run_dir: Path

    @property
    def env_name(self) -> str:
        return env_name(self.spec.env_id)


def prepare(spec: TrainSpec) -> PreparedRun:
    """Validate everything that can be wrong before any training starts (``ValueError`` otherwise)."""
    _check_spec(spec)
    hyperparams = load_hyperparams(spec.algo, spec.env_id, spec.conf_file, spec.hyperparams)
    env_kwargs = merge_overrides(hyperparams.env_kwargs, spec.env_kwargs or {})
    n_timesteps = spec.n_timesteps if spec.n_timesteps is not None else hyperparams.n_timesteps
    try:
        probe = make_env(spec.env_id, env_kwargs, hyperparams.wrappers)
    except (TypeError, ValueError) as err:
        raise ValueError(f"cannot build {spec.env_id} with env_kwargs {env_kwargs}: {err}") from err
    try:
        if spec.trained_agent is not None:
            check_model_file(spec.trained_agent, spec.algo, probe)
    finally:
        probe.close()
    run_dir = Path(spec.run_dir) if spec.run_dir else next_run_dir(spec.log_folder, spec.algo, spec.env_id)
    return PreparedRun(spec, hyperparams, env_kwargs, int(n_timesteps), run_dir)


def _check_spec(spec: TrainSpec) -> None:
    """The settings of a run that are not hyperparameters: budget, seed, evaluation, folders (``ValueError``)."""
    n = spec.n_timesteps
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise ValueError(f"-n/--n-timesteps must be a positive integer, got {n!r}")
    if spec.eval_freq > 0 and spec.eval_episodes < 1:
        raise ValueError(f"--eval-episodes must be positive, got {spec.eval_episodes}")
    check_run_settings(spec.seed, spec.log_folder, spec.run_dir)


def train(spec: TrainSpec) -> Path:
    """Train one agent and return its run folder.

    The folder holds ``<env>/config.yml`` (resolved hyperparameters) and ``<env>/args.yml`` (the spec),
    ``evaluations.npz`` and ``best_model.zip`` (from the evaluation callback), ``<env>.zip`` (last model),
    ``progress.csv`` and TensorBoard events (SB3 loggers), ``monitor/`` episode logs, and checkpoints if
    asked for.
    """
    return run_prepared(prepare(spec))


def run_prepared(run: PreparedRun) -> Path:
    """Train a run validated by :func:`prepare`."""
    import yaml
    from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback, EvalCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.vec_env import VecNormalize

    spec, hp = run.spec, run.hyperparams
    run.run_dir.mkdir(parents=True, exist_ok=True)
    params_dir = run.run_dir / run.env_name
    params_dir.mkdir(exist_ok=True)
    (params_dir / "config.yml").write_text(
        yaml.safe_dump(
            {
                "source": hp.source,
                "algo": spec.algo,
                "env_id": spec.env_id,
                "n_timesteps": run.n_timesteps,
                "n_envs": hp.n_envs,
                "policy": hp.policy,
                "env_wrapper": [{name: kwargs} for name, kwargs in hp.wrappers],
                "env_kwargs": run.env_kwargs,
                "normalize": hp.raw.get("normalize"),
                "hyperparams": {k: v for k, v in hp.raw.items() if k not in _EXPERIMENT_KEYS},
            },
            sort_keys=False,
        )
    )
    (params_dir / "args.yml").write_text(yaml.safe_dump(_plain(spec.__dict__), sort_keys=False))

    wrap = wrapper_chain(hp.wrappers)
    env = make_vec_env(
        spec.env_id,
        n_envs=hp.n_envs,
        seed=spec.seed,
        env_kwargs=run.env_kwargs,
        wrapper_class=wrap,
        monitor_dir=str(run.run_dir / "monitor"),
    )
    if hp.normalize_reward:
        env = VecNormalize(env, norm_obs=False, norm_reward=True, gamma=hp.algo_kwargs.get("gamma", 0.99))
    callbacks: list[BaseCallback] = []
    if spec.eval_freq > 0:
        eval_env = make_vec_env(
            spec.env_id, n_envs=1, seed=spec.seed + EVAL_SEED_OFFSET, env_kwargs=run.env_kwargs, wrapper_class=wrap
        )
        if hp.normalize_reward:  # same wrapper type as training (SB3 syncs them), raw rewards
            eval_env = VecNormalize(eval_env, training=False, norm_obs=False, norm_reward=False)
        eval_cls: type[EvalCallback] = EvalCallback
        if spec.algo in MASKABLE:
            from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback

            eval_cls = MaskableEvalCallback
        callbacks.append(
            eval_cls(
                eval_env,
                n_eval_episodes=spec.eval_episodes,
                eval_freq=max(spec.eval_freq // hp.n_envs, 1),
                log_path=str(run.run_dir),
                best_model_save_path=str(run.run_dir),
                deterministic=True,
                verbose=spec.verbose,
            )
        )
    if spec.save_freq > 0:
        callbacks.append(
            CheckpointCallback(
                max(spec.save_freq // hp.n_envs, 1), str(run.run_dir / "checkpoints"), name_prefix="rl_model"
            )
        )

    algo_cls = ALGOS[spec.algo]
    if spec.trained_agent is not None:
        # checked again: the file may have changed since prepare()
        probe = make_env(spec.env_id, run.env_kwargs, hp.wrappers)
        try:
            model = load_to_continue(spec.trained_agent, spec.algo, probe, env=env, **_resume_kwargs(hp.algo_kwargs))
        finally:
            probe.close()
    else:
        extra: dict[str, Any] = {}
        if hp.action_noise_std is not None:
            from stable_baselines3.common.noise import NormalActionNoise

            shape = env.action_space.shape
            assert shape is not None
            extra["action_noise"] = NormalActionNoise(np.zeros(shape), hp.action_noise_std * np.ones(shape))
        model = algo_cls(hp.policy, env, seed=spec.seed, device="cpu", verbose=spec.verbose, **hp.algo_kwargs, **extra)
    model.set_logger(configure(str(run.run_dir), ["csv", "tensorboard"] + (["stdout"] if spec.verbose else [])))
    try:
        model.learn(
            run.n_timesteps,
            callback=callbacks,
            progress_bar=spec.progress,
            reset_num_timesteps=spec.trained_agent is None,
        )
    finally:
        model.save(run.run_dir / run.env_name)
        env.close()
    return run.run_dir


def _resume_kwargs(algo_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Settings to re-apply when continuing a saved model (schedules and sizes stay as saved)."""
    return {k: v for k, v in algo_kwargs.items() if k in ("ent_coef", "vf_coef", "max_grad_norm", "gamma")}


def _plain(value: Any) -> Any:
    """YAML-safe copy of nested mappings/sequences."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def last_model(run_dir: str | Path) -> Path:
    """The last model of a run folder (``<env>.zip``, rl-zoo3's name)."""
    run_dir = Path(run_dir)
    models = [p for p in run_dir.glob("*.zip") if p.name != "best_model.zip"]
    if len(models) != 1:
        raise ValueError(f"{run_dir} should hold exactly one last model <env>.zip, found {[p.name for p in models]}")
    return models[0]
