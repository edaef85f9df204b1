"""The base class of every analytic policy: SB3's ``predict`` over one observation or a batch, masks read
from ``action_masks=`` or off the observation, and construction from an env or a scenario.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from lrm_gym.core.observation import observation_layout
from lrm_gym.core.params import Params, build_params
from lrm_gym.scenarios.loader import load_scenario


class AnalyticPolicy(ABC):
    """Base class: observation parsing, masks, batching and the SB3 ``predict`` signature."""

    summary: ClassVar[str] = ""
    """One line for ``lrm-gym list``."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self._n_options = params.n_options
        self._layout = observation_layout(params)

    @classmethod
    def from_env(cls, env: gym.Env, **kwargs: Any) -> AnalyticPolicy:
        """Build for the scenario of ``env`` (any wrapper around an :class:`EnergyRoutingEnv`)."""
        params = getattr(env.unwrapped, "params", None)
        if not isinstance(params, Params):
            raise ValueError(f"{cls.__name__}.from_env needs an lrm_gym EnergyRouting env, got {env!r}")
        return cls(params, **kwargs)

    @classmethod
    def from_scenario(
        cls, scenario: str | Path = "critical", overrides: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> AnalyticPolicy:
        """Build for a named scenario or YAML file (with optional overrides), without making an env."""
        return cls(build_params(load_scenario(scenario, overrides)), **kwargs)

    def predict(
        self,
        observation: Mapping[str, np.ndarray],
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Any]:
        """Actions for one observation (returns a 0-d array) or a batch (returns ``(n,)``); ``state`` passes through."""
        if not isinstance(observation, Mapping) or "options" not in observation:
            raise ValueError(
                f"{type(self).__name__} reads the env's Dict observation (task, options, energy, queue); "
                f"got {type(observation).__name__} (unwrap FlattenRoutingObservation for analytic policies)"
            )
        options = np.asarray(observation["options"])
        single = options.ndim == 1
        batch = {k: np.atleast_2d(np.asarray(v, dtype=np.float64)) for k, v in observation.items()}
        mask = self._mask(batch)
        if action_masks is not None:
            mask &= np.atleast_2d(np.asarray(action_masks, dtype=bool))
        actions = self._act(batch, mask).astype(np.int64)
        return (actions[0] if single else actions), state

    @abstractmethod
    def _act(self, obs: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
        """Actions ``(n,)`` for a batch of observations and their masks ``(n, 1 + O)``."""

    def _mask(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        feasible = obs["options"][:, self._layout.options.feasible] > 0.5
        can_defer = obs["task"][:, self._layout.task.slack] > 0
        return np.concatenate([can_defer[:, None], feasible], axis=1)

    def _decision_type(self, obs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Class and difficulty-index of each observed task (the env's ``q_table``)."""
        params = self.params
        task = obs["task"]
        cls = np.argmax(task[:, self._layout.task.one_hot_class], axis=1)
        if not params.difficulty_visible:
            return cls, np.full(cls.shape, params.hidden_difficulty_index)
        index = np.clip(np.rint(task[:, self._layout.task.difficulty]).astype(np.int64), 1, params.max_difficulty)
        return cls, index
