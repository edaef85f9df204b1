"""A native vectorized energy routing environment: all sub-environments stepped by the compiled core."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from lrm_gym.core import dynamics, rng
from lrm_gym.core.compiled import compiled
from lrm_gym.core.dynamics import InvalidActionError
from lrm_gym.core.observation import observation_layout, observation_space
from lrm_gym.core.params import Params, build_params
from lrm_gym.core.state import COUNTERS, INTEGER_COUNTERS, FloatField, IntField, State, queued_tasks_compiled
from lrm_gym.envs.checks import check_derived, check_num_envs, check_row_seeds
from lrm_gym.envs.compat import ClientOptions, client_options, fallback_actions, flat_index, observation_slices
from lrm_gym.envs.energy_routing import step_info
from lrm_gym.envs.render import SlotRecord, energy_panel, text_dashboard
from lrm_gym.envs.spaces import sample_preferred_from
from lrm_gym.scenarios.loader import load_scenario
from lrm_gym.scenarios.schema import ScenarioConfig

# Counter columns reported as int and as float (module-level arrays: constants in the compiled _info_rows).
_INT_COUNTERS = np.array(INTEGER_COUNTERS, np.int64)
_FLOAT_COUNTERS = np.array([i for i in range(len(COUNTERS)) if i not in INTEGER_COUNTERS], np.int64)
_INT_KEYS = tuple(COUNTERS[i] for i in _INT_COUNTERS)
_FLOAT_KEYS = tuple(COUNTERS[i] for i in _FLOAT_COUNTERS)


class BatchRoutingActions(spaces.MultiDiscrete):
    """``MultiDiscrete([1 + M * B] * num_envs)`` whose unmasked ``sample()`` picks a valid action per sub-env.

    As :class:`lrm_gym.envs.spaces.RoutingActions` does for one env: uniform among the options that can run
    each sub-env's current task, defer only when none can. It reads the env's live mask array (not a copy,
    and not the env: no reference cycle) and draws its uniforms from a compiled stream seeded from
    ``np_random``, so ``seed()`` makes it reproducible as for any Gymnasium space.
    """

    def __init__(self, n_actions: int, num_envs: int, masks: np.ndarray | None = None) -> None:
        super().__init__(np.full(num_envs, n_actions, dtype=np.int64))
        self._masks = masks
        self._stream = np.zeros(rng.WORDS, np.uint64)
        self._stream_source: np.random.Generator | None = None

    def link(self, masks: np.ndarray) -> None:
        """Sample from ``masks`` (``(num_envs, n_actions)`` bool, read at each ``sample()``)."""
        self._masks = masks

    def sample(self, mask: Any = None, probability: Any = None) -> np.ndarray:
        if mask is None and probability is None and self._masks is not None:
            if self._stream_source is not self.np_random:  # new, or seeded since the stream was started
                rng.seed_state(self._stream, np.uint64(self.np_random.integers(2**63)))
                self._stream_source = self.np_random
            out = np.empty(self.shape, self.dtype)
            sample_preferred_from(self._masks, self._stream, out)
            return out
        return super().sample(mask=mask, probability=probability)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_masks"] = None  # the env relinks its own state's masks
        return state


def positive_int(name: str, value: Any, alternative: str = "") -> int:
    """``value`` as an int if it is an integer >= 1, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be {alternative}an integer >= 1, got {value!r}")
    return int(value)


def batch_actions(actions: Any, num_envs: int, n_actions: int | None = None) -> np.ndarray:
    """One integer action per env as int64, else an error naming the dtype and shape.

    The range (every env) and the masks (envs not autoresetting) are checked by the kernel, except for
    unsigned values too large for int64, which the cast would wrap to negative ones: those are reported here
    with their real value (``n_actions``, when given, for the message).
    """
    array = np.asarray(actions)
    if array.shape != (num_envs,) or array.dtype.kind not in "iu":
        raise InvalidActionError(
            f"actions must be an integer array of shape ({num_envs},), got dtype {array.dtype} and shape {array.shape}"
        )
    if array.dtype == np.uint64 and array.size and int(array.max()) > np.iinfo(np.int64).max:
        row = int(np.argmax(array > np.iinfo(np.int64).max))
        bound = f"[0, {n_actions})" if n_actions is not None else "the action space"
        where = f" of sub-env {row}" if num_envs > 1 else ""
        raise InvalidActionError(f"actions must lie in {bound}: got action {int(array[row])}{where}")
    return array.astype(np.int64, copy=False)


class EnergyRoutingVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`~lrm_gym.envs.energy_routing.EnergyRoutingEnv` in one batched state.

    The step runs the same core functions as the single env (``lrm_gym.core.dynamics``) on all rows at once;
    there is no Python loop over sub-environments. Spaces, observation layout and units, rewards, masks and
    info keys are those of the single env, batched along a leading axis of size ``num_envs``.

    ## Autoreset

    ``metadata["autoreset_mode"]`` is ``AutoresetMode.NEXT_STEP`` (Gymnasium's default): the step on which
    a sub-env is truncated returns its last observation, and the *next* step resets it, ignoring its action
    and returning the first observation of the new episode with reward ``0``, ``terminated`` and
    ``truncated`` ``False``, and the info of a reset.

    ## Info

    Gymnasium's vector convention: ``info[key]`` is an array over sub-envs with the single env's type
    (``int64``, ``float64`` or ``bool``) and ``info["_" + key]`` a bool array saying which sub-envs have it
    (always all of them: every step of every sub-env carries every key, so all ``_`` masks are one shared
    read-only all-True array). ``info["totals"]`` is a dict of
    such arrays with its own ``_`` masks. ``info["action_mask"]`` and ``action_masks()`` are
    ``(num_envs, n_actions)`` bool.

    ## Masked actions, flat observation, cost

    As in the single env (its ``observation``, ``strict``, ``masked_action_penalty`` and ``cost`` kwargs, the
    same defaults): a masked action runs the sub-env's lowest valid action, flagged per sub-env in
    ``info["masked_action"]`` and ``info["executed_action"]`` (``False`` and ``-1`` for a sub-env that resets on
    this step), and ``info["cost"]`` is each sub-env's step cost. The fallback is chosen with numpy on the
    whole batch before the compiled step.

    ## Randomness

    Each sub-env has its own random stream (:mod:`lrm_gym.core.rng`). ``reset(seed=s)`` starts sub-env ``i``
    from seed ``s + i``, Gymnasium's convention for vector envs, and ``reset(seed=[s_0, s_1, ...])`` from the
    seeds given, so sub-env ``i`` replays the single env reset with the same seed, under the same actions,
    across its autoresets too (a reset without a seed continues a stream). With no seed ever given, the
    seeds come from ``self.np_random``. Seeds lie in ``[0, 2**64 - 1]``, as for the single env, so one seed
    ``s`` may be at most ``2**64 - num_envs``.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import lrm_gym
    >>> envs = gym.make_vec("lrm_gym/EnergyRouting-v2", num_envs=8, vectorization_mode="vector_entry_point")
    >>> obs, info = envs.reset(seed=0)
    >>> obs["options"].shape[0], info["action_mask"].shape[0]
    (8, 8)
    >>> obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())

    ```

    ``num_envs`` >= 1, at most 2**20 and as many as fit the 8 GiB limit on the env's buffers (the error names
    the memory needed); ``max_episode_steps`` optionally truncates a sub-env after that many steps of its
    episode (on top of the ``horizon_slots`` clock); ``scenario``, ``overrides`` and ``render_mode`` are
    those of the single env (``render()`` returns a one-frame tuple showing sub-env 0).
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 (an instance attribute in VectorEnv)
        "render_modes": ["ansi", "rgb_array"],
        "render_fps": 4,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        max_episode_steps: int | None = None,
        scenario: str | Path | ScenarioConfig = "critical",
        overrides: Mapping[str, Any] | None = None,
        render_mode: str | None = None,
        *,
        observation: str = "dict",
        strict: bool = False,
        masked_action_penalty: float = 0.0,
        cost: str = "auxiliary_kwh",
    ) -> None:
        self.client_options: ClientOptions = client_options(observation, strict, masked_action_penalty, cost)
        num_envs = positive_int("num_envs", num_envs)
        if max_episode_steps is not None:
            max_episode_steps = positive_int("max_episode_steps", max_episode_steps, "None or ")
            if max_episode_steps > np.iinfo(np.int64).max:
                raise ValueError(f"max_episode_steps: {max_episode_steps} exceeds the limit 2**63 - 1")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self.scenario: ScenarioConfig = load_scenario(scenario, overrides)
        """The validated scenario the sub-envs simulate (``params`` is derived from it)."""
        self.params: Params = build_params(self.scenario)
        check_num_envs(self.params, num_envs)  # before allocating num_envs rows
        self.n_actions = 1 + self.params.n_options
        self.single_action_space = spaces.Discrete(self.n_actions)
        dict_space = observation_space(self.params)
        check_derived(self.params, dict_space)
        self._layout = observation_layout(self.params)
        self._flat_index = flat_index(dict_space, self._layout.parts) if observation == "flat" else None
        self.single_observation_space = spaces.flatten_space(dict_space) if observation == "flat" else dict_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.observation_slices: dict[str, slice] = observation_slices(self.params)
        self._state = State.allocate(self.params, self.num_envs)
        self.action_space = BatchRoutingActions(self.n_actions, self.num_envs, masks=self._state.mask)
        self._rows = np.arange(self.num_envs)
        self._no_masked = np.zeros(self.num_envs, bool)
        self._no_masked.flags.writeable = False
        self._not_executed = np.full(self.num_envs, -1, np.int64)
        self._not_executed.flags.writeable = False
        self._seeded = False
        self._all_envs = np.ones(self.num_envs, bool)
        self._all_envs.flags.writeable = False
        self._elapsed = np.zeros(self.num_envs, np.int64)
        self._autoreset = np.zeros(self.num_envs, bool)
        self._needs_reset = True
        self._history: deque[SlotRecord] = deque(maxlen=256)
        self._last_obs: dict[str, np.ndarray] | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray] | np.ndarray, dict[str, Any]]:
        """Reset every sub-env: ``seed`` is ``None``, one integer ``s`` (sub-env ``i`` gets ``s + i``), or a
        list of ``num_envs`` integers."""
        seeds = check_row_seeds(seed, self.num_envs)
        if options:
            raise ValueError(f"reset options are not supported, got keys {sorted(options)}")
        super().reset(seed=None if seeds is None else int(seeds[0]))
        if seeds is not None:
            dynamics.seed_rows(self._state, self._rows, seeds)
        elif not self._seeded:
            dynamics.seed_rows_from(self.np_random, self._state, self._rows)
        self._seeded = True
        obs = np.empty((self.num_envs, self._layout.size), np.float32)
        dynamics.reset_rows(self.params, self._state, self._rows, obs)
        self._elapsed[:] = 0
        self._autoreset[:] = False
        self._needs_reset = False
        self._history.clear()
        return self._observe(obs), self._info(self._no_masked, self._not_executed)

    def step(
        self, actions: Any
    ) -> tuple[dict[str, np.ndarray] | np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-env; sub-envs truncated on the previous step are reset instead (NEXT_STEP)."""
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        actions = batch_actions(actions, self.num_envs, self.n_actions)
        state = self._state
        batch = np.empty((self.num_envs, self._layout.size), np.float32)
        truncated = np.empty(self.num_envs, bool)
        resetting = self._autoreset if self._autoreset.any() else None
        masked = self._no_masked
        if not self.client_options.strict:  # under strict, the kernel raises on a masked action
            actions, masked = self._replace_masked(actions, resetting)
        # Sub-envs waiting for their autoreset start a new episode inside the same compiled call.
        rewards = dynamics.step_rows(self.params, state, self._rows, actions, resetting, batch, truncated)
        if masked is not self._no_masked:
            rewards -= masked * self.client_options.masked_action_penalty
        executed = actions.copy() if resetting is None else np.where(resetting, -1, actions)
        if self.max_episode_steps is not None:
            self._elapsed += 1
            if resetting is not None:
                self._elapsed[resetting] = 0
            truncated |= self._elapsed >= self.max_episode_steps
        if resetting is not None:
            truncated[resetting] = False
        self._autoreset = truncated.copy()
        obs, info = self._observe(batch), self._info(masked, executed)
        if self.render_mode is not None and info["slots_closed"][0]:
            self._history.append(
                SlotRecord(
                    *(float(info[k][0]) for k in ("baseline_j", "demand_j", "auxiliary_j", "waste_j", "storage_j"))
                )
            )
        return obs, rewards, np.zeros(self.num_envs, bool), truncated, info

    def action_masks(self) -> np.ndarray:
        """Valid actions ``(num_envs, n_actions)`` bool for each sub-env's current task (MaskablePPO style)."""
        return self._state.mask.copy()

    def _replace_masked(self, actions: np.ndarray, resetting: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The actions with each masked one replaced by its sub-env's fallback, and which were replaced.

        Out-of-range actions are left for the kernel to reject; sub-envs that autoreset ignore their action.
        Returns the shared all-False array when nothing is masked (the common case: no copies).
        """
        mask = self._state.mask
        in_range = (actions >= 0) & (actions < self.n_actions)
        masked = in_range & ~mask[self._rows, np.where(in_range, actions, 0)]
        if resetting is not None:
            masked &= ~resetting
        if not masked.any():
            return actions, self._no_masked
        return np.where(masked, fallback_actions(mask), actions), masked

    def render(self) -> tuple[str | np.ndarray, ...] | None:
        """A one-frame tuple: sub-env 0 as the single env renders it (rendering thousands is not useful)."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'")
            return None
        if self._last_obs is None:
            raise RuntimeError("call reset() before render()")
        if self.render_mode == "ansi":
            obs = {key: value[0] for key, value in self._last_obs.items()}
            return (text_dashboard(self.params, step_info(self._state, 0, self._state.mask[0]), obs),)
        return (energy_panel(self._history, self.params),)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if isinstance(self.action_space, BatchRoutingActions):
            self.action_space.link(self._state.mask)  # the link to the masks is not pickled

    def _observe(self, batch: np.ndarray) -> dict[str, np.ndarray] | np.ndarray:
        obs = self._layout.split(batch)
        if self.render_mode is not None:
            self._last_obs = obs
        if self._flat_index is not None:
            return batch[:, self._flat_index]
        return obs

    def _info(self, masked: np.ndarray, executed: np.ndarray) -> dict[str, Any]:
        """Batched info with the single env's keys, types and meanings (see :func:`step_info`)."""
        state, n = self._state, self.num_envs
        info_float = np.empty((len(_INFO_FLOAT), n))
        info_int = np.empty((len(_INFO_INT), n), np.int64)
        totals_float = np.empty((len(_TOTALS_FLOAT), n))
        totals_int = np.empty((len(_TOTALS_INT), n), np.int64)
        correct = np.empty(n, bool)
        masks = np.empty(state.mask.shape, bool)
        _info_rows(
            state.ints, state.floats, state.step, state.totals, state.mask,
            info_float, info_int, totals_float, totals_int, correct, masks,
        )  # fmt: skip
        info: dict[str, Any] = dict(zip(_INFO_FLOAT, info_float, strict=True))
        info.update(zip(_INFO_INT, info_int, strict=True))
        info["task_correct"] = correct
        info["action_mask"] = masks
        info["masked_action"] = masked
        info["executed_action"] = executed
        cost_counter, cost_scale = self.client_options.cost_counter, self.client_options.cost_scale
        info["cost"] = info[cost_counter] * cost_scale
        info.update(dict.fromkeys(_INFO_MASKS, self._all_envs))
        totals: dict[str, Any] = dict(zip(_TOTALS_FLOAT, totals_float, strict=True))
        totals.update(zip(_TOTALS_INT, totals_int, strict=True))
        totals["cost"] = totals[cost_counter] * cost_scale
        totals.update(dict.fromkeys(_TOTALS_MASKS, self._all_envs))
        info["totals"] = totals
        return info


# Info arrays, filled by one compiled pass over the state (a column per key and numpy copies cost more than
# the step itself at thousands of sub-envs), in the order _info_rows writes them. Gymnasium's ``_key`` masks
# are all one read-only all-True array: every sub-env has every key on every step.
_INFO_FLOAT = (*_FLOAT_KEYS, "storage_j", "task_energy_j")
_INFO_INT = (*_INT_KEYS, "slot", "task_option", "task_tokens")
_INFO_EXTRA = ("task_correct", "action_mask", "masked_action", "executed_action", "cost", "totals")
_INFO_MASKS = tuple("_" + k for k in (*_INFO_FLOAT, *_INFO_INT, *_INFO_EXTRA))
_TOTALS_FLOAT = _FLOAT_KEYS
_TOTALS_INT = (*_INT_KEYS, "tasks_queued")
_TOTALS_MASKS = tuple("_" + k for k in (*_TOTALS_FLOAT, *_TOTALS_INT, "cost"))
_BLOCK = 64  # sub-envs per block of _info_rows: 64 rows of step and totals are 20 KiB


@compiled
def _info_rows(
    ints: np.ndarray,
    floats: np.ndarray,
    step: np.ndarray,
    totals: np.ndarray,
    mask: np.ndarray,
    info_float: np.ndarray,
    info_int: np.ndarray,
    totals_float: np.ndarray,
    totals_int: np.ndarray,
    correct: np.ndarray,
    masks: np.ndarray,
) -> None:
    # A blocked transpose: for a block of sub-envs (their state rows stay in L1), write each key's values
    # for the block contiguously. Row by row would scatter 48 writes per sub-env over 48 output rows.
    n, nf, ni = ints.shape[0], _FLOAT_COUNTERS.size, _INT_COUNTERS.size
    for start in range(0, n, _BLOCK):
        end = min(start + _BLOCK, n)
        for j in range(nf):
            for r in range(start, end):
                info_float[j, r] = step[r, _FLOAT_COUNTERS[j]]
            for r in range(start, end):
                totals_float[j, r] = totals[r, _FLOAT_COUNTERS[j]]
        for j in range(ni):
            for r in range(start, end):
                info_int[j, r] = int(step[r, _INT_COUNTERS[j]])
            for r in range(start, end):
                totals_int[j, r] = int(totals[r, _INT_COUNTERS[j]])
    for r in range(n):
        info_float[nf, r] = floats[r, FloatField.STORAGE_J]
        info_float[nf + 1, r] = floats[r, FloatField.TASK_ENERGY_J]
        info_int[ni, r] = ints[r, IntField.SLOT]
        info_int[ni + 1, r] = ints[r, IntField.TASK_OPTION]
        info_int[ni + 2, r] = int(floats[r, FloatField.TASK_TOKENS])
        correct[r] = floats[r, FloatField.TASK_CORRECT] > 0
        for a in range(mask.shape[1]):
            masks[r, a] = mask[r, a]
        totals_int[ni, r] = queued_tasks_compiled(
            ints[r, IntField.TRUNCATED],
            ints[r, IntField.Q_LEN],
            ints[r, IntField.N_PRESENT],
            ints[r, IntField.HEAD],
            ints[r, IntField.SLOT_DEFERRED],
        )
