"""API edges: seeds over the whole documented range in both envs, real values in action errors, and the
``scenario`` argument's type."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import lrm_gym
from lrm_gym.envs.checks import MAX_SEED

SHORT = {"horizon_slots": 3, "arrivals": {"rate_per_slot": 4.0}}


def _single() -> gym.Env:
    return lrm_gym.EnergyRoutingEnv(overrides=SHORT)


def _vector(n: int) -> lrm_gym.EnergyRoutingVectorEnv:
    return lrm_gym.EnergyRoutingVectorEnv(num_envs=n, overrides=SHORT)


@pytest.mark.parametrize("seed", [0, 2**62, 2**63, MAX_SEED - 1, MAX_SEED, np.uint64(MAX_SEED), np.int64(7)])
def test_single_and_vector_envs_accept_the_same_seeds(seed: Any) -> None:
    single_obs, _ = _single().reset(seed=seed)
    vector_obs, _ = _vector(1).reset(seed=seed)
    for key, value in single_obs.items():
        np.testing.assert_array_equal(vector_obs[key][0], value)


def test_vector_sub_env_seeds_run_to_the_top_of_the_range() -> None:
    """Sub-env ``i`` gets ``seed + i``: with the largest seed allowed, the last sub-env replays the single env
    seeded with ``2**64 - 1``, step by step."""
    vector = _vector(2)
    single = _single()
    vector_obs, _ = vector.reset(seed=MAX_SEED - 1)
    single_obs, info = single.reset(seed=MAX_SEED)
    for _ in range(10):
        for key, value in single_obs.items():
            np.testing.assert_array_equal(vector_obs[key][1], value)
        action = int(np.flatnonzero(info["action_mask"])[-1])
        single_obs, _, _, truncated, info = single.step(action)
        first_valid = int(np.flatnonzero(vector.action_masks()[0])[0])
        vector_obs, *_ = vector.step(np.array([first_valid, action]))
        if truncated:
            break
    with pytest.raises(
        ValueError, match=r"seed: sub-env i gets seed \+ i, so with 2 sub-envs the seed must be at most"
    ):
        vector.reset(seed=MAX_SEED)
    vector.reset(seed=[MAX_SEED, 2**63])  # a list may hold any seeds in range


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, True, 1.5, "3", np.float64(2.0)])
def test_single_and_vector_envs_refuse_the_same_seeds(seed: Any) -> None:
    message = r"seed must be None or an integer in \[0, 2\*\*64 - 1\]"
    with pytest.raises(ValueError, match=message):
        _single().reset(seed=seed)
    with pytest.raises(ValueError, match=message):
        _vector(1).reset(seed=seed)
    with pytest.raises(ValueError, match=r"seed\[1\] must be None or an integer"):
        _vector(2).reset(seed=[0, seed])


def test_action_errors_report_the_real_value() -> None:
    vector = _vector(2)
    vector.reset(seed=0)
    with pytest.raises(
        ValueError, match=r"actions must lie in \[0, 10\): got action 18446744073709551615 of sub-env 1"
    ):
        vector.step(np.array([1, 2**64 - 1], dtype=np.uint64))
    single = _single()
    single.reset(seed=0)
    with pytest.raises(ValueError, match=r"action 18446744073709551615 outside Discrete\(10\)"):
        single.step(np.uint64(2**64 - 1))


@pytest.mark.parametrize("scenario", [None, 123, 1.5, ["critical"], b"critical"])
def test_scenario_of_the_wrong_type_is_named(scenario: Any) -> None:
    with pytest.raises(TypeError, match=r"scenario must be a shipped scenario name \[.*'critical'.*\], a path to a"):
        gym.make("lrm_gym/EnergyRouting-v2", scenario=scenario)
    with pytest.raises(TypeError, match="scenario must be"):
        lrm_gym.EnergyRoutingVectorEnv(num_envs=1, scenario=scenario)


@pytest.mark.parametrize("overrides", [[], "", 5, ["horizon_slots"]])
def test_overrides_that_are_not_a_mapping_are_refused(overrides: Any) -> None:
    with pytest.raises(ValueError, match="overrides must be a mapping"):
        gym.make("lrm_gym/EnergyRouting-v2", overrides=overrides)


@pytest.mark.parametrize("seed", [np.zeros((2, 1), int), [1], [1, [2, 3]], {"a": 1}])
def test_vector_seed_lists_of_the_wrong_shape_get_one_line(seed: Any) -> None:
    with pytest.raises(ValueError, match=r"seed(\[1\])? must be None or an integer") as caught:
        _vector(2).reset(seed=seed)
    assert "\n" not in str(caught.value)
