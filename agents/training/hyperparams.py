"""rl-zoo3 hyperparameter files for the SB3 algorithms: reading, merging and validating an entry, and the
env wrappers it names.

Algorithms: ``ppo``, ``a2c``, ``dqn`` (SB3) and ``maskable-ppo`` (sb3-contrib, reads the env's
``action_masks()``). Files are ``configs/<algo>.yml`` keyed by env id with a ``default:`` entry, so
``python -m rl_zoo3.train -conf configs/ppo.yml`` reads the same file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
from sb3_contrib import MaskablePPO, RecurrentPPO
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm

import lrm_gym
from agents.paths import CONFIG_DIR
from agents.training.checks import SB3_RULES, SB3_SET_BY_RUN, check_values
from agents.training.literals import parse_normalize, parse_policy_kwargs
from agents.training.zoo import read_hyperparams_entry

ALGOS: dict[str, type[BaseAlgorithm]] = {
    "a2c": A2C,
    "dqn": DQN,
    "maskable-ppo": MaskablePPO,
    "ppo": PPO,
    "recurrent-ppo": RecurrentPPO,
    "sac": SAC,
    "td3": TD3,
}
"""Algorithm name (as on the command line and in run folders) -> class."""

MASKABLE: frozenset[str] = frozenset({"maskable-ppo"})
"""Algorithms that take ``action_masks`` in ``learn`` and ``predict``."""

RECURRENT: frozenset[str] = frozenset({"recurrent-ppo"})
"""Algorithms whose ``predict`` carries a hidden state from step to step."""

CONTINUOUS_ONLY: frozenset[str] = frozenset({"sac", "td3"})
"""Algorithms for a continuous (Box) action space only: they train on the slot-level envs."""
DISCRETE_ONLY: frozenset[str] = frozenset({"dqn", "maskable-ppo"})
"""Algorithms for a discrete action space only: they train on the per-task envs."""


def slot_level(env_id: str) -> bool:
    """Whether ``env_id`` is a slot-level ``lrm_gym/EnergyDispatch`` env (flat Box observation, Box action,
    no action masks) rather than a per-task env (Dict observation, one discrete decision per task)."""
    from lrm_gym.registration import DISPATCH_ENTRY_POINT

    return gym.spec(env_id).entry_point == DISPATCH_ENTRY_POINT


# rl-zoo3 keys that configure the experiment rather than the algorithm's constructor.
_EXPERIMENT_KEYS = frozenset(
    {"n_timesteps", "n_envs", "policy", "env_wrapper", "env_kwargs", "normalize", "noise_type", "noise_std"}
)
# rl-zoo3 keys we do not implement; refusing them beats silently ignoring them.
_UNSUPPORTED_KEYS = frozenset({"frame_stack", "callback", "vec_env_wrapper", "eval_env_kwargs"})
FALLBACK_WRAPPER = "lrm_gym.MaskedActionFallback"

WRAPPERS: dict[str, type[gym.Wrapper[Any, Any, Any, Any]]] = {
    "lrm_gym.MaskedActionFallback": lrm_gym.MaskedActionFallback,
    "lrm_gym.FlattenRoutingObservation": lrm_gym.FlattenRoutingObservation,
    "gymnasium.wrappers.TimeLimit": gym.wrappers.TimeLimit,
    "gymnasium.wrappers.ClipReward": gym.wrappers.ClipReward,
    "gymnasium.wrappers.NormalizeReward": gym.wrappers.NormalizeReward,
}
"""The wrappers ``env_wrapper`` may name (rl-zoo3 imports any dotted name; a config file must not choose
which code runs). Their arguments are plain data: a penalty, a step limit, reward bounds, a discount."""


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
        action_noise_std: rl-zoo3's ``noise_type: normal`` with ``noise_std``: Gaussian exploration noise of
            this standard deviation on every action dimension (SAC, TD3; ``None``: none).
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
    action_noise_std: float | None = None


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

    slot = slot_level(env_id)
    _check_action_kind(algo, env_id, slot)
    algo_kwargs = {k: v for k, v in raw.items() if k not in _EXPERIMENT_KEYS}
    algo_kwargs = _preprocess_algo_kwargs(algo, algo_kwargs, source)
    wrappers = parse_wrappers(raw.get("env_wrapper"), source, slot_level=slot)
    env_kwargs = raw.get("env_kwargs") or {}
    if not isinstance(env_kwargs, dict):
        raise ValueError(f"{source}: env_kwargs must be a mapping")
    n_timesteps, n_envs = raw.get("n_timesteps", 100_000), raw.get("n_envs", 1)
    for name, value in (("n_timesteps", n_timesteps), ("n_envs", n_envs)):
        if not isinstance(value, (int, float)) or value < 1 or int(value) != value:
            raise ValueError(f"{source}: {name} must be a positive integer, got {value!r}")
    return Hyperparams(
        normalize_reward=_parse_normalize(raw.get("normalize"), source),
        action_noise_std=_parse_noise(algo, raw, source),
        source=source,
        raw=raw,
        n_timesteps=int(n_timesteps),
        n_envs=int(n_envs),
        policy=_check_policy(algo, raw.get("policy", _default_policy(algo, slot)), source),
        wrappers=tuple(wrappers),
        env_kwargs=dict(env_kwargs),
        algo_kwargs=algo_kwargs,
    )


def _parse_noise(algo: str, raw: Mapping[str, Any], source: str) -> float | None:
    """rl-zoo3's ``noise_type: normal`` + ``noise_std: x`` (both or neither; off-policy continuous algorithms)."""
    keys = {k: raw[k] for k in ("noise_type", "noise_std") if k in raw}
    if not keys:
        return None
    check_values(keys, SB3_RULES, source)
    if len(keys) != 2:
        raise ValueError(f"{source}: noise_type and noise_std go together (rl-zoo3's Gaussian action noise)")
    if algo not in CONTINUOUS_ONLY:
        raise ValueError(
            f"{source}: noise_type/noise_std are exploration noise of {sorted(CONTINUOUS_ONLY)}, not {algo}"
        )
    return float(keys["noise_std"])


def _check_action_kind(algo: str, env_id: str, slot: bool) -> None:
    """SAC and TD3 need the slot-level envs' Box actions; DQN and MaskablePPO the per-task envs' discrete ones."""
    if slot and algo in DISCRETE_ONLY:
        raise ValueError(
            f"{algo} needs a discrete action space; {env_id} is a slot-level env with a continuous (Box) action: "
            f"use one of {sorted(set(ALGOS) - DISCRETE_ONLY)} there, or the per-task lrm_gym/EnergyRouting ids"
        )
    if not slot and algo in CONTINUOUS_ONLY:
        raise ValueError(
            f"{algo} needs a continuous (Box) action space; {env_id} is a per-task env with one discrete decision "
            "per task: use the slot-level lrm_gym/EnergyDispatch ids (docs/model.md section 18)"
        )


def _default_policy(algo: str, slot: bool) -> str:
    """The SB3 policy when a file names none: the per-task envs' observation is a Dict, the slot envs' a vector."""
    if algo in RECURRENT:
        return "MlpLstmPolicy" if slot else "MultiInputLstmPolicy"
    return "MlpPolicy" if slot else "MultiInputPolicy"


def _parse_normalize(value: Any, source: str) -> bool:
    """rl-zoo3's ``normalize``; only reward normalization is supported (see :class:`Hyperparams`)."""
    value = parse_normalize(value, source)
    if value is None or value is False:
        return False
    if isinstance(value, dict) and value.get("norm_obs") is False and set(value) <= {"norm_obs", "norm_reward"}:
        return bool(value.get("norm_reward", True))
    raise ValueError(
        f"{source}: normalize must be {{norm_obs: false, norm_reward: true}} (observations are already scaled by "
        f"the env, and evaluation feeds the model raw observations), got {value!r}"
    )


def parse_wrappers(value: Any, source: str, slot_level: bool = False) -> tuple[tuple[str, dict[str, Any]], ...]:
    """rl-zoo3's ``env_wrapper``: a name of :data:`WRAPPERS`, or a list of names and ``{name: kwargs}`` mappings.

    On a per-task env :class:`lrm_gym.MaskedActionFallback` is put first if absent (with its default penalty),
    because every algorithm needs it: MaskablePPO never picks a masked action, so for it the wrapper never
    fires. A slot-level env (``slot_level``) has no masks (every slot action is legal), so it gets no fallback
    and naming it, or the per-task observation flattener, is an error.
    """
    items = [] if value is None else [value] if isinstance(value, (str, dict)) else list(value)
    wrappers: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        if isinstance(item, str):
            wrappers.append((item, {}))
        elif isinstance(item, dict) and len(item) == 1:
            ((name, kwargs),) = item.items()
            if kwargs is not None and not isinstance(kwargs, dict):
                raise ValueError(f"{source}: env_wrapper: the arguments of {name} must be a mapping, got {kwargs!r}")
            wrappers.append((str(name), dict(kwargs or {})))
        else:
            raise ValueError(f"{source}: env_wrapper entries must be 'module.Class' or {{module.Class: kwargs}}")
    names = [name for name, _ in wrappers]
    if slot_level:
        per_task = sorted({FALLBACK_WRAPPER, "lrm_gym.FlattenRoutingObservation"} & set(names))
        if per_task:
            raise ValueError(
                f"{source}: env_wrapper: {per_task} act on the per-task envs' masks and Dict observation; a "
                "slot-level env has neither"
            )
    elif FALLBACK_WRAPPER not in names:
        wrappers.insert(0, (FALLBACK_WRAPPER, {}))
    for name, _ in wrappers:
        _wrapper_class(name, f"{source}: env_wrapper")
    return tuple(wrappers)


def _preprocess_algo_kwargs(algo: str, kwargs: dict[str, Any], source: str) -> dict[str, Any]:
    """Check constructor keys and values, and turn rl-zoo3 conventions (``lin_3e-4``, policy_kwargs written as
    a ``dict(...)`` expression) into the objects SB3 takes."""
    import inspect

    from stable_baselines3.common.utils import LinearSchedule

    accepted = set(inspect.signature(ALGOS[algo].__init__).parameters) - {"self", "policy", "env"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(f"{source}: {ALGOS[algo].__name__} has no parameter(s) {unknown}")
    set_by_run = sorted(SB3_SET_BY_RUN & kwargs.keys())
    if set_by_run:
        raise ValueError(f"{source}: {set_by_run} are set by lrm-gym train itself (see --seed and -v)")
    classes = sorted(k for k in kwargs if k.endswith("_class"))
    if classes:
        raise ValueError(f"{source}: {classes} name classes to run; a config file cannot choose code")
    out = dict(kwargs)
    if "policy_kwargs" in out:
        out["policy_kwargs"] = parse_policy_kwargs(out["policy_kwargs"], source)
    check_values(out, SB3_RULES, source)
    for key in ("learning_rate", "clip_range", "clip_range_vf"):
        value = out.get(key)
        if isinstance(value, str):  # checked above: 'lin_<initial value>'
            # rl-zoo3's linear schedule: from the initial value at progress 1 down to 0 at the end
            out[key] = LinearSchedule(float(value[4:]), 0.0, 1.0)
    return out


def _check_policy(algo: str, policy: Any, source: str) -> str:
    """The SB3 policy name (``MultiInputPolicy``, ``MlpPolicy``); classes cannot be named in a file."""
    aliases = sorted(ALGOS[algo].policy_aliases)
    if policy not in aliases:
        raise ValueError(f"{source}: policy: {ALGOS[algo].__name__} takes one of {aliases}, got {policy!r}")
    return str(policy)


def _wrapper_class(name: str, what: str) -> type[gym.Wrapper[Any, Any, Any, Any]]:
    if name not in WRAPPERS:
        raise ValueError(f"{what}: {name!r} is not an allowed wrapper; allowed: {sorted(WRAPPERS)}")
    return WRAPPERS[name]


Wrappers = tuple[tuple[str, dict[str, Any]], ...]


def wrapper_chain(wrappers: Wrappers) -> Callable[[gym.Env], gym.Env]:
    """A ``wrapper_class`` for ``make_vec_env`` applying the wrappers in order."""
    classes = [(_wrapper_class(name, "env_wrapper"), kwargs) for name, kwargs in wrappers]

    def wrap(env: gym.Env) -> gym.Env:
        for cls, kwargs in classes:
            env = cls(env, **kwargs)
        return env

    return wrap


def make_env(env_id: str, env_kwargs: Mapping[str, Any], wrappers: Wrappers) -> gym.Env:
    """One env as the agent sees it (without SB3's Monitor)."""
    return wrapper_chain(wrappers)(gym.make(env_id, **dict(env_kwargs)))
