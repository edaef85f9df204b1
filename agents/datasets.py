"""Offline datasets in Minari's format: seeded episodes of an analytic or saved SB3 policy on any lrm_gym id.

Minari (the Farama standard for offline RL) stores every step's observation (the Dict), action, reward,
termination and truncation; here also the whole ``info`` dict, as Minari's ``DataCollector(record_infos=True)``
would: the action masks, the step counters, ``masked_action``/``executed_action``, ``cost`` and the running
``totals``. Episode ``i`` starts from ``reset(seed=seed + i)``, so the command and its seeds reproduce a
dataset exactly. Datasets go to Minari's local folder (``MINARI_DATASETS_PATH``, else
``~/.minari/datasets``); nothing is downloaded.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import lrm_gym
from agents.evaluation import MaskedPolicy
from lrm_gym.registration import resolve_env_id


def check_dataset_id(dataset_id: str) -> None:
    """Minari's id form ``[namespace/]name-vN``, and no local dataset of that id yet (checked before recording)."""
    import minari
    from minari.dataset.minari_dataset import parse_dataset_id

    try:
        parse_dataset_id(dataset_id)
    except Exception as err:  # minari raises several types for malformed ids
        raise ValueError(f"dataset name must look like 'namespace/name-v0', got {dataset_id!r} ({err})") from None
    if dataset_id in minari.list_local_datasets():
        raise ValueError(f"a local Minari dataset {dataset_id!r} exists already; delete it or choose another name")


def policy_builder(
    policy: str, algo: str | None, policy_kwargs: Mapping[str, Any]
) -> Callable[[gym.Env], MaskedPolicy]:
    """``env -> policy`` for an analytic policy name or a saved SB3 ``.zip`` (then ``algo`` names its algorithm)."""
    if policy.endswith(".zip"):
        from agents.policies.sb3 import LearnedPolicy, load_policy
        from agents.policies.sb3_files import describe_saved_space, read_metadata

        if algo is None:
            raise ValueError("--algo is required with a saved model (.zip): the algorithm it was trained with")
        if policy_kwargs:
            raise ValueError("--policy-kwargs applies to analytic policies only")
        # The saved spaces are read as data (nothing unpickled). Models trained on the flat vector saw
        # FlattenRoutingObservation; LearnedPolicy flattens for them.
        saved = read_metadata(policy).get("observation_space", {})
        trained_on_dict = describe_saved_space(saved).startswith("Dict(")
        wrappers: tuple[tuple[str, dict[str, Any]], ...]
        wrappers = () if trained_on_dict else (("lrm_gym.FlattenRoutingObservation", {}),)

        def build(env: gym.Env) -> MaskedPolicy:
            learned = load_policy(policy, algo, env, wrappers)
            if not isinstance(learned, LearnedPolicy):  # a slot-level model: one action per slot, not per task
                raise ValueError(f"{policy} acts on a slot-level env; datasets record the per-task envs")
            return learned

        return build
    from agents.policies.analytic import make_policy

    if algo is not None:
        raise ValueError("--algo applies to saved models (.zip) only")
    return lambda env: make_policy(policy, env, **policy_kwargs)


def record_dataset(
    dataset_id: str,
    env_name: str,
    policy: str,
    episodes: int,
    seed: int,
    algo: str | None = None,
    policy_kwargs: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Any:
    """Record ``episodes`` episodes of ``policy`` on ``env_name`` into the local Minari dataset ``dataset_id``.

    Returns the :class:`minari.MinariDataset`. Every argument is checked before the first episode runs.
    """
    import minari
    from minari.data_collector import EpisodeBuffer

    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    check_dataset_id(dataset_id)
    resolved = resolve_env_id(env_name)
    env = gym.make(resolved, overrides=dict(overrides or {}))
    agent = policy_builder(policy, algo, dict(policy_kwargs or {}))(env)
    buffers = []
    for episode in range(episodes):
        obs, info = env.reset(seed=seed + episode)
        observations, infos, actions, rewards, truncations = [obs], [info], [], [], []
        truncated = False
        while not truncated:
            action, _ = agent.predict(obs, deterministic=True, action_masks=info["action_mask"])
            obs, reward, terminated, truncated, info = env.step(int(np.asarray(action).reshape(-1)[0]))
            truncated = truncated or terminated  # lrm_gym episodes only truncate
            observations.append(obs)
            infos.append(info)
            actions.append(int(np.asarray(action).reshape(-1)[0]))
            rewards.append(float(reward))
            truncations.append(truncated)
        buffers.append(
            EpisodeBuffer(
                id=episode,
                seed=seed + episode,
                observations=_stack(observations),
                actions=np.asarray(actions, np.int64),
                rewards=rewards,
                terminations=[False] * len(rewards),
                truncations=truncations,
                infos=_stack(infos),
            )
        )
    source = f"{policy} ({algo})" if algo else policy
    description = (
        f"{episodes} episodes of {source} on {resolved}, episode i from reset(seed={seed} + i)"
        + (f", overrides {dict(overrides)}" if overrides else "")
        + f". Recorded by `lrm-gym dataset` (lrm_gym {lrm_gym.__version__})."
    )
    with warnings.catch_warnings():
        # Minari recommends a code link and an author email; the description names the command and its seeds.
        warnings.filterwarnings("ignore", message=".*(code_permalink|author_email).*is set to None")
        dataset = minari.create_dataset_from_buffers(
            dataset_id,
            buffers,
            env=env,
            eval_env=env.spec,
            algorithm_name=source,
            author="lrm-gym dataset",
            description=description,
        )
    return dataset


def _stack(steps: list[Any]) -> Any:
    """Per-step dicts (nested) of numbers or arrays as one dict of arrays with a leading step axis.

    What Minari's own ``DataCollector`` builds step by step, without its ``jax`` dependency.
    """
    if isinstance(steps[0], Mapping):
        return {key: _stack([step[key] for step in steps]) for key in steps[0]}
    return np.stack([np.asarray(step) for step in steps])


def dataset_path(dataset_id: str) -> Path:
    """Where Minari keeps a local dataset."""
    from minari.storage import get_dataset_path

    return Path(get_dataset_path(dataset_id))
