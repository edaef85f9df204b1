"""The single energy-aware routing environment."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from lrm_gym.core import dynamics
from lrm_gym.core.dynamics import InvalidActionError
from lrm_gym.core.observation import observation_layout, observation_space
from lrm_gym.core.params import Params, build_params
from lrm_gym.core.state import COUNTERS, INTEGER_COUNTERS, FloatField, IntField, State, queued_tasks
from lrm_gym.envs.checks import check_derived, check_seed
from lrm_gym.envs.compat import ClientOptions, client_options, fallback_actions, flat_index, observation_slices
from lrm_gym.envs.render import SlotRecord, energy_panel, text_dashboard
from lrm_gym.envs.spaces import RoutingActions
from lrm_gym.scenarios.loader import load_scenario
from lrm_gym.scenarios.schema import ScenarioConfig

# step_info runs on every step: its columns as plain ints (looking up an IntEnum member costs ~100 ns).
_SLOT, _TRUNCATED, _Q_LEN = int(IntField.SLOT), int(IntField.TRUNCATED), int(IntField.Q_LEN)
_N_PRESENT, _HEAD, _SLOT_DEFERRED = int(IntField.N_PRESENT), int(IntField.HEAD), int(IntField.SLOT_DEFERRED)
_TASK_OPTION, _STORAGE_J = int(IntField.TASK_OPTION), int(FloatField.STORAGE_J)
_TASK_ENERGY_J, _TASK_TOKENS = int(FloatField.TASK_ENERGY_J), int(FloatField.TASK_TOKENS)
_TASK_CORRECT = int(FloatField.TASK_CORRECT)


class EnergyRoutingEnv(gym.Env[dict[str, np.ndarray] | np.ndarray, np.int64]):
    """
    ## Description

    Route reasoning tasks to large reasoning models (LRMs) under a fluctuating baseline energy supply.
    Time runs in slots. In each slot tasks arrive; the router decides, one task per step, to defer the task
    to the next slot or to run it on one of ``M`` models with one of ``B`` reasoning budgets. The choice
    sets the task's chance of a correct answer and its energy. When every task of the slot is decided the
    slot closes: the baseline supply serves the slot's demand (task energy plus model idle energy), surplus
    charges storage or is wasted, deficit is met from storage or bought as auxiliary energy. The model
    follows Ellis-Mohr, Hartman and Varshney, *Energy-Aware Routing to Large Reasoning Models*
    (arXiv 2601.00823); docs/model.md states every equation and this contract in full.

    ## Action Space

    ``Discrete(1 + M * B)``: ``0`` defers the task to the next slot; ``1 + i * B + k`` runs it on model ``i``
    with budget ``k``. Masks are in ``info["action_mask"]`` and ``action_masks()`` (both bool): defer is
    masked when the task has no slack left, an option when its worst-case tokens exceed the model's
    capacity left in the slot. ``env.action_space.sample()`` with no mask returns a valid action (see
    :class:`lrm_gym.envs.spaces.RoutingActions`).

    Every action of the space is legal, as in Gymnasium's own envs with masks: a masked action runs the
    lowest-numbered valid action instead (defer while the task has slack, else the first option that can run
    it: :func:`lrm_gym.envs.compat.fallback_actions`), ``masked_action_penalty`` (default ``0``) is subtracted
    from the reward, and ``info["masked_action"]`` (bool) and ``info["executed_action"]`` (the action that
    ran) say so. The penalty is not one of the ``reward_*`` components nor in ``totals``. With
    ``strict=True`` a masked action raises :class:`~lrm_gym.core.dynamics.InvalidActionError` (a
    ``ValueError``) and changes nothing. Actions outside the space always raise.

    ## Observation Space

    A ``Dict`` of 1-D float32 ``Box`` spaces with finite bounds (``observation="dict"``, the default), or with
    ``observation="flat"`` one float32 ``Box``, the same values flattened as :func:`gymnasium.spaces.flatten`
    (and :class:`~lrm_gym.envs.wrappers.FlattenRoutingObservation`) lays them out: ``energy``, ``options``,
    ``queue``, ``task``; ``env.unwrapped.observation_slices`` names its parts
    (:func:`lrm_gym.envs.compat.observation_slices`).

    | key       | content                                                                                       |
    |-----------|-----------------------------------------------------------------------------------------------|
    | `task`    | one-hot class, difficulty estimate, prompt kilotokens, slack slots, age slots                 |
    | `options` | per option: expected energy, energy std, expected accuracy, capacity left fraction, feasible |
    | `energy`  | baseline this slot, demand committed this slot, storage, supply forecast, price, sin/cos hour |
    | `queue`   | tasks queued, tasks left to decide this slot, a preview of the next tasks                     |

    Task energies are in units of the reference policy's mean task energy and slot energies in units of
    the critical slot energy (``env.unwrapped.params``); see :mod:`lrm_gym.core.observation`.

    ## Rewards

    At dispatch, the class ``value`` of a correct answer (``reward.quality: sampled``) or ``value`` times
    P(correct) (``expected``). At each slot close, minus ``auxiliary_per_kwh`` per kWh of auxiliary energy,
    minus ``waste_per_kwh`` per kWh of wasted baseline, minus ``waiting_per_task`` per deferred task; minus
    ``drop`` per dropped task. Each component is in ``info`` (``reward_quality``, ``reward_auxiliary``,
    ``reward_waste``, ``reward_waiting``, ``reward_drop``).

    ## Starting State

    Slot 0 of a fresh supply path; storage at ``initial_fraction``; an empty queue that slot 0's arrivals
    fill.

    ## Episode End

    1. Truncation: ``horizon_slots`` slots have closed (the env's own clock). There is no termination.

    ## Information

    Every step returns the same keys, summed over the slots closed during the step: ``slot``,
    ``slots_closed``, ``baseline_j``, ``demand_j``, ``auxiliary_j``, ``waste_j``, ``charge_j``,
    ``discharge_j``, ``storage_j`` (level), ``tasks_arrived``, ``tasks_dispatched``, ``tasks_correct``,
    ``tasks_dropped``, ``tasks_deferred``, ``wait_slots``, ``auxiliary_cost``, ``auxiliary_carbon_g``; the
    decided task's ``task_option`` (-1 for defer), ``task_energy_j``, ``task_tokens``, ``task_correct``; the
    reward components; ``action_mask``; ``masked_action`` and ``executed_action`` (``False`` and ``-1`` after
    a reset); ``cost``, this step's constraint cost (see Arguments; a ``numpy.float64``); and ``totals``, the
    running episode totals of the same counters plus ``tasks_queued`` and ``cost`` (on the last step, the
    episode totals).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import lrm_gym
    >>> env = gym.make("lrm_gym/EnergyRouting-v2", scenario="volatile", overrides={"supply": {"provisioning": 1.1}})
    >>> obs, info = env.reset(seed=0)
    >>> sorted(obs)
    ['energy', 'options', 'queue', 'task']

    ```

    ``scenario`` is a shipped scenario name (``lrm_gym.scenarios.scenario_names()``), a YAML path or a
    ``ScenarioConfig``; ``overrides`` a nested dict merged into it. Invalid values raise ``ValueError`` naming
    the key path (and the bound, for a size or magnitude over its limit); a ``scenario`` of another type
    raises ``TypeError``. ``reset(seed=s)`` takes ``s`` in ``[0, 2**64 - 1]``.

    ``observation``: ``"dict"`` (default) or ``"flat"``. ``strict``: ``True`` makes a masked action an error
    (default ``False``). ``masked_action_penalty``: subtracted from the reward of a step whose action was
    masked (default ``0.0``, so returns are the model's). ``cost``: what ``info["cost"]`` measures,
    ``"auxiliary_kwh"`` (default: auxiliary energy bought, kWh), ``"carbon_kg"`` (its carbon, kg) or
    ``"waste_kwh"`` (baseline energy wasted, kWh), summed over the slots closed during the step.

    ## Version History

    * v2: An arrival rejected by a full queue takes its random draws like an accepted one, so the random
      stream, and with it every later arrival, forecast and outcome, no longer depends on how full the router
      kept the queue (an episode's exogenous record is a function of the seed alone). Episodes in which the
      queue never overflows are bit-identical to v1; episodes with an overflow continue differently. Also
      new in v2 (not changing any v1 trajectory of valid actions): every action of the action space is legal
      by default (a masked action runs the lowest valid action, flagged in ``info``; ``strict=True`` restores
      the error), masks in ``info`` are bool (were int8), ``info`` gains ``masked_action``,
      ``executed_action`` and ``cost``, and the make kwargs ``observation``, ``strict``,
      ``masked_action_penalty`` and ``cost``. Every id has a slot-level twin ``lrm_gym/EnergyDispatch-<Name>-v2``
      (:class:`~lrm_gym.envs.dispatch.EnergyDispatchEnv`, docs/model.md section 18) that runs this version's
      transitions one slot per step; this env's episodes are unchanged by it.
    * v1: The simulator core is compiled and every env draws from its own random stream (xoshiro256**,
      :mod:`lrm_gym.core.rng`). Same model, spaces, rewards and distributions as v0, but a seed gives other
      episodes than it did in v0, so results are not comparable seed for seed. Vector envs seed sub-env ``i``
      with ``s + i``.
    * v0: Initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}  # noqa: RUF012 (Gymnasium convention)

    def __init__(
        self,
        scenario: str | Path | ScenarioConfig = "critical",
        overrides: Mapping[str, Any] | None = None,
        render_mode: str | None = None,
        *,
        observation: str = "dict",
        strict: bool = False,
        masked_action_penalty: float = 0.0,
        cost: str = "auxiliary_kwh",
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.client_options: ClientOptions = client_options(observation, strict, masked_action_penalty, cost)
        self.scenario: ScenarioConfig = load_scenario(scenario, overrides)
        """The validated scenario this env simulates (``params`` is derived from it)."""
        self.params: Params = build_params(self.scenario)
        self.render_mode = render_mode
        self.action_space: RoutingActions = RoutingActions(1 + self.params.n_options, mask_source=self.action_masks)
        dict_space = observation_space(self.params)
        check_derived(self.params, dict_space)
        self._layout = observation_layout(self.params)
        self._flat_index = flat_index(dict_space, self._layout.parts) if observation == "flat" else None
        self.observation_space = spaces.flatten_space(dict_space) if observation == "flat" else dict_space  # type: ignore[assignment]
        self.observation_slices: dict[str, slice] = observation_slices(self.params)
        self._state = State.allocate(self.params, 1)
        self._rows = np.zeros(1, np.int64)
        self._action = np.zeros(1, np.int64)
        self._needs_reset = True
        self._seeded = False
        self._history: deque[SlotRecord] = deque(maxlen=256)
        self._last: tuple[dict[str, np.ndarray], dict[str, Any]] | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray] | np.ndarray, dict[str, Any]]:
        if seed is not None:
            seed = check_seed(seed)
        super().reset(seed=seed)
        if options:
            raise ValueError(f"reset options are not supported, got keys {sorted(options)}")
        # The env's random stream starts from the seed, or from Gymnasium's entropy-seeded np_random when none
        # was ever given; reset(seed=None) later continues the stream.
        if seed is not None:
            dynamics.seed_rows(self._state, self._rows, [seed])
        elif not self._seeded:
            dynamics.seed_rows_from(self.np_random, self._state, self._rows)
        self._seeded = True
        obs = np.empty((1, self._layout.size), np.float32)
        dynamics.reset_rows(self.params, self._state, self._rows, obs)
        self._needs_reset = False
        self._history.clear()
        return self._record(obs, False, -1)

    def step(self, action: Any) -> tuple[dict[str, np.ndarray] | np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._needs_reset:
            raise RuntimeError("call reset() before step(), and again after an episode is truncated")
        value = _as_action(action, int(self.action_space.n))
        # Under strict, a masked action reaches the kernel, which raises and changes nothing.
        masked = not self.client_options.strict and not self._state.mask[0, value]
        if masked:
            value = int(fallback_actions(self._state.mask[0]))
        self._action[0] = value
        obs = np.empty((1, self._layout.size), np.float32)
        reward = float(dynamics.step_rows(self.params, self._state, self._rows, self._action, None, obs)[0])
        if masked:
            reward -= self.client_options.masked_action_penalty
        truncated = bool(self._state.ints[0, _TRUNCATED])
        self._needs_reset = truncated
        obs_out, info = self._record(obs, masked, value)
        return obs_out, reward, False, truncated, info

    def action_masks(self) -> np.ndarray:
        """Boolean mask of valid actions for the current task (sb3-contrib MaskablePPO convention)."""
        return self._state.mask[0].copy()

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'")
            return None
        if self._last is None:
            raise RuntimeError("call reset() before render()")
        if self.render_mode == "ansi":
            return text_dashboard(self.params, self._last[1], self._last[0])
        return energy_panel(self._history, self.params)

    def _record(
        self, batch: np.ndarray, masked: bool, executed: int
    ) -> tuple[dict[str, np.ndarray] | np.ndarray, dict[str, Any]]:
        """The observation (Dict: views of the kernel's row; flat: a copy in flatten order) and info; the Dict
        form and info are kept for rendering when it is on."""
        obs = self._layout.split(batch[0])
        info = step_info(self._state, 0, self._state.mask[0])
        info["masked_action"] = masked
        info["executed_action"] = executed
        # numpy floats (still ``float``s): TorchRL's info reader needs a ``dtype``
        scale = self.client_options.cost_scale
        info["cost"] = np.float64(info[self.client_options.cost_counter] * scale)
        info["totals"]["cost"] = np.float64(info["totals"][self.client_options.cost_counter] * scale)
        if self.render_mode is not None:
            if info["slots_closed"]:
                self._history.append(
                    SlotRecord(
                        info["baseline_j"], info["demand_j"], info["auxiliary_j"], info["waste_j"], info["storage_j"]
                    )
                )
            self._last = (obs, info)
        if self._flat_index is not None:
            return batch[0, self._flat_index], info
        return obs, info


def step_info(state: State, row: int, mask: np.ndarray) -> dict[str, Any]:
    """The ``info`` dict of one env: step counters, the decided task, the mask and running totals.

    Built from one ``tolist()`` per state array: this runs on every step, where per-item numpy reads cost
    more than the compiled transition.
    """
    ints, floats = state.ints[row].tolist(), state.floats[row].tolist()
    info: dict[str, Any] = {"slot": ints[_SLOT]}
    info.update(zip(COUNTERS, _counter_values(state.step[row]), strict=True))
    info["storage_j"] = floats[_STORAGE_J]
    info["task_option"] = ints[_TASK_OPTION]
    info["task_energy_j"] = floats[_TASK_ENERGY_J]
    info["task_tokens"] = int(floats[_TASK_TOKENS])
    info["task_correct"] = floats[_TASK_CORRECT] > 0
    info["action_mask"] = mask.copy()
    totals = dict(zip(COUNTERS, _counter_values(state.totals[row]), strict=True))
    totals["tasks_queued"] = queued_tasks(
        ints[_TRUNCATED], ints[_Q_LEN], ints[_N_PRESENT], ints[_HEAD], ints[_SLOT_DEFERRED]
    )
    info["totals"] = totals
    return info


def _counter_values(values: np.ndarray) -> list[float | int]:
    """Counters as Python numbers, the integer ones as ``int``."""
    out = values.tolist()
    for i in INTEGER_COUNTERS:
        out[i] = int(out[i])
    return out


def _as_action(action: Any, n: int) -> int:
    """Accept a Python or numpy integer (or a 0-d / 1-element integer array); anything else is an error.

    The range and the mask are checked by the kernel.
    """
    if type(action) is int or isinstance(action, np.integer):  # the common case, without numpy conversions
        value = int(action)
    else:
        array = np.asarray(action)
        if array.size != 1 or array.dtype.kind not in "iu":
            raise InvalidActionError(f"action must be one integer in Discrete({n}), got {action!r}")
        value = int(array.reshape(-1)[0])
    if not 0 <= value < n:
        raise InvalidActionError(f"action {value} outside Discrete({n})")
    return value
