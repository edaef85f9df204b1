"""Learned routers: Stable-Baselines3 / sb3-contrib training, saved-model loading, and evaluation adapters.

Algorithms: ``ppo``, ``a2c``, ``dqn`` (SB3) and ``maskable-ppo`` (sb3-contrib, reads the env's
``action_masks()``). Hyperparameters are rl-zoo3 YAML files ``configs/<algo>.yml`` keyed by env id with a
``default:`` entry, so ``python -m rl_zoo3.train -conf configs/ppo.yml`` reads the same file.

The env rejects masked actions with an error instead of remapping them. Algorithms that cannot use masks
(PPO, A2C, DQN) therefore train behind :class:`lrm_gym.MaskedActionFallback` (a masked action runs the
lowest valid action and costs a penalty), and :class:`LearnedPolicy` applies the same replacement in
evaluation, so the agent is scored on the behaviour it was trained on (the penalty is a training signal
only: evaluation scores the env's own reward).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.save_util import load_from_zip_file

import lrm_gym  # noqa: F401  (registers the env ids)
from agents.zoo import env_name, next_run_dir, read_hyperparams_entry

ALGOS: dict[str, type[BaseAlgorithm]] = {"a2c": A2C, "dqn": DQN, "maskable-ppo": MaskablePPO, "ppo": PPO}
"""Algorithm name (as on the command line and in run folders) -> class."""

MASKABLE: frozenset[str] = frozenset({"maskable-ppo"})
"""Algorithms that take ``action_masks`` in ``learn`` and ``predict``."""

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

# rl-zoo3 keys that configure the experiment rather than the algorithm's constructor.
_EXPERIMENT_KEYS = frozenset({"n_timesteps", "n_envs", "policy", "env_wrapper", "env_kwargs", "normalize"})
# rl-zoo3 keys we do not implement; refusing them beats silently ignoring them.
_UNSUPPORTED_KEYS = frozenset({"frame_stack", "callback", "vec_env_wrapper", "eval_env_kwargs"})
FALLBACK_WRAPPER = "lrm_gym.MaskedActionFallback"


def fallback_action(mask: np.ndarray) -> int:
    """The action :class:`lrm_gym.MaskedActionFallback` runs in place of a masked one: the lowest valid action."""
    return int(np.flatnonzero(mask)[0])


# --------------------------------------------------------------------------------------------------------
# Hyperparameters (rl-zoo3 YAML)


@dataclass(frozen=True)
class Hyperparams:
    """One resolved entry of an rl-zoo3 hyperparameter file.

    Attributes:
        source: the file and key it came from (for messages and the run folder's ``config.yml``).
        raw: the entry as written (what ``config.yml`` records).
        n_timesteps: training budget.
        n_envs: parallel training envs (in one process: ``DummyVecEnv``).
        policy: SB3 policy name (``MultiInputPolicy`` for the Dict observation, ``MlpPolicy`` if flattened).
        wrappers: gym wrappers applied in order, as (dotted class name, keyword arguments); the masked-action
            fallback is always first.
        env_kwargs: keyword arguments of ``gym.make`` (e.g. ``{"overrides": {"horizon_slots": 30}}``).
        algo_kwargs: everything else, passed to the algorithm's constructor.
        normalize_reward: scale training rewards by a running estimate of the return's std (SB3's
            ``VecNormalize(norm_obs=False, norm_reward=True)``). Rewards here are sums of energy costs of
            order 10^2-10^3 per slot; scaling keeps the value loss sane. Only training rewards are scaled:
            the policy's input is unchanged, so the saved model runs on the raw env as it is.
    """

    source: str
    raw: dict[str, Any]
    n_timesteps: int
    n_envs: int
    policy: str
    wrappers: tuple[tuple[str, dict[str, Any]], ...]
    env_kwargs: dict[str, Any]
    algo_kwargs: dict[str, Any]
    normalize_reward: bool = False


def config_path(algo: str, conf_file: str | Path | None = None) -> Path:
    """The hyperparameter file of ``algo``: ``conf_file`` if given, else ``configs/<algo>.yml``."""
    check_algo(algo)
    return Path(conf_file) if conf_file is not None else CONFIG_DIR / f"{algo}.yml"


def check_algo(algo: str) -> None:
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r}; choose one of {sorted(ALGOS)}")


def check_env_id(env_id: str) -> None:
    if env_id not in gym.registry:
        known = sorted(k for k in gym.registry if k.startswith("lrm_gym/"))
        raise ValueError(f"unknown env id {env_id!r}; lrm_gym ids: {known}")


def load_hyperparams(
    algo: str,
    env_id: str,
    conf_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Hyperparams:
    """Read, merge and validate the hyperparameters of ``algo`` on ``env_id``.

    The entry keyed by ``env_id`` wins, else ``default`` (as in rl-zoo3). ``overrides`` (e.g. from
    ``--hyperparams``) replace keys of the entry. Every problem is a ``ValueError`` naming the file and key.
    """
    check_algo(algo)
    check_env_id(env_id)
    path = config_path(algo, conf_file)
    raw, source = read_hyperparams_entry(path, env_id)
    raw.update(overrides or {})
    bad = sorted(_UNSUPPORTED_KEYS & raw.keys())
    if bad:
        raise ValueError(f"{source}: keys {bad} are rl-zoo3 features lrm-gym train does not implement")

    algo_kwargs = {k: v for k, v in raw.items() if k not in _EXPERIMENT_KEYS}
    algo_kwargs = _preprocess_algo_kwargs(algo, algo_kwargs, source)
    wrappers = parse_wrappers(raw.get("env_wrapper"), source)
    env_kwargs = raw.get("env_kwargs") or {}
    if not isinstance(env_kwargs, dict):
        raise ValueError(f"{source}: env_kwargs must be a mapping")
    n_timesteps, n_envs = raw.get("n_timesteps", 100_000), raw.get("n_envs", 1)
    for name, value in (("n_timesteps", n_timesteps), ("n_envs", n_envs)):
        if not isinstance(value, (int, float)) or value < 1 or int(value) != value:
            raise ValueError(f"{source}: {name} must be a positive integer, got {value!r}")
    return Hyperparams(
        normalize_reward=_parse_normalize(raw.get("normalize"), source),
        source=source,
        raw=raw,
        n_timesteps=int(n_timesteps),
        n_envs=int(n_envs),
        policy=str(raw.get("policy", "MultiInputPolicy")),
        wrappers=tuple(wrappers),
        env_kwargs=dict(env_kwargs),
        algo_kwargs=algo_kwargs,
    )


def _parse_normalize(value: Any, source: str) -> bool:
    """rl-zoo3's ``normalize``; only reward normalization is supported (see :class:`Hyperparams`)."""
    if value is None or value is False:
        return False
    if isinstance(value, str):
        value = eval(value, {"__builtins__": {}}, {"dict": dict, "True": True, "False": False})
    if isinstance(value, dict) and value.get("norm_obs") is False and set(value) <= {"norm_obs", "norm_reward"}:
        return bool(value.get("norm_reward", True))
    raise ValueError(
        f"{source}: normalize must be {{norm_obs: false, norm_reward: true}} (observations are already scaled by "
        f"the env, and evaluation feeds the model raw observations), got {value!r}"
    )


def parse_wrappers(value: Any, source: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """rl-zoo3's ``env_wrapper``: a dotted name, or a list of names and ``{name: kwargs}`` mappings.

    :class:`lrm_gym.MaskedActionFallback` is put first if absent (with its default penalty), because every
    algorithm needs it: MaskablePPO never picks a masked action, so for it the wrapper never fires.
    """
    items = [] if value is None else [value] if isinstance(value, (str, dict)) else list(value)
    wrappers: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        if isinstance(item, str):
            wrappers.append((item, {}))
        elif isinstance(item, dict) and len(item) == 1:
            ((name, kwargs),) = item.items()
            wrappers.append((str(name), dict(kwargs or {})))
        else:
            raise ValueError(f"{source}: env_wrapper entries must be 'module.Class' or {{module.Class: kwargs}}")
    if FALLBACK_WRAPPER not in [name for name, _ in wrappers]:
        wrappers.insert(0, (FALLBACK_WRAPPER, {}))
    for name, _ in wrappers:
        _import_object(name, f"{source}: env_wrapper")
    return tuple(wrappers)


def _preprocess_algo_kwargs(algo: str, kwargs: dict[str, Any], source: str) -> dict[str, Any]:
    """Check constructor keys, and turn rl-zoo3 conventions (``lin_3e-4``, string policy_kwargs) into objects."""
    import inspect

    from stable_baselines3.common.utils import LinearSchedule

    accepted = set(inspect.signature(ALGOS[algo].__init__).parameters) - {"self", "policy", "env"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(f"{source}: {ALGOS[algo].__name__} has no parameter(s) {unknown}")
    out = dict(kwargs)
    for key in ("learning_rate", "clip_range", "clip_range_vf"):
        value = out.get(key)
        if isinstance(value, str):
            if not value.startswith("lin_"):
                raise ValueError(f"{source}: {key} must be a number or 'lin_<initial value>', got {value!r}")
            # rl-zoo3's linear schedule: from the initial value at progress 1 down to 0 at the end
            out[key] = LinearSchedule(float(value[4:]), 0.0, 1.0)
    if isinstance(out.get("policy_kwargs"), str):
        # rl-zoo3 writes policy_kwargs as a Python expression; allow only the names it uses
        import torch

        namespace = {"dict": dict, "nn": torch.nn, "th": torch}
        out["policy_kwargs"] = eval(out["policy_kwargs"], {"__builtins__": {}}, namespace)
    return out


def _import_object(dotted: str, what: str) -> Any:
    module_name, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as err:
        raise ValueError(f"{what}: cannot import {dotted!r} ({err})") from err


Wrappers = tuple[tuple[str, dict[str, Any]], ...]


def wrapper_chain(wrappers: Wrappers) -> Callable[[gym.Env], gym.Env]:
    """A ``wrapper_class`` for ``make_vec_env`` applying the wrappers in order."""
    classes = [(_import_object(name, "env_wrapper"), kwargs) for name, kwargs in wrappers]

    def wrap(env: gym.Env) -> gym.Env:
        for cls, kwargs in classes:
            env = cls(env, **kwargs)
        return env

    return wrap


def make_env(env_id: str, env_kwargs: Mapping[str, Any], wrappers: Wrappers) -> gym.Env:
    """One env as the agent sees it (without SB3's Monitor)."""
    return wrapper_chain(wrappers)(gym.make(env_id, **dict(env_kwargs)))


# --------------------------------------------------------------------------------------------------------
# Saved models


def read_model_spaces(path: str | Path) -> tuple[spaces.Space, spaces.Space]:
    """The observation and action spaces stored in a saved SB3 model, without building the model."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"model file {path} does not exist")
    try:
        data, _, _ = load_from_zip_file(path, load_data=True, device="cpu")
    except Exception as err:  # a corrupt zip raises many different types
        raise ValueError(f"cannot read model file {path}: {err}") from err
    if not data or "observation_space" not in data or "action_space" not in data:
        raise ValueError(f"model file {path} does not record its observation and action spaces")
    return data["observation_space"], data["action_space"]


def check_model_spaces(path: str | Path, env: gym.Env) -> None:
    """Raise ``ValueError`` if the model at ``path`` was trained on other spaces than ``env``'s."""
    obs_space, action_space = read_model_spaces(path)
    if obs_space == env.observation_space and action_space == env.action_space:
        return
    name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    model, here = describe_space(obs_space), describe_space(env.observation_space)
    why = "the same shapes but other bounds (another scenario)" if model == here else f"observations {here}"
    raise ValueError(
        f"model file {path} does not fit env {name}: the model was trained on observations {model} and "
        f"actions {describe_space(action_space)}; the env has {why} and actions {describe_space(env.action_space)}"
    )


def describe_space(space: spaces.Space) -> str:
    """A short description: shapes only (``Dict(energy=(10,), ...)``, ``Box(84,)``, ``Discrete(10)``)."""
    if isinstance(space, spaces.Dict):
        return "Dict(" + ", ".join(f"{k}={v.shape}" for k, v in space.spaces.items()) + ")"
    if isinstance(space, spaces.Discrete):
        return f"Discrete({space.n})"
    return f"{type(space).__name__}{space.shape}"


class LearnedPolicy:
    """A saved SB3 model as a policy of :func:`agents.evaluation.evaluate` on the raw (Dict) env.

    It reproduces what the agent saw in training: the observation is flattened when the model was trained
    on ``FlattenRoutingObservation``; MaskablePPO receives ``action_masks``; other algorithms' masked
    actions are replaced by :func:`fallback_action`, exactly as :class:`lrm_gym.MaskedActionFallback` did.
    """

    def __init__(self, model: BaseAlgorithm, dict_space: spaces.Dict, maskable: bool) -> None:
        self.model = model
        self.dict_space = dict_space
        self.maskable = maskable
        self.flatten = not isinstance(model.observation_space, spaces.Dict)

    def predict(
        self,
        observation: Mapping[str, np.ndarray],
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Any]:
        model_obs: Any = spaces.flatten(self.dict_space, observation) if self.flatten else observation
        if self.maskable:
            action, state = self.model.predict(  # type: ignore[call-arg]
                model_obs, state, episode_start, deterministic, action_masks=action_masks
            )
            return action, state
        action, state = self.model.predict(model_obs, state, episode_start, deterministic)
        chosen = int(np.asarray(action).reshape(-1)[0])
        if action_masks is not None and not action_masks[chosen]:
            chosen = fallback_action(action_masks)
        return np.array(chosen), state


def load_policy(path: str | Path, algo: str, env: gym.Env, wrappers: Wrappers = ()) -> LearnedPolicy:
    """Load a saved model for evaluation on ``env`` (the raw Dict env), checking its spaces first.

    Args:
        path: the ``.zip`` file.
        algo: the algorithm it was trained with.
        env: the evaluation env, unwrapped Dict observation.
        wrappers: the training wrappers (only used to compute the spaces the model must have).
    """
    check_algo(algo)
    agent_env = wrapper_chain(wrappers)(env) if wrappers else env
    check_model_spaces(path, agent_env)
    model = ALGOS[algo].load(path, device="cpu")
    return LearnedPolicy(model, env.observation_space, maskable=algo in MASKABLE)  # type: ignore[arg-type]


def policy_factory(path: str | Path, algo: str, wrappers: Wrappers = ()) -> Callable[[gym.Env], LearnedPolicy]:
    """A factory ``env -> policy`` for :func:`agents.evaluation.evaluate` (picklable arguments only)."""

    def build(env: gym.Env) -> LearnedPolicy:
        return load_policy(path, algo, env, wrappers)

    return build


# --------------------------------------------------------------------------------------------------------
# Training


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


EVAL_SEED_OFFSET = 10_000
"""The training-time evaluation env is seeded ``seed + 10_000``; benchmark test seeds are far from both."""


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
    hyperparams = load_hyperparams(spec.algo, spec.env_id, spec.conf_file, spec.hyperparams)
    env_kwargs = _merge(hyperparams.env_kwargs, spec.env_kwargs or {})
    n_timesteps = spec.n_timesteps if spec.n_timesteps is not None else hyperparams.n_timesteps
    if n_timesteps < 1:
        raise ValueError(f"--n-timesteps must be positive, got {n_timesteps}")
    if spec.eval_freq > 0 and spec.eval_episodes < 1:
        raise ValueError(f"--eval-episodes must be positive, got {spec.eval_episodes}")
    try:
        probe = make_env(spec.env_id, env_kwargs, hyperparams.wrappers)
    except (TypeError, ValueError) as err:
        raise ValueError(f"cannot build {spec.env_id} with env_kwargs {env_kwargs}: {err}") from err
    try:
        if spec.trained_agent is not None:
            check_model_spaces(spec.trained_agent, probe)
    finally:
        probe.close()
    run_dir = Path(spec.run_dir) if spec.run_dir else next_run_dir(spec.log_folder, spec.algo, spec.env_id)
    return PreparedRun(spec, hyperparams, env_kwargs, int(n_timesteps), run_dir)


def _merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


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
        model = algo_cls.load(spec.trained_agent, env=env, device="cpu", **_resume_kwargs(hp.algo_kwargs))
    else:
        model = algo_cls(hp.policy, env, seed=spec.seed, device="cpu", verbose=spec.verbose, **hp.algo_kwargs)
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
