"""Wrappers for users of plain ``MlpPolicy`` and other flat-vector agents."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import FlattenObservation


class FlattenRoutingObservation(FlattenObservation):
    """Gymnasium's :class:`~gymnasium.wrappers.FlattenObservation` that keeps ``action_masks()``.

    The flat vector is the concatenation of ``energy``, ``options``, ``queue`` and ``task`` (the Dict's
    sorted key order, as :func:`gymnasium.spaces.flatten` lays it out).

    ```python
    >>> import gymnasium as gym
    >>> import lrm_gym
    >>> env = lrm_gym.FlattenRoutingObservation(gym.make("lrm_gym/EnergyRouting-v0"))
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape == env.observation_space.shape
    True

    ```
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)

    def action_masks(self) -> np.ndarray:
        return self.env.unwrapped.action_masks()  # type: ignore[attr-defined]
