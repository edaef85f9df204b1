"""Stable-Baselines3's ``VecEnv`` on the slot-level envs (``lrm_gym/EnergyDispatch-*``, docs/model.md section 18):
every env's slot decided in one compiled call, no Python loop over envs.

The conventions of :class:`agents.training.sb3_vec_env.NativeVecEnv`: same-step autoreset with the last
observation in ``infos[i]["terminal_observation"]`` (and ``"TimeLimit.truncated": True``; the episode's totals
in ``infos[i]["totals"]``); ``seed(s)`` then ``reset()`` gives env ``i`` the seed ``s + i``, so env ``i`` replays
``EnergyDispatchEnv`` reset with ``s + i``; infos are empty dicts on other steps.

```python
from stable_baselines3 import SAC
from stable_baselines3.common.vec_env import VecMonitor
from agents.training.sb3_dispatch_vec_env import NativeDispatchVecEnv

env = VecMonitor(NativeDispatchVecEnv(8, scenario="volatile"))  # action="allowance": 3 numbers per slot
model = SAC("MlpPolicy", env, seed=0).learn(2048)
```
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from agents.training.sb3_vec_env import SharedStateVecEnv
from lrm_gym.envs.checks import check_num_envs, check_seed
from lrm_gym.envs.dispatch import DispatchCore, row_info
from lrm_gym.envs.vector import positive_int
from lrm_gym.scenarios.schema import ScenarioConfig


class NativeDispatchVecEnv(SharedStateVecEnv):
    """``num_envs`` slot-level envs behind SB3's ``VecEnv`` interface (see the module docstring)."""

    render_mode: str | None = None
    render_hint = "EnergyDispatchEnv(render_mode=...)"

    def __init__(
        self,
        num_envs: int,
        scenario: str | Path | ScenarioConfig = "critical",
        overrides: Mapping[str, Any] | None = None,
        action: str = "allowance",
        cost: str = "auxiliary_kwh",
    ) -> None:
        num_envs = positive_int("num_envs", num_envs)
        probe = DispatchCore(1, scenario, overrides, action, cost)  # checks the scenario and kwargs first
        check_num_envs(probe.params, num_envs)
        self._core = probe if num_envs == 1 else DispatchCore(num_envs, probe.scenario, None, action, cost)
        self.params = self._core.params
        self.action_mode = self._core.mode
        self._actions: np.ndarray | None = None
        action_space = spaces.Box(-1.0, 1.0, (self._core.action_size,), np.float32)
        super().__init__(num_envs, self._core.single_observation_space, action_space)

    def reset(self) -> VecEnvObs:
        if any(seed is not None for seed in self._seeds):
            missing = [i for i, seed in enumerate(self._seeds) if seed is None]
            if missing:
                raise ValueError(f"seed() gave no seed for envs {missing}; seed all envs or none")
            seeds = [check_seed(seed, f"seed of env {i}") for i, seed in enumerate(self._seeds)]
            self._core.seed(np.asarray(seeds, dtype=np.uint64), np.random.default_rng())
        else:  # never seeded: fresh entropy, as Gymnasium does; seeded before: the streams continue
            self._core.seed(None, np.random.default_rng())
        obs = self._core.reset()
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = self._core.check_actions(actions)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("call step_async() (or step()) before step_wait()")
        actions, self._actions = self._actions, None
        rewards, obs, truncated = self._core.step(actions, None)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        done = np.flatnonzero(truncated)
        if done.size:
            last = obs[done].copy()
            for k, row in enumerate(done.tolist()):
                infos[row] = {
                    "terminal_observation": last[k],
                    "TimeLimit.truncated": True,
                    "totals": row_info(self._core, row)["totals"],
                }
            obs[done] = self._core.reset(done)  # the finished envs start their next episode
        return obs, rewards.astype(np.float32), truncated, infos
