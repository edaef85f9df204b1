"""The slot-level energy dispatch environment: one step decides every task of a slot (docs/model.md section 18)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from lrm_gym.core import slot_dynamics
from lrm_gym.core.observation import observation_space
from lrm_gym.core.params import Params, build_params
from lrm_gym.core.slot_dynamics import SlotState, SlotTables
from lrm_gym.core.slot_layout import slot_observation_slices, slot_observation_space
from lrm_gym.core.state import COUNTERS, INTEGER_COUNTERS, IntField, State, queued_tasks
from lrm_gym.envs.checks import check_derived, check_seed
from lrm_gym.envs.compat import COST_KINDS
from lrm_gym.envs.render import SlotRecord, energy_panel
from lrm_gym.scenarios.loader import load_scenario
from lrm_gym.scenarios.schema import ScenarioConfig

_FLOAT_COUNTERS = [i for i in range(len(COUNTERS)) if i not in INTEGER_COUNTERS]


class DispatchCore:
    """The state and arrays of ``n`` slot-level envs, shared by :class:`EnergyDispatchEnv` (``n = 1``) and
    :class:`~lrm_gym.envs.dispatch_vector.EnergyDispatchVectorEnv`: checks, seeding, the compiled calls and the
    info arrays."""

    def __init__(
        self, n: int, scenario: str | Path | ScenarioConfig, overrides: Mapping[str, Any] | None, action: str, cost: str
    ) -> None:
        self.mode = slot_dynamics.check_mode(action)
        if cost not in COST_KINDS:
            raise ValueError(f"cost must be one of {list(COST_KINDS)}, got {cost!r}")
        self.cost_counter, self.cost_scale = COST_KINDS[cost]
        self.scenario: ScenarioConfig = load_scenario(scenario, overrides)
        self.params: Params = build_params(self.scenario)
        check_derived(self.params, observation_space(self.params))
        self.tables: SlotTables = slot_dynamics.slot_tables(self.params, self.mode)
        self.action_size = slot_dynamics.action_size(self.params, self.mode)
        self.single_observation_space = slot_observation_space(self.params)
        self.n = n
        self.state = State.allocate(self.params, n)
        self.slots = SlotState.allocate(n)
        self.rows = np.arange(n)
        self.seeded = False

    def seed(self, seeds: np.ndarray | None, generator: np.random.Generator) -> None:
        """Seed every row (``seeds``, uint64), or from ``generator`` when none was ever given."""
        if seeds is None:
            if self.seeded:
                return
            seeds = np.uint64(int(generator.integers(2**62))) + self.rows.astype(np.uint64)
        slot_dynamics.seed_slot_rows(self.state, self.slots, self.rows, seeds)
        self.seeded = True

    def reset(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Start new episodes in ``rows`` (all by default); their first observations ``(len(rows), size)``."""
        rows = self.rows if rows is None else rows
        obs = np.empty((rows.size, self.single_observation_space.shape[0]), np.float32)
        slot_dynamics.reset_slot_rows(self.params, self.tables, self.state, self.slots, rows, obs)
        return obs

    def check_actions(self, actions: Any) -> np.ndarray:
        """``actions`` as a float64 ``(n, action_size)`` array, or a ValueError naming what is wrong (nothing is
        clipped: a value outside ``[-1, 1]`` or not finite is an error)."""
        shape = (self.n, self.action_size)
        try:
            array = np.asarray(actions, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"action must be an array of numbers of shape {shape[1:]}, got {actions!r}") from None
        if array.size != self.n * self.action_size:
            want = shape if self.n > 1 else shape[1:]
            raise ValueError(f"action must have shape {want} ({self.mode} action), got shape {array.shape}")
        array = array.reshape(shape)
        if not (array.min() >= -1.0 and array.max() <= 1.0):  # NaN fails both comparisons
            bad = ~np.isfinite(array) | (array < -1.0) | (array > 1.0)
            row, col = (int(i) for i in np.argwhere(bad)[0])
            where = f"[{row}, {col}]" if self.n > 1 else f"[{col}]"
            raise ValueError(f"action{where} = {float(array[row, col])!r} is outside [-1, 1]")
        return np.ascontiguousarray(array)

    def step(self, actions: np.ndarray, resetting: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        obs = np.empty((self.n, self.single_observation_space.shape[0]), np.float32)
        truncated = np.empty(self.n, bool)
        rewards = slot_dynamics.step_slot_rows(
            self.params, self.tables, self.state, self.slots, self.rows, actions, obs, truncated, resetting
        )
        return rewards, obs, truncated

    def info_arrays(self) -> dict[str, Any]:
        """Every info key as an array over rows (docs/model.md section 18), ``totals`` a dict of such arrays."""
        state, slots = self.state, self.slots
        info: dict[str, Any] = {"slot": state.slot.copy()}
        info.update(_counters(slots.slot_step))
        info["storage_j"] = state.storage_j.copy()
        info["decisions"] = slots.decisions.copy()
        info["cost"] = info[self.cost_counter] * self.cost_scale
        totals = _counters(state.totals)
        ints = state.ints
        totals["tasks_queued"] = np.where(
            ints[:, IntField.TRUNCATED] != 0,
            ints[:, IntField.Q_LEN],
            ints[:, IntField.N_PRESENT] - ints[:, IntField.HEAD] + ints[:, IntField.SLOT_DEFERRED],
        )
        totals["cost"] = totals[self.cost_counter] * self.cost_scale
        info["totals"] = totals
        return info


def _counters(values: np.ndarray) -> dict[str, np.ndarray]:
    out = {COUNTERS[i]: values[:, i].copy() for i in _FLOAT_COUNTERS}
    out.update({COUNTERS[i]: values[:, i].astype(np.int64) for i in INTEGER_COUNTERS})
    return {name: out[name] for name in COUNTERS}


def _python_counters(values: np.ndarray) -> dict[str, float | int]:
    out = values.tolist()
    for i in INTEGER_COUNTERS:
        out[i] = int(out[i])
    return dict(zip(COUNTERS, out, strict=True))


def row_info(core: DispatchCore, row: int) -> dict[str, Any]:
    """Row ``row``'s info (the keys of :meth:`DispatchCore.info_arrays`) as Python numbers, ``cost`` as a
    ``numpy.float64``: built from one ``tolist()`` per array, as the per-task env's info is (it runs every step)."""
    state, slots = core.state, core.slots
    ints = state.ints[row].tolist()
    info: dict[str, Any] = {"slot": ints[IntField.SLOT]}
    info.update(_python_counters(slots.slot_step[row]))
    info["storage_j"] = float(state.storage_j[row])
    info["decisions"] = int(slots.decisions[row])
    info["cost"] = np.float64(info[core.cost_counter] * core.cost_scale)
    totals: dict[str, Any] = _python_counters(state.totals[row])
    totals["tasks_queued"] = queued_tasks(
        ints[IntField.TRUNCATED], ints[IntField.Q_LEN], ints[IntField.N_PRESENT], ints[IntField.HEAD],
        ints[IntField.SLOT_DEFERRED],
    )  # fmt: skip
    totals["cost"] = np.float64(totals[core.cost_counter] * core.cost_scale)
    info["totals"] = totals
    return info


class EnergyDispatchEnv(gym.Env[np.ndarray, np.ndarray]):
    """
    ## Description

    The energy routing model of :class:`~lrm_gym.envs.energy_routing.EnergyRoutingEnv` (docs/model.md sections
    1-11), decided one **slot** per step instead of one task per step. The action sets how the slot's tasks
    are routed; a compiled rule turns it into per-task choices (defer, or a model with a reasoning budget)
    that the same per-task transitions apply, task by task, until the slot closes. Same scenarios, random
    streams, energy accounting and reward as the per-task env. docs/model.md section 18 is the full contract.

    ## Action Space

    A ``Box(-1, 1)`` vector whose meaning the make kwarg ``action`` sets (:mod:`lrm_gym.core.slot_dynamics`):

    - ``"allowance"`` (default; 3 values): ``offset`` (``x[0]``, in units of the critical slot energy), storage
      ``reserve`` (``(x[1] + 1) / 2``, a fraction of capacity) and ``gain`` (``(x[2] + 1) / 2``, the fraction
      of the storage above the reserve spendable per slot). Each task, in queue order, gets the energy
      allowance ``(baseline + gain (storage - reserve capacity) + offset b* - committed) / tasks left`` and
      runs on the most accurate valid option that fits it; when none fits it is deferred (if it has slack and
      the forecast's next slot is richer) or runs on its cheapest valid option. ``(0, 0, -0.75)`` is the
      ``SupplyTracking`` policy with its defaults.
    - ``"class-routing"`` (``C * (1 + O)`` values) or ``"type-routing"`` (``R * (1 + O)``, ``R`` decision types,
      ``env.unwrapped.routing_labels``): per task class or decision type, weights ``(x + 1) / 2`` over (defer,
      option 0, ..., option O-1); each task draws from its row (defer only with slack left; a masked option is
      replaced by the valid option closest in expected energy), one uniform per decision from the env's
      policy stream.

    Actions are never clipped: a value outside ``[-1, 1]``, not finite, or of another size raises
    ``ValueError``.

    ## Observation Space

    One float32 ``Box`` (:mod:`lrm_gym.core.slot_layout`; ``env.unwrapped.observation_slices`` names its
    parts): baseline, storage, forecast, price, sin/cos hour of day and episode progress; per class, the tasks
    to decide this slot, how many of them were deferred before, their mean difficulty estimate; and the
    expected slot demand if every task ran its cheapest, reference or most accurate option. Slot energies are
    in units of the critical slot energy.

    ## Rewards

    The per-task env's rewards summed over the slot's decisions (docs/model.md section 11).

    ## Starting State

    As the per-task env: slot 0 of a fresh supply path, its arrivals queued, at its first decision.

    ## Episode End

    Truncation after ``horizon_slots`` slots; no termination. A slot with no decision to make closes inside
    the step before it, as in the per-task env (``info["slots_closed"]`` may exceed 1).

    ## Information

    The per-task env's counters summed over the step (``slot``, ``slots_closed``, ``baseline_j``,
    ``demand_j``, ``auxiliary_j``, ``waste_j``, ``charge_j``, ``discharge_j``, ``tasks_arrived``,
    ``tasks_dispatched``, ``tasks_correct``, ``tasks_dropped``, ``tasks_deferred``, ``wait_slots``,
    ``auxiliary_cost``, ``auxiliary_carbon_g``, the ``reward_*`` components), ``storage_j`` (level),
    ``decisions`` (per-task decisions made), ``cost`` (make kwarg ``cost``) and ``totals`` (running episode
    totals, with ``tasks_queued`` and ``cost``).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import lrm_gym
    >>> env = gym.make("lrm_gym/EnergyDispatch-Volatile-v2")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step([0.0, 0.0, -0.75])  # SupplyTracking's rule
    >>> info["slots_closed"] >= 1
    True

    ```

    ``scenario``, ``overrides``: as the per-task env. ``action``: ``"allowance"``, ``"class-routing"`` or
    ``"type-routing"``. ``cost``: ``"auxiliary_kwh"`` (default), ``"carbon_kg"`` or ``"waste_kwh"``.
    ``render_mode``: ``"rgb_array"`` (the per-task env's energy-balance panel, one bar per slot step).
    ``reset(seed=s)`` seeds the exogenous stream with ``s`` (the per-task env's episode) and the policy stream
    with ``s ^ POLICY_STREAM_KEY``.

    ## Version History

    * v2: Initial version. The slot-level ids carry the version of the per-task core they run (the v2
      transitions and random streams); there was no v0 or v1 of this env.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}  # noqa: RUF012 (Gymnasium convention)

    def __init__(
        self,
        scenario: str | Path | ScenarioConfig = "critical",
        overrides: Mapping[str, Any] | None = None,
        render_mode: str | None = None,
        *,
        action: str = "allowance",
        cost: str = "auxiliary_kwh",
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self._core = DispatchCore(1, scenario, overrides, action, cost)
        self.scenario: ScenarioConfig = self._core.scenario
        """The validated scenario this env simulates (``params`` is derived from it)."""
        self.params: Params = self._core.params
        self.action_mode: str = self._core.mode
        self.routing_labels: tuple[str, ...] = (
            () if action == "allowance" else slot_dynamics.routing_rows(self.params, action).labels
        )
        """The label of each routing row (``"easy"``, or ``"easy/m=2"`` for a decision type); empty for allowance."""
        self.render_mode = render_mode
        self.action_space = spaces.Box(-1.0, 1.0, (self._core.action_size,), np.float32)
        self.observation_space = self._core.single_observation_space
        self.observation_slices: dict[str, slice] = slot_observation_slices(self.params)
        self._needs_reset = True
        self._history: deque[SlotRecord] = deque(maxlen=256)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        if seed is not None:
            seed = check_seed(seed)
        super().reset(seed=seed)
        if options:
            raise ValueError(f"reset options are not supported, got keys {sorted(options)}")
        self._core.seed(None if seed is None else np.array([seed], np.uint64), self.np_random)
        obs = self._core.reset()
        self._needs_reset = False
        self._history.clear()
        return obs[0], self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._needs_reset:
            raise RuntimeError("call reset() before step(), and again after an episode is truncated")
        actions = self._core.check_actions(action)
        rewards, obs, truncated = self._core.step(actions, None)
        self._needs_reset = bool(truncated[0])
        info = self._info()
        if self.render_mode is not None:
            self._history.append(
                SlotRecord(*(info[k] for k in ("baseline_j", "demand_j", "auxiliary_j", "waste_j", "storage_j")))
            )
        return obs[0], float(rewards[0]), False, bool(truncated[0]), info

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        return energy_panel(self._history, self.params)

    def _info(self) -> dict[str, Any]:
        return row_info(self._core, 0)
