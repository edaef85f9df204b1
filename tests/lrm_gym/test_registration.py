"""Registry-driven contract tests for every lrm_gym id (Gymnasium and SB3 checkers, determinism, pickling)."""

from __future__ import annotations

import importlib
import json
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import EnvSpec
from gymnasium.utils.env_checker import check_env as gym_check_env

import lrm_gym
from lrm_gym.registration import VERSION
from tests.conftest import ALL_IDS, random_valid_action


def test_every_shipped_scenario_has_an_id() -> None:
    assert "lrm_gym/EnergyRouting-v2" in ALL_IDS
    for name in lrm_gym.scenario_names():
        assert lrm_gym.env_id(name) in ALL_IDS
    for required in ("Critical", "OverSupply", "UnderSupply", "Volatile", "Solar", "SolarBattery"):
        assert f"lrm_gym/EnergyRouting-{required}-v2" in ALL_IDS


def test_ids_carry_the_latest_version_of_the_version_history() -> None:
    """Bumping ``VERSION`` and writing the Version History go together; no id of an older version is left."""
    assert all(id_.endswith(f"-v{VERSION}") for id_ in ALL_IDS)
    history = (lrm_gym.EnergyRoutingEnv.__doc__ or "").split("## Version History", 1)[1]
    assert history.strip().startswith(f"* v{VERSION}:")


def test_import_twice_is_harmless() -> None:
    before = dict(gym.registry)
    importlib.reload(lrm_gym)
    lrm_gym.register_envs()
    assert dict(gym.registry).keys() == before.keys()


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gymnasium_checker(env_id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(gym.spec(env_id).make().unwrapped)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_seeded_rollouts_are_identical(env_id: str) -> None:
    env_a, env_b = gym.make(env_id), gym.make(env_id)
    obs_a, info_a = env_a.reset(seed=7)
    obs_b, info_b = env_b.reset(seed=7)
    rng = np.random.default_rng(0)
    for _ in range(400):
        _assert_same(obs_a, obs_b)
        _assert_same(info_a, info_b)
        action = random_valid_action(info_a, rng)
        obs_a, r_a, term_a, trunc_a, info_a = env_a.step(action)
        obs_b, r_b, term_b, trunc_b, info_b = env_b.step(action)
        assert (r_a, term_a, trunc_a) == (r_b, term_b, trunc_b)
        assert type(r_a) is float and type(term_a) is bool and type(trunc_a) is bool
        if trunc_a:
            obs_a, info_a = env_a.reset(seed=8)
            obs_b, info_b = env_b.reset(seed=8)


def test_different_seeds_differ() -> None:
    env = gym.make("lrm_gym/EnergyRouting-Volatile-v2")
    first = env.reset(seed=1)[0]["energy"]
    second = env.reset(seed=2)[0]["energy"]
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_pickle_round_trip_continues_identically(env_id: str) -> None:
    env = gym.make(env_id)
    _, info = env.reset(seed=3)
    rng = np.random.default_rng(1)
    for _ in range(25):
        _, _, _, _, info = env.step(random_valid_action(info, rng))
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(25):
        action = random_valid_action(info, rng)
        step_a, step_b = env.step(action), clone.step(action)
        _assert_same(step_a, step_b)
        info = step_a[4]


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_spec_json_round_trip(env_id: str) -> None:
    spec = gym.spec(env_id)
    restored = EnvSpec.from_json(spec.to_json())
    assert restored == spec
    assert json.loads(spec.to_json())["entry_point"] == lrm_gym.registration.ENTRY_POINT
    assert restored.make().unwrapped.scenario == spec.make().unwrapped.scenario


def test_make_with_scenario_and_overrides_kwargs(tmp_path) -> None:
    env = gym.make("lrm_gym/EnergyRouting-v2", scenario="oversupply", overrides={"horizon_slots": 3})
    assert env.unwrapped.params.horizon_slots == 3
    assert env.unwrapped.scenario.supply.provisioning == 1.3


def _assert_same(a: object, b: object) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, tuple | list):
        assert isinstance(b, tuple | list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b and type(a) is type(b)


def test_resolve_env_id_takes_ids_and_scenario_names_and_names_what_is_unknown() -> None:
    assert lrm_gym.registration.resolve_env_id("volatile") == lrm_gym.env_id("volatile")
    assert lrm_gym.registration.resolve_env_id("lrm_gym/EnergyRouting-v2") == "lrm_gym/EnergyRouting-v2"
    with pytest.raises(ValueError, match="unknown env 'Nowhere-v9'"):
        lrm_gym.registration.resolve_env_id("Nowhere-v9")
