"""The native vectorized slot-level env: every sub-env's slot decided by one compiled call."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from lrm_gym.core import slot_dynamics
from lrm_gym.core.params import Params
from lrm_gym.envs.checks import check_num_envs, check_row_seeds
from lrm_gym.envs.dispatch import DispatchCore
from lrm_gym.envs.vector import positive_int
from lrm_gym.scenarios.schema import ScenarioConfig


class EnergyDispatchVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`~lrm_gym.envs.dispatch.EnergyDispatchEnv` in one batched state.

    Spaces, observation, rewards and info keys are the single env's, batched along a leading axis; one compiled
    call decides every sub-env's slot (no Python loop over sub-envs). ``AutoresetMode.NEXT_STEP``: the step
    after a sub-env's truncation resets it (its action ignored, reward 0). ``info[key]`` is an array over
    sub-envs with ``info["_" + key]`` all True (every sub-env has every key), ``info["totals"]`` a dict of
    such arrays. ``reset(seed=s)`` seeds sub-env ``i`` with ``s + i`` (or a list of seeds), so sub-env ``i``
    replays the single env reset with the same seed.

    ```python
    >>> import gymnasium as gym
    >>> import lrm_gym
    >>> envs = gym.make_vec("lrm_gym/EnergyDispatch-v2", num_envs=4, vectorization_mode="vector_entry_point")
    >>> obs, info = envs.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
    >>> reward.shape, info["slots_closed"].shape
    ((4,), (4,))

    ```

    Keyword arguments: ``num_envs`` (at most as many as fit 8 GiB of state), and the single env's
    ``scenario``, ``overrides``, ``action`` and ``cost``.
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(
        self,
        num_envs: int = 1,
        scenario: str | Path | ScenarioConfig = "critical",
        overrides: Mapping[str, Any] | None = None,
        render_mode: str | None = None,
        *,
        action: str = "allowance",
        cost: str = "auxiliary_kwh",
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"vector slot env: render_mode must be None (no rendering), got {render_mode!r}")
        num_envs = positive_int("num_envs", num_envs)
        core = DispatchCore(1, scenario, overrides, action, cost)  # checks the scenario and kwargs first
        check_num_envs(core.params, num_envs)
        self._core = core if num_envs == 1 else DispatchCore(num_envs, core.scenario, None, action, cost)
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.scenario: ScenarioConfig = self._core.scenario
        self.params: Params = self._core.params
        self.action_mode: str = self._core.mode
        self.routing_labels: tuple[str, ...] = (
            () if action == "allowance" else slot_dynamics.routing_rows(self.params, action).labels
        )
        self.single_action_space = spaces.Box(-1.0, 1.0, (self._core.action_size,), np.float32)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.single_observation_space = self._core.single_observation_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._autoreset = np.zeros(num_envs, bool)
        self._needs_reset = True
        self._all_envs = np.ones(num_envs, bool)
        self._all_envs.flags.writeable = False

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every sub-env: ``seed`` is ``None``, one integer ``s`` (sub-env ``i`` gets ``s + i``), or a list
        of ``num_envs`` integers."""
        seeds = check_row_seeds(seed, self.num_envs)
        if options:
            raise ValueError(f"reset options are not supported, got keys {sorted(options)}")
        super().reset(seed=None if seeds is None else int(seeds[0]))
        self._core.seed(seeds, self.np_random)
        obs = self._core.reset()
        self._autoreset[:] = False
        self._needs_reset = False
        return obs, self._info()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Decide every sub-env's slot; sub-envs truncated on the previous step are reset instead (NEXT_STEP)."""
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        checked = self._core.check_actions(actions)
        resetting = self._autoreset if self._autoreset.any() else None
        rewards, obs, truncated = self._core.step(checked, resetting)
        if resetting is not None:
            truncated[resetting] = False
        self._autoreset = truncated.copy()
        return obs, rewards, np.zeros(self.num_envs, bool), truncated, self._info()

    def _info(self) -> dict[str, Any]:
        info = self._core.info_arrays()
        totals = info["totals"]
        totals.update({f"_{key}": self._all_envs for key in list(totals)})
        info.update({f"_{key}": self._all_envs for key in list(info)})
        return info
