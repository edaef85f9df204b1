"""The exogenous record of an episode: everything in it that the router's actions cannot change.

For a scenario and a seed: the baseline supply path, the forecast the router sees in each slot, the
arrivals (slot, class, true difficulty, the router's estimate) and each task's two outcome uniforms, which
fix its correctness and tokens under every option (docs/model.md section 8). The hindsight optimum
(:mod:`agents.headroom.milp`) is computed from it, and :mod:`agents.headroom.replay` plays a plan back.

The record is read off an env played by some policy (by default every task on the cheapest option, which
never defers). It is a function of the seed alone: the core draws every arrival's class, difficulty and
uniforms in arrival order, also for an arrival a full queue rejects (since ``-v2``), so no action changes a
draw. Which arrivals a full queue rejects does depend on the actions (deferrals fill the queue); the record
holds every arrival only when none was rejected, :func:`record_episode` raises :class:`RecordError` otherwise,
and the optimum is stated over overflow-free plans (docs/headroom.md, "What the record is a function of").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import gymnasium as gym
import numpy as np

import lrm_gym  # noqa: F401  (registers the env ids)
from agents.evaluation import Policy, _accepts_action_masks
from agents.headroom import core_access
from lrm_gym.core.params import Params

REWARD_KEYS = ("reward_quality", "reward_auxiliary", "reward_waste", "reward_waiting", "reward_drop")


class RecordError(RuntimeError):
    """The episode's exogenous record cannot be read (or would depend on the actions)."""


@dataclass(frozen=True)
class EpisodeRecord:
    """What the router cannot change in one episode. Energies in joules, one row per task in arrival order."""

    env_id: str
    overrides: Mapping[str, Any] | None
    seed: int
    supply_j: np.ndarray  # (T + H,) baseline per slot (the last H slots only feed forecasts)
    forecast_j: np.ndarray  # (T, H) forecast seen in each slot; NaN in slots where no decision was asked
    task_slot: np.ndarray  # (N,) arrival slot
    task_class: np.ndarray  # (N,)
    task_difficulty: np.ndarray  # (N,) true m
    task_estimate: np.ndarray  # (N,) the router's estimate
    task_u_skill: np.ndarray  # (N,)
    task_u_steps: np.ndarray  # (N,)
    reset_reward: float  # reward earned inside reset() (never in a step's reward)

    @property
    def n_tasks(self) -> int:
        return int(self.task_slot.size)

    def differences(self, other: EpisodeRecord) -> list[str]:
        """Names of the fields that differ from ``other`` (NaNs compare equal); empty when identical."""
        out = []
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray):
                same = a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
            else:
                same = a == b
            if not same:
                out.append(f.name)
        return out


def make_env(env_id: str, overrides: Mapping[str, Any] | None = None) -> gym.Env:
    kwargs: dict[str, Any] = {"overrides": dict(overrides)} if overrides else {}
    return gym.make(env_id, **kwargs)


def params_for(env_id: str, overrides: Mapping[str, Any] | None = None) -> Params:
    env = make_env(env_id, overrides)
    try:
        return core_access.params_of(env)
    finally:
        env.close()


def check_supported(env_id: str, overrides: Mapping[str, Any] | None = None) -> None:
    """Raise ``ValueError`` when the hindsight optimum cannot be computed for this env (checked before a
    benchmark starts): the env must build, and its dynamics must be the ones the program models."""
    try:
        params_for(env_id, overrides)
    except gym.error.Error as err:
        raise ValueError(f"cannot build {env_id}: {err}") from err


def record_episode(
    env_id: str, seed: int, overrides: Mapping[str, Any] | None = None, policy: Policy | None = None
) -> tuple[EpisodeRecord, float]:
    """Play one episode from ``reset(seed=seed)`` with ``policy`` and read its exogenous record.

    Returns the record and the policy's return (sum of step rewards, as :func:`agents.evaluation.evaluate`
    counts it). The default policy puts every task on the cheapest option (it never defers).

    Raises:
        RecordError: when some arrivals are not visible to the record: rejected by a full queue (their draws are
            taken but never reach the queue, see the module docstring) or settled without a decision before the router
            saw their slot.
    """
    from agents.policies.analytic import FixedOption  # the policies import the headroom MPC

    env = make_env(env_id, overrides)
    try:
        params = core_access.params_of(env)
        if policy is None:
            policy = FixedOption(params, "cheapest")
        masks = _accepts_action_masks(policy)
        horizon, n_forecast = params.horizon_slots, params.supply.forecast_horizon
        forecast = np.full((horizon, n_forecast), np.nan)
        columns: list[list[np.ndarray]] = [[] for _ in range(6)]
        obs, info = env.reset(seed=seed)
        reset_reward = float(sum(info["totals"][k] for k in REWARD_KEYS))
        supply = core_access.supply_path(env)
        total, slot_seen, truncated = 0.0, -1, False
        while True:
            if not truncated and info["slot"] != slot_seen:
                slot_seen = info["slot"]
                forecast[slot_seen] = core_access.forecast(env)
                tasks = core_access.present_tasks(env)
                new = tasks.age == 0
                if int(new.sum()) != info["tasks_arrived"]:
                    cause = "a full queue rejected arrivals" if info["tasks_dropped"] else "arrivals settled unseen"
                    raise RecordError(
                        f"{env_id} seed {seed}: slot {slot_seen}: {info['tasks_arrived']} arrived, "
                        f"{int(new.sum())} visible ({cause}); the record would depend on the actions"
                    )
                for column, values in zip(
                    columns,
                    (np.full(int(new.sum()), slot_seen), tasks.cls, tasks.difficulty, tasks.estimate,
                     tasks.u_skill, tasks.u_steps),
                    strict=True,
                ):  # fmt: skip
                    column.append(values[new] if values.size == new.size else values)
            if truncated:
                break
            kwargs = {"action_masks": info["action_mask"].astype(bool)} if masks else {}
            action, _ = policy.predict(obs, deterministic=True, **kwargs)
            obs, reward, _, truncated, info = env.step(int(np.asarray(action).reshape(-1)[0]))
            total += float(reward)
            if truncated and info["tasks_arrived"]:
                raise RecordError(f"{env_id} seed {seed}: arrivals in the last step were settled unseen")
    finally:
        env.close()
    cat = [np.concatenate(c) if c else np.zeros(0) for c in columns]
    record = EpisodeRecord(
        env_id=env_id,
        overrides=dict(overrides) if overrides else None,
        seed=seed,
        supply_j=supply,
        forecast_j=forecast,
        task_slot=cat[0].astype(np.int64),
        task_class=cat[1].astype(np.int64),
        task_difficulty=cat[2].astype(np.int64),
        task_estimate=cat[3].astype(np.float64),
        task_u_skill=cat[4].astype(np.float64),
        task_u_steps=cat[5].astype(np.float64),
        reset_reward=reset_reward,
    )
    return record, total
