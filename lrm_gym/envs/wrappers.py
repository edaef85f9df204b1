"""Wrappers for users of plain ``MlpPolicy`` and other flat-vector agents."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import FlattenObservation

from lrm_gym.envs.compat import fallback_actions


class FlattenRoutingObservation(FlattenObservation):
    """Gymnasium's :class:`~gymnasium.wrappers.FlattenObservation` that keeps ``action_masks()``.

    The flat vector is the concatenation of ``energy``, ``options``, ``queue`` and ``task`` (the Dict's
    sorted key order, as :func:`gymnasium.spaces.flatten` lays it out): the same vector as
    ``gym.make(id, observation="flat")`` gives without a wrapper, named by ``env.unwrapped.observation_slices``.

    ```python
    >>> import gymnasium as gym
    >>> import lrm_gym
    >>> env = lrm_gym.FlattenRoutingObservation(gym.make("lrm_gym/EnergyRouting-v2"))
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape == env.observation_space.shape
    True

    ```
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)

    def action_masks(self) -> np.ndarray:
        return self.env.unwrapped.action_masks()  # type: ignore[attr-defined]


class MaskedActionFallback(gym.Wrapper):
    """A penalty for masked actions, for agents that cannot use masks (plain PPO, A2C, DQN).

    The env itself already runs a masked action as the lowest-numbered valid action (defer when the task
    still has slack, else the first option that fits; :func:`lrm_gym.envs.compat.fallback_actions`), with
    its ``masked_action_penalty`` (``0`` by default). This wrapper applies the same replacement before the
    env sees the action, so it also works on a ``strict=True`` env, and subtracts ``penalty`` from the
    reward. Nothing is hidden: ``info["masked_action"]`` says whether the replacement happened and
    ``info["executed_action"]`` which action ran. Actions outside the action space still raise.

    ```python
    >>> import gymnasium as gym
    >>> import lrm_gym
    >>> env = lrm_gym.MaskedActionFallback(gym.make("lrm_gym/EnergyRouting-v2"), penalty=1.0)
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(0)
    >>> sorted(k for k in info if k.endswith("_action"))
    ['executed_action', 'masked_action']

    ```
    """

    def __init__(self, env: gym.Env, penalty: float = 1.0) -> None:
        if not np.isfinite(penalty) or penalty < 0:
            raise ValueError(f"penalty must be a finite number >= 0, got {penalty!r}")
        super().__init__(env)
        self.penalty = float(penalty)

    def step(self, action: object) -> tuple[object, float, bool, bool, dict]:
        mask = self.env.unwrapped.action_masks()  # type: ignore[attr-defined]
        index = np.asarray(action)
        masked = bool(
            index.size == 1
            and np.issubdtype(index.dtype, np.integer)
            and 0 <= int(index) < mask.size
            and not mask[int(index)]
        )
        executed = int(fallback_actions(mask)) if masked else action
        obs, reward, terminated, truncated, info = self.env.step(executed)
        info["masked_action"] = masked
        info["executed_action"] = int(np.asarray(executed))
        return obs, float(reward) - (self.penalty if masked else 0.0), terminated, truncated, info

    def reset(self, **kwargs: object) -> tuple[object, dict]:
        obs, info = self.env.reset(**kwargs)  # type: ignore[arg-type]
        info["masked_action"] = False
        info["executed_action"] = -1
        return obs, info

    def action_masks(self) -> np.ndarray:
        return self.env.unwrapped.action_masks()  # type: ignore[attr-defined]
