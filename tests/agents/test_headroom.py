"""Headroom: the exogenous record, the hindsight optimum (replayed through the env), and its bound on policies.

Episodes are short (``SHORT`` slots) so the whole file stays fast; the optimum is solved with a short time
limit, which is enough for an incumbent whose replay must match exactly and a dual bound that must hold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agents.headroom.milp import solve
from agents.headroom.plan import plan_value, task_outcomes
from agents.headroom.record import RecordError, params_for, record_episode
from agents.headroom.replay import replay
from agents.policies.analytic import POLICIES, FixedOption, make_policy
from lrm_gym.registration import SCENARIO_IDS, env_id

SHORT = {"horizon_slots": 12}
SEED = 7
RTOL = 1e-6  # replay against the plan's value: the same float sums, so agreement is to rounding
TIME_LIMIT_S = 2.0


class RandomValid:
    """Uniform over the valid actions (defer included when allowed)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[np.ndarray, Any]:  # fmt: skip
        assert action_masks is not None
        return np.asarray(self.rng.choice(np.flatnonzero(action_masks))), state


class AlwaysDefer:
    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[np.ndarray, Any]:  # fmt: skip
        assert action_masks is not None
        return np.asarray(0 if action_masks[0] else int(np.flatnonzero(action_masks)[0])), state


@pytest.mark.parametrize("scenario", sorted(SCENARIO_IDS))
def test_record_is_the_same_under_different_policies(scenario: str) -> None:
    eid = env_id(scenario)
    params = params_for(eid, SHORT)
    cheapest, _ = record_episode(eid, SEED, SHORT)
    largest, _ = record_episode(eid, SEED, SHORT, FixedOption(params, "largest"))
    random, _ = record_episode(eid, SEED, SHORT, RandomValid(0))
    assert cheapest.n_tasks > 0
    assert cheapest.differences(largest) == []
    assert cheapest.differences(random) == []


def test_record_refuses_an_episode_whose_queue_overflowed() -> None:
    """Rejected arrivals skip their draws in the core, so later tasks would change: the record must say so."""
    overrides = {"horizon_slots": 4, "queue": {"capacity": 50}}
    with pytest.raises(RecordError, match="full queue"):
        record_episode(env_id("critical"), SEED, overrides, AlwaysDefer())
    record, _ = record_episode(env_id("critical"), SEED, overrides)  # never deferring never overflows here
    assert record.n_tasks > 0


@pytest.mark.parametrize("scenario", sorted(SCENARIO_IDS))
def test_optimum_replays_exactly_and_bounds_every_analytic_policy(scenario: str) -> None:
    eid = env_id(scenario)
    params = params_for(eid, SHORT)
    record, cheapest_return = record_episode(eid, SEED, SHORT)
    optimum = solve(params, record, time_limit_s=TIME_LIMIT_S)
    assert optimum.plan is not None, optimum.status
    replayed = replay(record, optimum.plan)
    assert replayed.episode_return == pytest.approx(optimum.episode_return, rel=RTOL, abs=1e-9)
    assert optimum.upper_bound >= optimum.episode_return - RTOL * abs(optimum.episode_return)
    tolerance = RTOL * abs(optimum.upper_bound)
    assert cheapest_return <= optimum.upper_bound + tolerance
    for name in POLICIES:
        env_policy = make_policy(name, _env(eid))
        other, policy_return = record_episode(eid, SEED, SHORT, env_policy)
        assert other.differences(record) == [], name
        assert policy_return <= optimum.upper_bound + tolerance, name


def _env(eid: str) -> Any:
    import gymnasium as gym

    return gym.make(eid, overrides=SHORT)


def test_optimum_replays_exactly_with_expected_quality_and_binding_capacity() -> None:
    """``reward.quality: expected``, and token capacities small enough that queue-order masks bind."""
    overrides = {
        "horizon_slots": 6,
        "reward": {"quality": "expected"},
        "models": [
            {"name": "small-1.5b", "params": 1.5e9, "tokens_per_step": 350, "capacity_tokens_per_slot": 1500000},
            {"name": "medium-8b", "params": 8.0e9, "tokens_per_step": 350, "capacity_tokens_per_slot": 600000},
            {"name": "large-32b", "params": 3.2e10, "tokens_per_step": 350, "capacity_tokens_per_slot": 30000},
        ],
    }
    eid = env_id("oversupply")
    params = params_for(eid, overrides)
    record, _ = record_episode(eid, SEED, overrides)
    optimum = solve(params, record, time_limit_s=TIME_LIMIT_S)
    assert optimum.plan is not None
    assert optimum.mask_rounds >= 1  # the aggregate capacity rows alone let a masked dispatch through
    assert replay(record, optimum.plan).episode_return == pytest.approx(optimum.episode_return, rel=RTOL)
    value = plan_value(params, record, optimum.plan)
    quality = task_outcomes(params, record).quality
    dispatched = optimum.plan.option >= 0
    expected_quality = (
        params.class_value[record.task_class]
        * params.accuracy[record.task_class, record.task_difficulty, np.maximum(optimum.plan.option, 0)]
    )
    assert value.quality == pytest.approx(float(expected_quality[dispatched].sum()))
    assert np.array_equal(quality[dispatched, optimum.plan.option[dispatched]], expected_quality[dispatched])


def test_solve_rejects_an_unknown_information_mode() -> None:
    eid = env_id("critical")
    params = params_for(eid, SHORT)
    record, _ = record_episode(eid, SEED, {"horizon_slots": 1})
    with pytest.raises(ValueError, match="information"):
        solve(params, record, information="clairvoyant")  # type: ignore[arg-type]
