"""Numeric fields at their extremes: a scenario is either refused with a ValueError naming a key it changed,
or every observation of a short rollout is finite and inside the observation space.

Before the limits, ``arrivals.rate_per_slot: 1e19`` gave negative ``tasks_arrived`` and ``supply.std_w``,
``provisioning``, ``storage.capacity_wh`` of 1e300 or ``models[0].params`` of 1e-3 gave inf or NaN
observations.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import lrm_gym
from lrm_gym.scenarios.loader import load_scenario

FLOATS = [
    -1.0, 0.0, 5e-324, 1e-300, 1e-12, 1e-9, 1e-6, 1e-3, 0.5, 1.0, 1e3, 1e4, 1e6, 1e9, 1e12, 1.0000001e12, 1e14,
    1.2e30, 1e300, 1.7976931348623157e308, math.inf, -math.inf, math.nan,
]  # fmt: skip
INTS = [-1, 0, 1, 2, 64, 1_000, 1_001, 10_000, 10_001, 35_040, 35_041, 10**6, 10**6 + 1, 10**12, 10**12 + 1, 2**63]

# (key path, smallest and largest value accepted): the numeric fields of a scenario, list entries by index.
# Integers when the bounds are.
FIELDS: list[tuple[tuple[str | int, ...], float, float]] = [
    (("slot_seconds",), 1e-3, 86_400.0),
    (("horizon_slots",), 1, 35_040),
    (("supply", "mean_w"), 0.0, 1e12),
    (("supply", "provisioning"), 0.0, 1e3),
    (("supply", "std_w"), 0.0, 1e12),
    (("supply", "cloud_std"), 0.0, 10.0),
    (("supply", "trace_seconds_per_row"), 1e-3, 1e8),
    (("supply", "forecast", "noise"), 0.0, 1e3),
    (("auxiliary", "price_per_kwh"), 0.0, 1e6),
    (("auxiliary", "carbon_g_per_kwh"), 0.0, 1e7),
    (("storage", "capacity_wh"), 0.0, 1e12),
    (("storage", "max_charge_w"), 0.0, 1e12),
    (("storage", "max_discharge_w"), 0.0, 1e12),
    (("arrivals", "rate_per_slot"), 1e-3, 1e6),
    (("arrivals", "dispersion"), 1e-3, 1e6),
    (("tasks", "classes", 0, "weight"), 5e-324, 1e6),
    (("tasks", "classes", 0, "value"), 0.0, 1e9),
    (("tasks", "classes", 0, "prompt_tokens"), 0, 10_000_000),
    (("tasks", "classes", 2, "slack_slots"), 0, 35_040),
    (("models", 0, "params"), 1e6, 1e14),
    (("models", 0, "joules_per_token"), 1e-9, 1e4),
    (("models", 0, "idle_w"), 0.0, 1e12),
    (("models", 0, "tokens_per_step"), 1, 1_000_000),
    (("models", 2, "capacity_tokens_per_slot"), 1, 10**12),
    (("models", 2, "params"), 1e6, 1e14),
    (("models", 1, "step_success"), 1e-3, 1.0),
    (("budgets", 0, "max_steps"), 1, 10_000),
    (("reward", "auxiliary_per_kwh"), 0.0, 1e9),
    (("reward", "drop"), 0.0, 1e9),
    (("observation", "difficulty_noise"), 0.0, 1e3),
    (("queue", "capacity"), 1, 1_000_000),
]
SCENARIOS = ["critical", "volatile", "solar-battery", "wind-trace"]
ROLLOUT_STEPS = 40
EXAMPLES = 150


def _set(raw: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    node: Any = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    # exactly one of mean_w and provisioning: setting one clears the other
    if path == ("supply", "mean_w"):
        raw["supply"]["provisioning"] = None
    if path == ("supply", "provisioning"):
        raw["supply"]["mean_w"] = None


def _values(low: float, high: float) -> st.SearchStrategy[Any]:
    """Half the time an extreme from the lists above (mostly out of range), else a value within the bounds:
    a bound itself or one drawn log-uniformly between them."""
    if isinstance(low, int) and isinstance(high, int):
        inside: st.SearchStrategy[Any] = st.one_of(st.sampled_from([low, high]), st.integers(low, high))
        return st.one_of(st.sampled_from(INTS), inside)
    floor = max(low, 1e-12)
    log_uniform = st.floats(math.log10(floor), math.log10(high)).map(lambda x: min(max(10.0**x, low), high))
    return st.one_of(st.sampled_from(FLOATS), st.sampled_from([low, high]), log_uniform)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, dict[str, Any], list[tuple[str | int, ...]]]:
    name = draw(st.sampled_from(SCENARIOS))
    raw = load_scenario(name).model_dump()
    raw["horizon_slots"] = min(raw["horizon_slots"], 24)  # a short episode unless the example sets it
    fields = draw(st.lists(st.sampled_from(range(len(FIELDS))), min_size=1, max_size=3, unique=True))
    for index in fields:
        path, low, high = FIELDS[index]
        _set(raw, path, draw(_values(low, high)))
    return name, raw, [FIELDS[index][0] for index in fields]


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_extreme_values_are_refused_by_key_or_give_finite_observations_inside_the_space(
    case: tuple[str, dict[str, Any], list[tuple[str | int, ...]]],
) -> None:
    name, raw, changed = case
    try:
        env = lrm_gym.EnergyRoutingEnv(scenario=name, overrides=raw)
    except ValueError as err:
        message = str(err)
        assert "\n" not in message
        assert any(str(path[-1]) in message for path in changed), f"{message!r} names none of {changed}"
        event("refused")
        return
    event("accepted")
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    for _ in range(ROLLOUT_STEPS):
        for key, value in obs.items():
            assert np.all(np.isfinite(value)), (key, value)
        assert env.observation_space.contains(obs), {k: (v.min(), v.max()) for k, v in obs.items()}
        obs, reward, _, truncated, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
        assert math.isfinite(reward)
        assert info["tasks_arrived"] >= 0 and info["totals"]["tasks_arrived"] >= 0
        if truncated:
            obs, info = env.reset()


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"arrivals": {"rate_per_slot": 1e19}}, "arrivals.rate_per_slot"),
        ({"supply": {"std_w": 1e300}}, "supply.std_w"),
        ({"supply": {"provisioning": 1e300}}, "supply.provisioning"),
        ({"storage": {"capacity_wh": 1e300}}, "storage.capacity_wh"),
        ({"models": [{"name": "tiny", "params": 1e-3, "tokens_per_step": 10}]}, "models.0.params"),
    ],
)
def test_the_measured_overflows_are_refused_by_key(overrides: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        lrm_gym.EnergyRoutingEnv(overrides=overrides)


def test_the_largest_accepted_values_keep_observations_finite() -> None:
    """All magnitudes at their bounds together, against the smallest energy unit the bounds allow."""
    overrides = {
        "slot_seconds": 86_400.0,
        "supply": {"kind": "gaussian", "mean_w": 1e12, "provisioning": None, "std_w": 1e12},
        "storage": {"capacity_wh": 1e12, "max_charge_w": 1e12, "max_discharge_w": 1e12},
        "arrivals": {"kind": "poisson", "rate_per_slot": 1e-3},
        "models": [
            {
                "name": "cheap",
                "tokens_per_step": 1,
                "joules_per_token": 1e-9,
                "step_success": 1.0,
                "skill_coverage": 1.0,
            },
            {
                "name": "huge",
                "params": 1e14,
                "tokens_per_step": 10**6,
                "idle_w": 0.0,
                "capacity_tokens_per_slot": 10**12,
            },
        ],
        "budgets": [{"name": "one", "max_steps": 1}, {"name": "long", "max_steps": 10_000}],
        "tasks": {"classes": [{"name": "a", "weight": 1.0, "difficulty": 1, "prompt_tokens": 0}]},
        "reference_policy": {"kind": "fixed", "option": {"model": "cheap", "budget": "one"}},
        "auxiliary": {"price_per_kwh": 1e6},
    }
    env = lrm_gym.EnergyRoutingEnv(overrides=overrides)
    for box in env.observation_space.spaces.values():
        assert np.all(np.isfinite(box.high))
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
