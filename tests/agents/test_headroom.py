"""Headroom: the exogenous record, the hindsight optimum (replayed through the env), and its bound on policies.

Episodes are short (``SHORT`` slots) so the whole file stays fast; the optimum is solved with a short time
limit, which is enough for an incumbent whose replay must match exactly and a dual bound that must hold.
"""

from __future__ import annotations

from typing import Any, Literal

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
    # full branch and bound on two scenarios (one with storage) keeps the file fast; the others use the
    # relaxation's fix-and-branch plan, whose replay must match just the same
    optimum = solve(
        params, record, time_limit_s=TIME_LIMIT_S, branch_and_bound=scenario in ("critical", "solar-battery")
    )
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


# ---------------------------------------------------------------------------------------------------------
# Forecast MPC
# ---------------------------------------------------------------------------------------------------------


def test_mpc_plans_once_per_slot_through_evaluate() -> None:
    """The policy finds slot boundaries from the observation alone: one plan per slot with a decision."""
    from agents.evaluation import evaluate
    from agents.policies.mpc import ForecastMPC

    overrides = {"horizon_slots": 8, "start_hour": 16.0}  # evening: the program must plan storage ahead
    eid = env_id("solar-battery")
    policy = ForecastMPC(params_for(eid, overrides))
    (episode,) = evaluate(policy, eid, [SEED], overrides)
    record, _ = record_episode(eid, SEED, overrides)
    assert policy.plans_solved == len(set(record.task_slot.tolist())) == 8
    assert episode.tasks_dispatched == record.n_tasks  # it never defers, and capacity is ample here


def test_mpc_plans_storage_across_the_night() -> None:
    """At dusk with a full battery the program discharges within the power limit, never charges (no sun), and
    strands no energy it could use: energy left at the episode's end means every task already runs on its most
    accurate option."""
    from agents.headroom.mpc import arrival_rate_per_slot, expected_supply_ahead, fluid_tables, plan_slots

    params = params_for(env_id("solar-battery"), {"start_hour": 0.0})
    slot = 19 * 4  # 19:00, after sunset
    horizon = params.horizon_slots - slot
    supply = expected_supply_ahead(params, slot, 0.0, np.zeros(0), horizon)
    plan = plan_slots(
        params,
        fluid_tables(params),
        tasks_now=float(arrival_rate_per_slot(params)[slot]),
        committed_j=params.idle_j,
        supply_j=supply,
        storage_j=params.storage.capacity_j,
        arrivals=arrival_rate_per_slot(params)[slot + 1 : slot + horizon],
    )
    levels = plan.storage_kj
    assert np.all(np.diff(levels) <= 1e-6)
    per_slot = params.storage.max_discharge_j / 1000.0 / params.storage.discharge_efficiency
    assert levels[1] >= levels[0] - per_slot - 1e-6  # at most the power limit in the first slot
    tables = fluid_tables(params)
    best = np.where(tables.allowed, tables.quality, -np.inf).max(axis=1)
    if levels[-1] > 1e-6 * levels[0]:
        assert np.allclose((plan.mix * tables.quality).sum(axis=1), best)
    else:
        assert levels[-1] >= -1e-9


def test_mpc_rejects_bad_horizons_and_multi_day_episodes() -> None:
    from agents.policies.mpc import ForecastMPC

    params = params_for(env_id("solar-battery"), SHORT)
    with pytest.raises(ValueError, match="horizon"):
        ForecastMPC(params, horizon=0)
    with pytest.raises(ValueError, match="24 h"):
        ForecastMPC(params_for(env_id("solar-battery"), {"horizon_slots": 97}))


# ---------------------------------------------------------------------------------------------------------
# Gaps and the figure
# ---------------------------------------------------------------------------------------------------------


def _result(
    kind: Literal["analytic", "learned"], label: str, returns: dict[int, float], train_seed: int | None = None
) -> Any:
    from agents.benchmark.runs import RunResult, RunSpec

    spec = RunSpec(kind=kind, scenario="toy", env_id="x", overrides={}, label=label, eval_seeds=tuple(returns),
                   train_seed=train_seed)  # fmt: skip
    episodes = tuple({"seed": s, "episode_return": r} for s, r in returns.items())
    return RunResult(spec=spec, episodes=episodes, trajectory={}, wall_seconds=0.0)


def _toy_optimum() -> Any:
    from agents.headroom.optima import EpisodeOptimum, ScenarioOptimum

    episodes = (
        EpisodeOptimum(1, 100.0, 110.0, 0.1, "time limit", 1.0, 10),
        EpisodeOptimum(2, -50.0, -50.0, 0.0, "optimal", 1.0, 10),
    )
    return ScenarioOptimum("toy", "x", "hindsight", 60.0, episodes)


def test_gap_is_relative_to_the_optimum_per_episode_and_per_training_seed() -> None:
    from agents.benchmark.headroom import gap_rows

    analytic = _result("analytic", "a", {1: 90.0, 2: -60.0})
    learned = [_result("learned", "l", {1: 80.0, 2: -50.0}, 0), _result("learned", "l", {1: 100.0, 2: -75.0}, 1)]
    rows = {g.label: g for g in gap_rows([analytic, *learned], {"toy": _toy_optimum()})}
    assert rows["a"].n_units == 2
    assert rows["a"].gap == pytest.approx(((100 - 90) / 100 + (-50 + 60) / 50) / 2)
    assert rows["a"].gap_to_bound == pytest.approx(((110 - 90) / 110 + (-50 + 60) / 50) / 2)
    assert rows["l"].n_units == 2  # training seeds, each its mean over the episodes
    assert rows["l"].gap == pytest.approx(((0.2 + 0.0) / 2 + (0.0 + 0.5) / 2) / 2)


def test_gap_needs_an_optimum_for_every_episode() -> None:
    from agents.benchmark.headroom import gap_rows

    with pytest.raises(ValueError, match="seed 3"):
        gap_rows([_result("analytic", "a", {3: 1.0})], {"toy": _toy_optimum()})


def test_headroom_figure_and_markdown(tmp_path: Any) -> None:
    from agents.benchmark.headroom import gap_rows, headroom_markdown, plot_headroom
    from agents.benchmark.statistics import Row

    optima = {"toy": _toy_optimum()}
    row = Row("toy", "a", "analytic", 2, 2, {"episode_return": 15.0}, {"episode_return": 75.0}, (90.0, -60.0))
    path = tmp_path / "headroom.png"
    plot_headroom([row], optima, path)
    assert path.stat().st_size > 0
    text = headroom_markdown(optima, gap_rows([_result("analytic", "a", {1: 90.0, 2: -60.0})], optima), [row])
    assert "hindsight optimum" in text and "| toy | a | analytic | 15.0% ±" in text
    assert "`toy`: `a` (analytic) is 15.0% ±" in text  # where the best policy stands


def test_scenario_optimum_on_short_episodes() -> None:
    from agents.headroom.optima import scenario_optimum

    eid = env_id("solar-battery")
    opt = scenario_optimum("solar-battery", eid, [1, 2], {"horizon_slots": 3}, time_limit_s=TIME_LIMIT_S)
    assert [e.seed for e in opt.episodes] == [1, 2]
    for e in opt.episodes:
        assert e.upper_bound >= e.optimum - RTOL * abs(e.optimum)


def test_the_program_keeps_options_that_only_spend_more_energy() -> None:
    """A longer budget that earns nothing more is still a choice: in a surplus slot its energy offsets waste.
    (Pruning it made the bound fall below a real policy's return on full-length solar episodes.)"""
    from agents.headroom.milp import _candidate_options

    eid = env_id("oversupply")
    params = params_for(eid, SHORT)
    record, _ = record_episode(eid, SEED, SHORT)
    out = task_outcomes(params, record)
    failing = [j for j in range(record.n_tasks) if out.quality[j].max() == 0.0]
    assert failing, "expected some task that every option gets wrong"
    for j in failing[:20]:
        kept = set(_candidate_options(params, out, j))
        distinct = {o for o in range(params.n_options) if not any(
            p < o and params.option_model[p] == params.option_model[o] and out.tokens[j, p] == out.tokens[j, o]
            for p in range(params.n_options))}  # fmt: skip
        assert kept == distinct


def test_expected_information_optimum_values_plans_at_the_option_means() -> None:
    """The weaker line: the plan's value is computed with mean energies and value * P(correct)."""
    eid = env_id("solar-battery")
    params = params_for(eid, SHORT)
    record, _ = record_episode(eid, SEED, SHORT)
    optimum = solve(params, record, information="expected", time_limit_s=TIME_LIMIT_S, branch_and_bound=False)
    assert optimum.plan is not None and optimum.value is not None
    assert optimum.upper_bound >= optimum.episode_return - RTOL * abs(optimum.episode_return)
    mean = task_outcomes(params, record, expected=True)
    assert optimum.value.total == pytest.approx(plan_value(params, record, optimum.plan, mean).total)
    dispatched = np.flatnonzero(optimum.plan.option >= 0)
    value = params.class_value[record.task_class][:, None]
    expected_quality = value * params.accuracy[record.task_class, record.task_difficulty]
    chosen = expected_quality[dispatched, optimum.plan.option[dispatched]]
    assert optimum.value.quality == pytest.approx(float(chosen.sum()))
