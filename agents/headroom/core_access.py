"""Every read of the simulator core's internals that the headroom tools need, in one place.

The hindsight optimum needs what the env does not publish: the supply path drawn at reset, the queue's
task records with their outcome uniforms (``u_skill``, ``u_steps``, docs/model.md section 8) and the exact
slot balance rule. Keeping every such access here means a change of the core's layout is re-pointed in
this one module.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from lrm_gym.core.outcomes import sample_steps
from lrm_gym.core.params import Params
from lrm_gym.core.state import Q, State
from lrm_gym.core.storage import balance_slot


@dataclass(frozen=True)
class QueuedTasks:
    """The tasks present in the current slot (queue order), one entry per task."""

    cls: np.ndarray  # int
    difficulty: np.ndarray  # int, the true m
    estimate: np.ndarray  # float, what the router sees
    age: np.ndarray  # int, slots already waited (0 = arrived this slot)
    slack: np.ndarray  # int, deferrals left
    u_skill: np.ndarray
    u_steps: np.ndarray
    prompt_tokens: np.ndarray  # float, each task's prompt length (its class's, or drawn from a request trace)


def require_additive_energy(params: Params) -> None:
    """Refuse a scenario whose slot energy is not the sum of its tasks' energies (``task_energy: batch``).

    The hindsight program and a plan's exact value charge each task its own energy at dispatch; with batch
    curves a task's energy depends on what else its model serves in the slot (docs/model.md section 10), so
    the program's optimum would be the optimum of another model, not of the env's.
    """
    if params.batch_energy:
        raise ValueError(
            "the headroom tools need additive task energy, but this scenario sets task_energy: batch (a slot's "
            "energy per model follows its measured batch curve): its hindsight optimum is not this program's; "
            "use the scenario with task_energy: additive (overrides={'task_energy': 'additive'})"
        )


def _state(env: gym.Env) -> State:
    state = getattr(env.unwrapped, "_state", None)
    if not isinstance(state, State):
        raise ValueError(f"expected an lrm_gym EnergyRoutingEnv, got {env!r}")
    return state


def params_of(env: gym.Env) -> Params:
    params = getattr(env.unwrapped, "params", None)
    if not isinstance(params, Params):
        raise ValueError(f"expected an lrm_gym EnergyRoutingEnv, got {env!r}")
    return params


def supply_path(env: gym.Env) -> np.ndarray:
    """The baseline energy per slot (J) drawn at reset, horizon plus forecast horizon long (a copy)."""
    return _state(env).supply_path[0].copy()


def auxiliary_weights(env: gym.Env) -> np.ndarray:
    """The reward per kWh of auxiliary energy in each slot of the current episode (docs/model.md section 11):
    ``auxiliary_per_kwh``, plus the carbon and price weights at the slot's measured carbon and price."""
    from lrm_gym.core.grid import episode_auxiliary_weights

    return episode_auxiliary_weights(params_of(env), _state(env))


def forecast(env: gym.Env) -> np.ndarray:
    """The forecast (J) the router sees in the current slot (a copy)."""
    return _state(env).forecast_j[0].copy()


def present_tasks(env: gym.Env) -> QueuedTasks:
    """The tasks present in the current slot, in the order the env decides them."""
    state = _state(env)
    tasks = state.queue[0, : int(state.n_present[0])]
    return QueuedTasks(
        cls=tasks[:, Q["class"]].astype(np.int64),
        difficulty=tasks[:, Q["difficulty"]].astype(np.int64),
        estimate=tasks[:, Q["estimate"]].copy(),
        age=tasks[:, Q["age"]].astype(np.int64),
        slack=tasks[:, Q["slack"]].astype(np.int64),
        u_skill=tasks[:, Q["u_skill"]].copy(),
        u_steps=tasks[:, Q["u_steps"]].copy(),
        prompt_tokens=tasks[:, Q["prompt_tokens"]].copy(),
    )


def head_task_draws(env: gym.Env) -> tuple[float, float]:
    """``(u_skill, u_steps)`` of the task the env asks about now: they identify it within an episode."""
    state = _state(env)
    task = state.queue[0, int(state.head[0])]
    return float(task[Q["u_skill"]]), float(task[Q["u_steps"]])


def outcomes(
    params: Params, difficulty: np.ndarray, u_skill: np.ndarray, u_steps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Steps used and correctness ``(N, O)`` of each task under every option, exactly as a dispatch samples them."""
    model = params.option_model[None, :]
    cap = params.option_cap[None, :]
    return sample_steps(
        params.step_cdf, params.gamma_pow, model, cap, difficulty[:, None], u_skill[:, None], u_steps[:, None]
    )


def slot_balance(params: Params, baseline_j: float, demand_j: float, storage_j: float) -> tuple[float, ...]:
    """The env's slot close (docs/model.md section 4): ``(charge, discharge, auxiliary, waste, level after)``."""
    s = params.storage
    return balance_slot(
        baseline_j,
        demand_j,
        storage_j,
        s.capacity_j,
        s.charge_efficiency,
        s.discharge_efficiency,
        s.max_charge_j,
        s.max_discharge_j,
    )


def mean_supply_j(params: Params) -> np.ndarray:
    """What an operator knows of the supply before seeing it: its mean per slot (J), horizon plus forecast long.

    Solar: the mean daily shape (``mean * pi * shape(t)``, docs/model.md section 2); a trace with
    ``supply.trace_start``: the mean over its candidate windows (whole days of a season have a daily shape);
    every other kind: the mean (a trace from a uniformly random row has a flat mean over starts).
    """
    from lrm_gym.core.supply import solar_shape

    length = params.horizon_slots + params.supply.forecast_horizon
    if params.supply.kind == "solar":
        return params.supply.mean_j * np.pi * solar_shape(params.start_hour, params.slot_seconds, length)
    starts = params.supply.trace_starts
    if params.supply.kind == "trace" and starts.size > 0:
        rows = params.kernel.supply_shape[:length].astype(np.int64)  # the row each slot holds
        return params.kernel.trace[starts[:, None] + rows[None, :]].mean(axis=0)
    return np.full(length, params.supply.mean_j)
