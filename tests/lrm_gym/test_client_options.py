"""Make kwargs for generic RL codebases: masked-action fallback, strict mode, flat observation, cost signal."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.utils.performance import benchmark_vector_step

import lrm_gym
from lrm_gym.core.params import JOULES_PER_KWH
from lrm_gym.envs.compat import fallback_actions
from tests.conftest import random_valid_action, small_overrides

URGENT = {"classes": [{"name": "urgent", "weight": 1.0, "difficulty": 3, "slack_slots": 0}]}
# One small model whose capacity fills within a slot: options get masked while defer stays valid.
CROWDED = {
    "horizon_slots": 6,
    "arrivals": {"kind": "constant", "rate_per_slot": 6.0},
    "models": [{"name": "tiny", "params": 1e9, "tokens_per_step": 100, "capacity_tokens_per_slot": 1500}],
}


def make(**kwargs: Any) -> gym.Env:
    overrides = kwargs.pop("overrides", {})
    return gym.make("lrm_gym/EnergyRouting-v2", overrides=small_overrides(**overrides), **kwargs)


def test_fallback_is_the_lowest_valid_action() -> None:
    masks = np.array([[True, True, False], [False, False, True], [False, True, True]])
    assert fallback_actions(masks).tolist() == [0, 2, 1]


def test_masked_defer_runs_the_first_option_and_is_flagged() -> None:
    env, plain = make(overrides={"tasks": URGENT}), make(overrides={"tasks": URGENT})
    _, info = env.reset(seed=0)
    plain.reset(seed=0)
    assert info["masked_action"] is False and info["executed_action"] == -1
    assert not info["action_mask"][0]
    _, reward, _, _, info = env.step(0)
    _, plain_reward, _, _, plain_info = plain.step(1)
    assert info["masked_action"] is True and info["executed_action"] == 1
    assert reward == plain_reward and info["task_energy_j"] == plain_info["task_energy_j"]


def test_masked_option_defers_while_the_task_has_slack() -> None:
    env = make(overrides=CROWDED)
    _, info = env.reset(seed=0)
    seen = 0
    truncated = False
    while not truncated:
        masked = np.flatnonzero(~info["action_mask"])
        if masked.size and info["action_mask"][0]:
            _, _, _, truncated, info = env.step(int(masked[0]))
            assert info["masked_action"] is True and info["executed_action"] == 0
            assert info["tasks_deferred"] >= 1
            seen += 1
        else:
            _, _, _, truncated, info = env.step(1 if info["action_mask"][1] else 0)
    assert seen > 0, "the scenario must mask an option while defer is valid"


def test_penalty_is_subtracted_only_for_masked_actions() -> None:
    env, plain = make(overrides={"tasks": URGENT}, masked_action_penalty=2.5), make(overrides={"tasks": URGENT})
    env.reset(seed=0)
    plain.reset(seed=0)
    _, reward, _, _, _ = env.step(0)
    _, plain_reward, _, _, _ = plain.step(1)
    assert reward == pytest.approx(plain_reward - 2.5)
    _, reward, _, _, info = env.step(2)
    _, plain_reward, _, _, _ = plain.step(2)
    assert info["masked_action"] is False and reward == plain_reward


def test_strict_raises_on_a_masked_action_in_single_and_vector_envs() -> None:
    env = make(overrides={"tasks": URGENT}, strict=True)
    env.reset(seed=0)
    with pytest.raises(lrm_gym.core.dynamics.InvalidActionError, match="masked"):
        env.step(0)
    envs = lrm_gym.EnergyRoutingVectorEnv(2, overrides=small_overrides(tasks=URGENT), strict=True)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="masked"):
        envs.step(np.array([1, 0]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strict": 1}, "strict"),
        ({"masked_action_penalty": -1.0}, "masked_action_penalty"),
        ({"masked_action_penalty": float("nan")}, "masked_action_penalty"),
        ({"observation": "image"}, "observation"),
        ({"cost": "dollars"}, "cost"),
    ],
)
def test_bad_kwargs_are_named(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        lrm_gym.EnergyRoutingEnv(**kwargs)
    with pytest.raises(ValueError, match=match):
        lrm_gym.EnergyRoutingVectorEnv(2, **kwargs)


def test_vector_env_replaces_masked_actions_like_single_envs() -> None:
    """Every sub-env given a random action (masked or not) matches a single env given the same action."""
    overrides = small_overrides(**CROWDED)
    n, penalty = 3, 0.5
    envs = lrm_gym.EnergyRoutingVectorEnv(n, overrides=overrides, masked_action_penalty=penalty)
    singles = [
        gym.make("lrm_gym/EnergyRouting-v2", overrides=overrides, masked_action_penalty=penalty) for _ in range(n)
    ]
    envs.reset(seed=[5, 6, 7])
    for single, seed in zip(singles, [5, 6, 7], strict=True):
        single.reset(seed=seed)
    rng = np.random.default_rng(0)
    masked_steps = 0
    for _ in range(40):  # within the first episode (6 slots of 6 tasks)
        actions = rng.integers(0, envs.n_actions, n)
        _, rewards, _, truncated, info = envs.step(actions)
        for r, single in enumerate(singles):
            _, reward, _, single_truncated, single_info = single.step(int(actions[r]))
            assert rewards[r] == reward and truncated[r] == single_truncated
            assert info["masked_action"][r] == single_info["masked_action"]
            assert info["executed_action"][r] == single_info["executed_action"]
            assert info["cost"][r] == single_info["cost"]
        masked_steps += int(info["masked_action"].sum())
        if truncated.any():
            break
    assert masked_steps > 0


def _valid_trajectory_hash(env: gym.Env, seed: int, steps: int) -> str:
    rng = np.random.default_rng(seed)
    digest = hashlib.sha256()
    obs, info = env.reset(seed=seed)
    for _ in range(steps):
        for key in sorted(obs):
            digest.update(obs[key].tobytes())
        obs, reward, _, truncated, info = env.step(random_valid_action(info, rng))
        digest.update(np.float64(reward).tobytes())
        digest.update(np.float64(info["auxiliary_j"]).tobytes())
        if truncated:
            obs, info = env.reset()
    return digest.hexdigest()[:16]


def test_valid_action_trajectories_are_unchanged_by_the_fallback() -> None:
    """Default, strict and penalised envs give bit-identical trajectories under valid actions, and the same as
    the -v1 env before masked actions became legal (the hash was recorded with that release's code)."""
    overrides = {"horizon_slots": 20}
    hashes = {
        _valid_trajectory_hash(gym.make("lrm_gym/EnergyRouting-v2", overrides=overrides, **kwargs), 3, 600)
        for kwargs in ({}, {"strict": True}, {"masked_action_penalty": 3.0})
    }
    assert hashes == {"8200d9131ab0230f"}


@pytest.mark.parametrize("env_id", ["lrm_gym/EnergyRouting-v2", "lrm_gym/EnergyRouting-SolarBattery-v2"])
def test_flat_observation_equals_the_flattened_dict(env_id: str) -> None:
    flat = gym.make(env_id, observation="flat", overrides={"horizon_slots": 4})
    wrapped = lrm_gym.FlattenRoutingObservation(gym.make(env_id, overrides={"horizon_slots": 4}))
    assert flat.observation_space == wrapped.observation_space
    obs, _ = flat.reset(seed=1)
    expected, _ = wrapped.reset(seed=1)
    rng = np.random.default_rng(0)
    truncated = False
    while not truncated:
        np.testing.assert_array_equal(obs, expected)
        assert obs.dtype == np.float32 and flat.observation_space.contains(obs)
        action = int(rng.integers(flat.action_space.n))
        obs, _, _, truncated, _ = flat.step(action)
        expected, _, _, _, _ = wrapped.step(action)


def test_observation_slices_name_the_flat_vector() -> None:
    env = gym.make("lrm_gym/EnergyRouting-v2", observation="flat")
    slices = env.unwrapped.observation_slices
    dict_space = lrm_gym.EnergyRoutingEnv().observation_space
    obs, info = env.reset(seed=0)
    dict_obs, _ = gym.make("lrm_gym/EnergyRouting-v2").reset(seed=0)
    for key in dict_space.spaces:  # whole keys: the Dict's values, in flatten order, covering the vector
        np.testing.assert_array_equal(obs[slices[key]], dict_obs[key])
        parts = sorted((s.start, s.stop) for name, s in slices.items() if name.startswith(f"{key}/"))
        assert parts[0][0] == slices[key].start and parts[-1][1] == slices[key].stop
        assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))  # contiguous, no gaps
    assert slices["task"].stop == obs.size
    np.testing.assert_array_equal(obs[slices["options/feasible"]], info["action_mask"][1:])
    assert obs[slices["task/class"]].sum() == 1.0


def test_flat_envs_pass_the_checkers() -> None:
    check_env(gym.make("lrm_gym/EnergyRouting-v2", observation="flat").unwrapped, skip_render_check=True)
    envs = lrm_gym.EnergyRoutingVectorEnv(3, observation="flat", overrides={"horizon_slots": 3})
    single = gym.make("lrm_gym/EnergyRouting-v2", observation="flat", overrides={"horizon_slots": 3})
    obs, _ = envs.reset(seed=[4, 5, 6])
    assert envs.observation_space.contains(obs) and obs.shape == (3, *single.observation_space.shape)
    np.testing.assert_array_equal(obs[1], single.reset(seed=5)[0])


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_gymnasium_vector_envs_step_with_unmasked_batch_samples(mode: str) -> None:
    """Gymnasium's own vector envs batch a plain Discrete space: its samples include masked actions."""
    envs = gym.make_vec("lrm_gym/EnergyRouting-v2", num_envs=2, vectorization_mode=mode, overrides={"horizon_slots": 4})
    envs.reset(seed=0)
    envs.action_space.seed(0)
    masked = 0
    for _ in range(100):
        _, _, _, _, info = envs.step(envs.action_space.sample())
        masked += int(info["masked_action"].sum())
    envs.close()
    assert masked > 0
    assert benchmark_vector_step(gym.make_vec("lrm_gym/EnergyRouting-v2", 2, "sync"), target_duration=0.2) > 0


@pytest.mark.parametrize(
    ("cost", "counter", "scale"),
    [
        ("auxiliary_kwh", "auxiliary_j", 1 / JOULES_PER_KWH),
        ("carbon_kg", "auxiliary_carbon_g", 1e-3),
        ("waste_kwh", "waste_j", 1 / JOULES_PER_KWH),
    ],
)
def test_cost_is_the_chosen_counter_in_its_unit(cost: str, counter: str, scale: float) -> None:
    kwargs = {} if cost == "auxiliary_kwh" else {"cost": cost}  # the default is auxiliary energy
    env = gym.make("lrm_gym/EnergyRouting-Volatile-v2", overrides={"horizon_slots": 12}, **kwargs)
    envs = lrm_gym.EnergyRoutingVectorEnv(2, scenario="volatile", overrides={"horizon_slots": 12}, **kwargs)
    _, info = env.reset(seed=0)
    envs.reset(seed=0)
    total, truncated = info["cost"], False
    while not truncated:
        _, _, _, truncated, info = env.step(env.action_space.n - 1)
        _, _, _, _, vinfo = envs.step(np.full(2, env.action_space.n - 1))
        assert info["cost"] == info[counter] * scale and info["cost"] >= 0
        assert vinfo["cost"][0] == info["cost"]
        total += info["cost"]
    assert info["totals"]["cost"] == pytest.approx(total) and total > 0
