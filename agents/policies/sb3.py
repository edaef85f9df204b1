"""Saved Stable-Baselines3 models as policies of :func:`agents.evaluation.evaluate`.

Algorithms that cannot use masks (PPO, A2C, DQN) train behind :class:`lrm_gym.MaskedActionFallback` (a
masked action runs the lowest valid action and costs a penalty, a training signal the env's own default
fallback does not charge), and :class:`LearnedPolicy` applies the same replacement in evaluation, so the
agent is scored on the behaviour it was trained on, on the env's own reward, also on a ``strict=True`` env.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm

import lrm_gym  # noqa: F401  (registers the env ids)
from agents.policies.sb3_files import load_for_prediction
from agents.training.hyperparams import MASKABLE, Wrappers, check_algo, wrapper_chain
from lrm_gym.envs.compat import fallback_actions


def fallback_action(mask: np.ndarray) -> int:
    """The action :class:`lrm_gym.MaskedActionFallback` (and the env's default) runs in place of a masked one."""
    return int(fallback_actions(mask))


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


class SlotLearnedPolicy:
    """A saved SB3 model as a policy of :func:`agents.evaluation.evaluate` on a slot-level env
    (``lrm_gym/EnergyDispatch-*``): the observation is the env's vector as in training, the action the model's
    (SB3 clips a Gaussian policy's action to the Box, as in training; SAC and TD3 squash it), and a recurrent
    model's hidden state is carried from step to step by the caller, as SB3's ``predict`` expects."""

    def __init__(self, model: BaseAlgorithm) -> None:
        self.model = model

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        return self.model.predict(observation, state, episode_start, deterministic)


def load_policy(
    path: str | Path, algo: str, env: gym.Env, wrappers: Wrappers = ()
) -> LearnedPolicy | SlotLearnedPolicy:
    """Load a saved model for evaluation on ``env`` (the raw Dict env, or a slot-level env), checking its
    metadata first.

    Its algorithm and spaces are checked as plain JSON first, and nothing in the file is unpickled
    (:func:`agents.policies.sb3_files.load_for_prediction`).

    Args:
        path: the ``.zip`` file.
        algo: the algorithm it was trained with.
        env: the evaluation env, unwrapped Dict observation.
        wrappers: the training wrappers (only used to compute the spaces the model must have).
    """
    check_algo(algo)
    agent_env = wrapper_chain(wrappers)(env) if wrappers else env
    model = load_for_prediction(path, algo, agent_env)
    if isinstance(env.observation_space, spaces.Box):  # a slot-level env: no Dict, no masks
        return SlotLearnedPolicy(model)
    return LearnedPolicy(model, env.observation_space, maskable=algo in MASKABLE)  # type: ignore[arg-type]


def policy_factory(
    path: str | Path, algo: str, wrappers: Wrappers = (), env_kwargs: Mapping[str, Any] | None = None
) -> Callable[[gym.Env], LearnedPolicy | SlotLearnedPolicy]:
    """A factory ``env -> policy`` for :func:`agents.evaluation.evaluate` (picklable arguments only).

    ``env_kwargs``: the make kwargs the evaluation env needs (a slot-level env's ``action`` mode, which must be
    the one the model was trained on); :func:`agents.evaluation.evaluate` reads them from the factory.
    """

    def build(env: gym.Env) -> LearnedPolicy | SlotLearnedPolicy:
        return load_policy(path, algo, env, wrappers)

    build.env_kwargs = dict(env_kwargs or {})  # type: ignore[attr-defined]
    return build
