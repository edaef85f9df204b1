"""A routing plan for a recorded episode, what it earns (computed exactly as the env does), and its masks.

A plan gives each task of an :class:`~agents.headroom.record.EpisodeRecord` one of: an option and the slot it
runs in (its arrival slot up to arrival plus slack), ``LEAVE`` (still deferred when the episode ends; only for
tasks whose slack reaches past the horizon) or ``DROP`` (dropped at the end of its slack, as the env does when
no option fits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.headroom import core_access
from agents.headroom.record import EpisodeRecord
from lrm_gym.core.params import JOULES_PER_KWH, Params

LEAVE = -1
DROP = -2


@dataclass(frozen=True)
class TaskOutcomes:
    """Per task and option, what running it gives: ``(N, O)`` arrays, exactly as the env's dispatch samples them."""

    tokens: np.ndarray
    energy_j: np.ndarray
    quality: np.ndarray  # the reward at dispatch: value * correct, or value * P(correct) under `expected`
    worst_tokens: np.ndarray  # the tokens the mask checks


def task_outcomes(params: Params, record: EpisodeRecord, expected: bool = False) -> TaskOutcomes:
    """Hindsight outcomes from the record's uniforms; with ``expected``, the option means instead (the
    information of an operator who knows the arrivals but not the draws). Refuses ``task_energy: batch``
    scenarios (:func:`~agents.headroom.core_access.require_additive_energy`)."""
    core_access.require_additive_energy(params)
    cls, m = record.task_class, record.task_difficulty
    model = params.option_model
    jpt = params.model_joules_per_token[model][None, :]
    prompt = record.task_prompt_tokens[:, None]
    worst = prompt + params.model_tokens_per_step[model][None, :] * params.option_cap[None, :]
    value = params.class_value[cls][:, None]
    accuracy = params.accuracy[cls, m]
    if expected:
        # the option's mean at the task's own prompt (known on arrival): the table's mean is at the class mean
        energy = params.energy_mean_j[cls, m] + jpt * (prompt - params.class_prompt_tokens[cls][:, None])
        tokens = energy / jpt
        quality = value * accuracy
    else:
        steps, correct = core_access.outcomes(params, m, record.task_u_skill, record.task_u_steps)
        tokens = prompt + params.model_tokens_per_step[model][None, :] * steps
        energy = tokens * jpt
        quality = value * (accuracy if params.reward_expected_quality else correct.astype(np.float64))
    return TaskOutcomes(tokens, energy, quality, worst)


@dataclass(frozen=True)
class Plan:
    option: np.ndarray  # (N,) option index, LEAVE or DROP
    slot: np.ndarray  # (N,) dispatch (or drop) slot; -1 for LEAVE


@dataclass(frozen=True)
class PlanValue:
    """Reward components of a plan over the whole episode (reset-time terms included, like ``info["totals"]``)."""

    quality: float
    auxiliary: float
    waste: float
    waiting: float
    drop: float
    auxiliary_j: float
    waste_j: float
    demand_j: np.ndarray  # (T,)
    storage_j: np.ndarray  # (T + 1,) level at each slot's start and after the last

    @property
    def total(self) -> float:
        return self.quality + self.auxiliary + self.waste + self.waiting + self.drop


def check_plan(params: Params, record: EpisodeRecord, plan: Plan) -> None:
    """Raise ``ValueError`` naming the first task whose plan the env could not follow (slot outside its window)."""
    horizon = params.horizon_slots
    slack = params.class_slack[record.task_class]
    for j in range(record.n_tasks):
        a, o, t = int(record.task_slot[j]), int(plan.option[j]), int(plan.slot[j])
        if o == LEAVE:
            if a + slack[j] < horizon:
                raise ValueError(f"task {j}: LEAVE needs slack past the horizon (arrival {a}, slack {slack[j]})")
        elif o == DROP:
            if t != a + slack[j] or t >= horizon:
                raise ValueError(f"task {j}: a drop happens at the end of its slack (slot {a + slack[j]}), got {t}")
        elif not (a <= t <= min(a + slack[j], horizon - 1)) or not 0 <= o < params.n_options:
            raise ValueError(f"task {j}: option {o} at slot {t} outside arrival {a} + slack {slack[j]}")


def plan_value(params: Params, record: EpisodeRecord, plan: Plan, outcomes: TaskOutcomes | None = None) -> PlanValue:
    """What the env pays for ``plan``: the same sums in the same order and the env's own slot balance."""
    check_plan(params, record, plan)
    out = task_outcomes(params, record) if outcomes is None else outcomes
    horizon = params.horizon_slots
    slack = params.class_slack[record.task_class]
    dispatched = plan.option >= 0
    rows = np.flatnonzero(dispatched)
    quality = float(np.sum(out.quality[rows, plan.option[rows]]))
    deferrals = np.where(
        plan.option == LEAVE,
        horizon - record.task_slot,
        np.where(plan.option == DROP, slack, plan.slot - record.task_slot),
    )
    waiting = -params.reward_waiting_per_task * float(deferrals.sum())
    drop = -params.reward_drop * float(np.sum(plan.option == DROP))
    task_j = np.zeros(horizon)
    for j in rows:  # in queue order, as the env accumulates a slot's energy
        task_j[plan.slot[j]] += out.energy_j[j, plan.option[j]]
    level = params.storage.initial_j
    storage = [level]
    aux_j = waste_j = 0.0
    aux_r = waste_r = 0.0
    demand = task_j + params.idle_j
    for t in range(horizon):
        _, _, auxiliary, waste, level = core_access.slot_balance(
            params, float(record.supply_j[t]), float(demand[t]), level
        )
        storage.append(level)
        aux_j += auxiliary
        waste_j += waste
        aux_r -= record.auxiliary_per_kwh[t] * (auxiliary / JOULES_PER_KWH)
        waste_r -= params.reward_waste_per_kwh * (waste / JOULES_PER_KWH)
    return PlanValue(quality, aux_r, waste_r, waiting, drop, aux_j, waste_j, demand, np.array(storage))


def mask_violations(params: Params, record: EpisodeRecord, plan: Plan, out: TaskOutcomes) -> list[tuple[int, int]]:
    """(slot, model) pairs where some planned dispatch would be masked: its worst-case tokens exceed the model's
    capacity left after the tasks dispatched before it in the slot (queue order)."""
    capacity = params.model_capacity_tokens
    used: dict[tuple[int, int], float] = {}
    bad: set[tuple[int, int]] = set()
    for j in np.flatnonzero(plan.option >= 0):
        o = int(plan.option[j])
        key = (int(plan.slot[j]), int(params.option_model[o]))
        before = used.get(key, 0.0)
        if out.worst_tokens[j, o] > capacity[key[1]] - before:
            bad.add(key)
        used[key] = before + out.tokens[j, o]
    return sorted(bad)
