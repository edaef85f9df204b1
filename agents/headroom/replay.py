"""Play a plan for a recorded episode back through the env, as a policy would, and sum its step rewards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.headroom import core_access
from agents.headroom.plan import Plan
from agents.headroom.record import EpisodeRecord, make_env


class ReplayError(RuntimeError):
    """The env asked about a task the plan cannot place, or refused a planned action."""


@dataclass(frozen=True)
class Replay:
    episode_return: float  # sum of step rewards, as agents.evaluation counts it
    totals: dict[str, Any]  # the env's episode totals


def replay(record: EpisodeRecord, plan: Plan) -> Replay:
    """Reset the record's env with its seed and take the plan's action for each task the env asks about.

    The task at the head is identified by its outcome uniforms (a pair unique within an episode).
    """
    index = {
        (float(u), float(v)): j for j, (u, v) in enumerate(zip(record.task_u_skill, record.task_u_steps, strict=True))
    }
    if len(index) != record.n_tasks:
        raise ReplayError("two tasks share their outcome uniforms; they cannot be told apart")
    env = make_env(record.env_id, record.overrides)
    try:
        _, info = env.reset(seed=record.seed)
        total = 0.0
        while True:
            j = index.get(core_access.head_task_draws(env))
            if j is None:
                raise ReplayError(f"slot {info['slot']}: the env asks about a task that is not in the record")
            option, slot = int(plan.option[j]), int(plan.slot[j])
            action = 1 + option if option >= 0 and slot == info["slot"] else 0
            if not info["action_mask"][action]:
                raise ReplayError(f"slot {info['slot']}: task {j}: planned action {action} is masked")
            _, reward, _, truncated, info = env.step(action)
            total += float(reward)
            if truncated:
                return Replay(total, dict(info["totals"]))
    finally:
        env.close()


def replay_matches(record: EpisodeRecord, plan: Plan, expected_return: float, rtol: float = 1e-6) -> bool:
    got = replay(record, plan).episode_return
    return bool(np.isclose(got, expected_return, rtol=rtol, atol=0.0))
