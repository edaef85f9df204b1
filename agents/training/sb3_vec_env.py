"""Stable-Baselines3's ``VecEnv`` on the compiled core: train on many envs in one process, no Python loop.

SB3 steps a list of Gymnasium envs (``DummyVecEnv``, one Python step per env) or subprocesses; both pay
lrm_gym's per-step Python overhead once per env. :class:`NativeVecEnv` drives the same compiled transition
as :class:`lrm_gym.EnergyRoutingEnv` and :class:`lrm_gym.EnergyRoutingVectorEnv`
(:func:`lrm_gym.core.dynamics.step_rows`) on all envs at once and speaks SB3's conventions:

- autoreset on the same step: a finished env's last observation is in ``infos[i]["terminal_observation"]``
  (with ``"TimeLimit.truncated": True``: episodes end by the env's clock) and the returned observation is
  the first of its next episode;
- ``seed(s)`` then ``reset()`` gives env ``i`` the seed ``s + i``, exactly as a ``DummyVecEnv`` of single
  envs, so env ``i`` replays ``EnergyRoutingEnv`` reset with ``s + i`` step for step;
- ``env_method("action_masks")`` returns the per-env masks, so sb3-contrib's ``MaskablePPO`` trains on it.

Infos are empty dicts except on the step an env's episode ends (SB3 builds a list of per-env dicts every
step; thousands of full info dicts would cost more than the step). ``VecMonitor`` records episode returns
and lengths as for any VecEnv.

```python
from sb3_contrib import MaskablePPO
from stable_baselines3.common.vec_env import VecMonitor
from agents.training.sb3_vec_env import NativeVecEnv

env = VecMonitor(NativeVecEnv(64, scenario="volatile"))
model = MaskablePPO("MultiInputPolicy", env, n_steps=32, seed=0).learn(4096)
```
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from lrm_gym.core import dynamics
from lrm_gym.core.observation import observation_layout, observation_space
from lrm_gym.core.params import Params, build_params
from lrm_gym.core.state import State
from lrm_gym.envs.checks import check_num_envs, check_seed
from lrm_gym.envs.vector import batch_actions, positive_int
from lrm_gym.scenarios.loader import load_scenario
from lrm_gym.scenarios.schema import ScenarioConfig


class SharedStateVecEnv(VecEnv):
    """What SB3's ``VecEnv`` asks of a vector env whose sub-envs share one compiled state: nothing to close, no
    per-env attributes to set, no wrappers, no images; attributes read once per env off this object."""

    render_hint: str = "the single env"  # what to render with instead, in the error of get_images

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute of this object, once per env (the envs share one object)."""
        if not hasattr(self, attr_name):
            raise AttributeError(f"{type(self).__name__} has no attribute {attr_name!r}")
        return [getattr(self, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(
            f"{type(self).__name__} envs share one compiled state; {attr_name!r} cannot be set per env"
        )

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        raise AttributeError(f"{type(self).__name__} has no env methods, got {method_name!r}")

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        raise NotImplementedError(f"{type(self).__name__} does not render; use {self.render_hint}")

    def _get_indices(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return indices


class NativeVecEnv(SharedStateVecEnv):
    """``num_envs`` energy routing envs behind SB3's ``VecEnv`` interface (see the module docstring)."""

    render_mode: str | None = None
    render_hint = "EnergyRoutingEnv(render_mode=...)"

    def __init__(
        self,
        num_envs: int,
        scenario: str | Path | ScenarioConfig = "critical",
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        num_envs = positive_int("num_envs", num_envs)
        self.params: Params = build_params(load_scenario(scenario, overrides))
        check_num_envs(self.params, num_envs)  # before allocating num_envs rows
        self._state = State.allocate(self.params, num_envs)
        self._rows = np.arange(num_envs)
        self._layout = observation_layout(self.params)
        self._actions: np.ndarray | None = None
        self._seeded = False
        super().__init__(int(num_envs), observation_space(self.params), spaces.Discrete(1 + self.params.n_options))

    def reset(self) -> VecEnvObs:
        if any(seed is not None for seed in self._seeds):
            missing = [i for i, seed in enumerate(self._seeds) if seed is None]
            if missing:
                raise ValueError(f"seed() gave no seed for envs {missing}; seed all envs or none")
            seeds = [check_seed(seed, f"seed of env {i}") for i, seed in enumerate(self._seeds)]
            dynamics.seed_rows(self._state, self._rows, np.asarray(seeds, dtype=np.uint64))
            self._seeded = True
        elif not self._seeded:  # never seeded: fresh entropy, as Gymnasium does
            dynamics.seed_rows_from(np.random.default_rng(), self._state, self._rows)
            self._seeded = True
        obs = np.empty((self.num_envs, self._layout.size), np.float32)
        dynamics.reset_rows(self.params, self._state, self._rows, obs)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._layout.split(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = batch_actions(actions, self.num_envs)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("call step_async() (or step()) before step_wait()")
        actions, self._actions = self._actions, None
        obs = np.empty((self.num_envs, self._layout.size), np.float32)
        truncated = np.empty(self.num_envs, bool)
        rewards = dynamics.step_rows(self.params, self._state, self._rows, actions, None, obs, truncated)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        done = np.flatnonzero(truncated)
        if done.size:
            last = obs[done].copy()
            for k, row in enumerate(done.tolist()):
                infos[row] = {"terminal_observation": self._layout.split(last[k]), "TimeLimit.truncated": True}
            first = np.empty((done.size, self._layout.size), np.float32)
            dynamics.reset_rows(self.params, self._state, done, first)
            obs[done] = first
        return self._layout.split(obs), rewards.astype(np.float32), truncated, infos

    def action_masks(self) -> np.ndarray:
        """Valid actions ``(num_envs, n_actions)`` bool for each env's current task."""
        return self._state.mask.copy()

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """Only ``action_masks`` (per env, for MaskablePPO) is an env method here."""
        if method_name != "action_masks" or method_args or method_kwargs:
            raise AttributeError(f"NativeVecEnv supports env_method('action_masks') only, got {method_name!r}")
        masks = self._state.mask
        return [masks[i].copy() for i in self._get_indices(indices)]
