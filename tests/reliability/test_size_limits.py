"""Every size a scenario or a make kwarg sets has a documented bound, checked before anything is allocated."""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import lrm_gym
from lrm_gym.envs.checks import MAX_BATCH_BYTES, MAX_NUM_ENVS
from lrm_gym.scenarios.loader import MAX_SCENARIO_BYTES, load_scenario
from lrm_gym.scenarios.schema import LIMITS

# Peak Python/numpy allocation allowed while refusing an oversized input. The inputs below asked for
# 3.9-8.6 GB before the limits; refusing them must not allocate anything of that order.
REFUSAL_PEAK_BYTES = 64 << 20

ONE_CLASS = {"name": "only", "weight": 1.0, "difficulty": 2}

OVERSIZED: list[tuple[dict[str, Any], str]] = [
    ({"budgets": [{"name": "b", "max_steps": 10**7}]}, r"budgets\.0\.max_steps: 10000000 exceeds the limit 10000"),
    (
        {"tasks": {"classes": [{"name": "a", "weight": 1.0, "difficulty": [1, 10**6]}]}},
        r"tasks\.classes\.0\.difficulty\.1: 1000000 exceeds the limit 1000",
    ),
    ({"horizon_slots": 10**8}, r"horizon_slots: 100000000 exceeds the limit 35040 \(one year of 15-min slots\)"),
    ({"queue": {"capacity": 10**9}}, r"queue\.capacity: 1000000000 exceeds the limit 1000000"),
    ({"arrivals": {"profile": [1.0] * 1441}}, r"arrivals\.profile: 1441 entries exceed the limit 1440"),
    ({"models": [{"name": f"m{i}", "params": 1e9, "tokens_per_step": 10} for i in range(17)]}, r"models: 17 entries"),
    ({"budgets": [{"name": f"b{i}", "max_steps": 2} for i in range(17)]}, r"budgets: 17 entries"),
    ({"tasks": {"classes": [{**ONE_CLASS, "name": f"c{i}"} for i in range(65)]}}, r"tasks\.classes: 65 entries"),
    ({"description": "x" * 10_001}, r"description: 10001 characters exceed the limit 10000"),
    ({"budgets": [{"name": "b" * 129, "max_steps": 2}]}, r"budgets\.0\.name: 129 characters exceed the limit 128"),
    # products of sizes that are each within their bounds
    (
        {
            "budgets": [{"name": "b", "max_steps": 10_000}],
            "tasks": {"classes": [{"name": "a", "weight": 1.0, "difficulty": [1, 1000]}]},
        },
        r"budgets\.max_steps.*step table.*exceeds the limit 1e\+07",
    ),
    (
        {
            "models": [{"name": f"m{i}", "params": 1e9, "tokens_per_step": 10} for i in range(16)],
            "budgets": [{"name": f"b{i}", "max_steps": 2} for i in range(16)],
            "tasks": {"classes": [{"name": f"c{i}", "weight": 1.0, "difficulty": [1, 1000]} for i in range(16)]},
        },
        r"models, budgets: the option tables.*exceed the limit 1e\+07",
    ),
]


def _refusal_peak(call: Callable[[], Any], match: str) -> int:
    """Run ``call``, expecting a ValueError matching ``match``; return the peak bytes allocated meanwhile."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match) as caught:
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "\n" not in str(caught.value), "errors are one line"
    return peak


@pytest.mark.parametrize(("overrides", "match"), OVERSIZED)
def test_oversized_scenarios_fail_first_naming_key_and_bound(overrides: dict[str, Any], match: str) -> None:
    assert _refusal_peak(lambda: load_scenario("critical", overrides), match) < REFUSAL_PEAK_BYTES
    assert _refusal_peak(lambda: gym.make("lrm_gym/EnergyRouting-v2", overrides=overrides), match) < REFUSAL_PEAK_BYTES


def test_vector_env_size_is_checked_before_allocating() -> None:
    def make(n: int) -> Any:
        return gym.make_vec("lrm_gym/EnergyRouting-v2", num_envs=n, vectorization_mode="vector_entry_point")

    # 10**6 default sub-envs need about 20 GB of state
    peak = _refusal_peak(lambda: make(10**6), r"num_envs: 1000000 sub-envs of this scenario need .* GiB of state")
    assert peak < REFUSAL_PEAK_BYTES
    assert _refusal_peak(lambda: make(MAX_NUM_ENVS + 1), r"num_envs: 1048577 exceeds the limit 1048576") < (
        REFUSAL_PEAK_BYTES
    )
    # the memory limit scales with the scenario: long horizons and big queues allow fewer sub-envs
    big = {"horizon_slots": 35_040, "queue": {"capacity": 100_000}}
    with pytest.raises(ValueError, match=r"lower num_envs, horizon_slots or queue\.capacity"):
        lrm_gym.EnergyRoutingVectorEnv(num_envs=MAX_BATCH_BYTES // (100_000 * 9 * 8), overrides=big)
    with pytest.raises(ValueError, match=r"max_episode_steps: .* exceeds the limit"):
        lrm_gym.EnergyRoutingVectorEnv(num_envs=1, max_episode_steps=2**63)


def test_sizes_at_their_limits_are_accepted() -> None:
    env = gym.make("lrm_gym/EnergyRouting-v2", overrides={"horizon_slots": int(LIMITS["horizon_slots"][0])})
    env.reset(seed=0)
    env.step(1)
    hard = {"tasks": {"classes": [{"name": "a", "weight": 1.0, "difficulty": [1, 1000]}]}}
    assert lrm_gym.build_params(load_scenario("critical", hard)).max_difficulty == 1000
    long = {"budgets": [{"name": "b", "max_steps": 10_000}], "tasks": {"classes": [ONE_CLASS]}}
    assert int(lrm_gym.build_params(load_scenario("critical", long)).option_cap.max()) == 10_000


def test_oversized_scenario_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("description: " + "x" * MAX_SCENARIO_BYTES + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"is larger than the limit of {MAX_SCENARIO_BYTES} bytes")):
        load_scenario(path)
