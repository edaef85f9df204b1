"""The slot-level envs (docs/model.md section 18): checkers, agreement with the per-task env, the vector env,
the policy stream, spaces and errors."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

import lrm_gym
from lrm_gym.core.slot_dynamics import MODES, allowance_action, routing_action, routing_rows
from lrm_gym.core.state import COUNTERS
from lrm_gym.envs.dispatch import EnergyDispatchEnv
from lrm_gym.envs.dispatch_vector import EnergyDispatchVectorEnv
from lrm_gym.registration import DISPATCH_VERSION, dispatch_env_id, env_id
from tests.conftest import DISPATCH_IDS

SHORT = {"horizon_slots": 6}
BUSY = {"horizon_slots": 20, "arrivals": {"rate_per_slot": 100.0}}  # more long large-model tasks than capacity


def test_every_scenario_has_a_dispatch_id_at_the_dispatch_version() -> None:
    assert "lrm_gym/EnergyDispatch-v2" in DISPATCH_IDS
    for name in lrm_gym.scenario_names():
        assert dispatch_env_id(name) in DISPATCH_IDS
        assert gym.spec(dispatch_env_id(name)).vector_entry_point is not None
    assert all(i.endswith(f"-v{DISPATCH_VERSION}") for i in DISPATCH_IDS)
    history = (EnergyDispatchEnv.__doc__ or "").split("## Version History", 1)[1]
    assert history.strip().startswith(f"* v{DISPATCH_VERSION}:")


@pytest.mark.parametrize("env_id_", DISPATCH_IDS)
def test_gymnasium_checker_is_clean_on_every_id(env_id_: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(gym.make(env_id_, overrides=SHORT).unwrapped)


@pytest.mark.parametrize("mode", MODES)
def test_gymnasium_checker_is_clean_in_every_action_mode(mode: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(gym.make("lrm_gym/EnergyDispatch-SolarBattery-v2", action=mode, overrides=SHORT).unwrapped)


# ---------------------------------------------------------------------------------------------------------
# Agreement with the per-task env


def _closest_valid(params: Any, obs: dict[str, np.ndarray], mask: np.ndarray, option: int) -> int:
    """The per-task action of "always ``option``, else the valid option closest in expected energy"."""
    if mask[1 + option]:
        return 1 + option
    layout = lrm_gym.core.observation.observation_layout(params)
    cls = int(np.argmax(obs["task"][layout.task.one_hot_class]))
    index = int(np.rint(obs["task"][layout.task.difficulty]))
    energy = params.energy_mean_j[cls, index]
    gap = np.where(mask[1:], np.abs(energy - energy[option]), np.inf)
    return 1 + int(np.argmin(gap))


def _per_task_slots(scenario: str, seed: int, option: int) -> tuple[list[list[tuple[float, dict]]], dict]:
    """A per-task episode of the fixed-option rule, its steps grouped by slot (a group ends at a slot close)."""
    env = gym.make(env_id(scenario), overrides=BUSY)
    params = env.unwrapped.params
    obs, info = env.reset(seed=seed)
    groups: list[list[tuple[float, dict]]] = [[]]
    truncated = False
    while not truncated:
        action = _closest_valid(params, obs, info["action_mask"], option)
        obs, reward, _, truncated, info = env.step(action)
        groups[-1].append((reward, info))
        if info["slots_closed"] > 0:
            groups.append([])
    return [g for g in groups if g], info


@pytest.mark.parametrize(
    ("scenario", "mode", "capacity_binds"),
    [("critical", "class-routing", True), ("solar-battery", "type-routing", False)],
)
def test_a_one_hot_routing_gives_the_per_task_fixed_option_trajectory(
    scenario: str, mode: str, capacity_binds: bool
) -> None:
    """Large model, long budget. On ``critical`` at 100 tasks per slot its capacity masks it for part of each
    slot, so the replacement rule runs too; ``solar-battery`` (storage) has room for every task."""
    env = gym.make(dispatch_env_id(scenario), action=mode, overrides=BUSY)
    params = env.unwrapped.params
    option = params.n_options - 1
    weights = np.zeros((len(routing_rows(params, mode).labels), 1 + params.n_options))
    weights[:, 1 + option] = 1.0
    action = routing_action(weights)
    for seed in (0, 1):
        groups, last = _per_task_slots(scenario, seed, option)
        env.reset(seed=seed)
        masked = 0
        for group in groups:
            _, reward, _, truncated, info = env.step(action)
            assert reward == sum(r for r, _ in group)  # the same additions in the same order: exact
            assert info["decisions"] == len(group)
            for name in COUNTERS:
                assert info[name] == sum(i[name] for _, i in group), name
            assert info["storage_j"] == group[-1][1]["storage_j"]
            masked += sum(i["task_option"] not in (-1, option) for _, i in group)
        assert truncated
        assert info["totals"] == {k: v for k, v in last["totals"].items()}
        assert (masked > 0) == capacity_binds


def test_the_policy_stream_leaves_the_exogenous_record_unchanged() -> None:
    """Supply, arrivals and forecasts of a seed do not depend on the action mode or the action's draws."""
    records = []
    for mode, seed_actions in (("allowance", 0), ("class-routing", 1), ("class-routing", 2)):
        env = gym.make("lrm_gym/EnergyDispatch-Volatile-v2", action=mode, overrides={"horizon_slots": 15})
        _, info = env.reset(seed=4)
        rng = np.random.default_rng(seed_actions)
        record = [info["tasks_arrived"]]
        truncated = False
        while not truncated:
            action = rng.uniform(-1, 1, env.action_space.shape)
            _, _, _, truncated, info = env.step(action)
            record.append((info["tasks_arrived"], info["baseline_j"]))
        records.append(record)
    assert records[0] == records[1] == records[2]


def test_same_seed_and_actions_give_the_same_episode_and_reset_continues_the_streams() -> None:
    def run(env: gym.Env, seed: int | None) -> list[Any]:
        obs, info = env.reset(seed=seed)
        out = [obs.tobytes(), info]
        for k in range(4):
            obs, reward, _, _, info = env.step(np.full(env.action_space.shape, 0.5 - 0.25 * k, np.float32))
            out += [obs.tobytes(), reward, info]
        return out

    a = gym.make("lrm_gym/EnergyDispatch-v2", action="class-routing")
    b = gym.make("lrm_gym/EnergyDispatch-v2", action="class-routing")
    assert run(a, 3) == run(b, 3)
    assert run(a, None) == run(b, None)  # both continue their streams
    assert run(a, None) != run(a, 3)


# ---------------------------------------------------------------------------------------------------------
# The vector env


@pytest.mark.parametrize("mode", ["allowance", "type-routing"])
def test_vector_rows_replay_single_envs_across_autoresets(mode: str) -> None:
    n, short = 3, {"horizon_slots": 3}
    envs = gym.make_vec("lrm_gym/EnergyDispatch-Volatile-v2", n, "vector_entry_point", action=mode, overrides=short)
    assert isinstance(envs, EnergyDispatchVectorEnv)
    singles = [gym.make("lrm_gym/EnergyDispatch-Volatile-v2", action=mode, overrides=short) for _ in range(n)]
    obs, info = envs.reset(seed=10)
    single_obs = [env.reset(seed=10 + i)[0] for i, env in enumerate(singles)]
    rng = np.random.default_rng(0)
    restart = np.zeros(n, bool)
    for _ in range(9):  # three episodes each, with two autoresets
        actions = rng.uniform(-1, 1, envs.action_space.shape).astype(np.float32)
        obs, rewards, _, truncated, info = envs.step(actions)
        for i, env in enumerate(singles):
            if restart[i]:
                single_obs[i], single_info = env.reset()
                assert rewards[i] == 0.0
            else:
                single_obs[i], reward, _, done, single_info = env.step(actions[i])
                assert rewards[i] == reward and truncated[i] == done
            np.testing.assert_array_equal(obs[i], single_obs[i])
            for key in ("slot", "decisions", "reward_quality", "storage_j", "tasks_arrived"):
                assert info[key][i] == single_info[key] and info[f"_{key}"][i]
            assert info["totals"]["tasks_queued"][i] == single_info["totals"]["tasks_queued"]
        restart = truncated.copy()
    assert obs in envs.observation_space


# ---------------------------------------------------------------------------------------------------------
# Spaces, observation, errors


def test_observation_parts_read_the_state() -> None:
    env = gym.make("lrm_gym/EnergyDispatch-SolarBattery-v2", overrides={"horizon_slots": 12})
    params, at = env.unwrapped.params, env.unwrapped.observation_slices
    obs, info = env.reset(seed=2)
    truncated = False
    while not truncated:
        to_decide = obs[at["queue/to_decide"]].sum()
        assert 0 < to_decide <= info["totals"]["tasks_queued"]
        assert np.all(obs[at["queue/carried"]] <= obs[at["queue/to_decide"]])
        cheapest = obs[at["queue/demand_cheapest"]][0]
        assert cheapest <= obs[at["queue/demand_reference"]][0] and cheapest <= obs[at["queue/demand_richest"]][0]
        assert obs[at["energy/progress"]][0] == pytest.approx(info["slot"] / params.horizon_slots)
        storage = obs[at["energy/storage"]][0] * params.slot_energy_unit_j
        assert storage == pytest.approx(info["storage_j"], rel=1e-6, abs=1e-6)
        obs, _, _, truncated, info = env.step(allowance_action())
        # each decision dispatches or defers; the env also defers or drops tasks no option can run, unasked
        assert info["tasks_dispatched"] <= info["decisions"] <= info["tasks_dispatched"] + info["tasks_deferred"]
    assert np.all(obs[at["queue"]] == 0)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ([0.0, 0.0], r"shape \(3,\)"),
        ([0.0, 1.5, 0.0], r"action\[1\] = 1.5 is outside \[-1, 1\]"),
        ([0.0, float("nan"), 0.0], r"action\[1\] = nan"),
        ("abc", "array of numbers"),
    ],
)
def test_bad_actions_raise_naming_what_is_wrong(action: Any, message: str) -> None:
    env = gym.make("lrm_gym/EnergyDispatch-v2")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)


def test_bad_make_kwargs_and_call_order_raise() -> None:
    with pytest.raises(ValueError, match="action must be one of"):
        gym.make("lrm_gym/EnergyDispatch-v2", action="per-task")
    with pytest.raises(ValueError, match="cost must be one of"):
        gym.make("lrm_gym/EnergyDispatch-v2", cost="money")
    with pytest.raises(RuntimeError, match="reset"):
        gym.make("lrm_gym/EnergyDispatch-v2").unwrapped.step(allowance_action())
    with pytest.raises(ValueError, match="offset must lie"):
        allowance_action(offset=2.0)


def test_truncation_after_the_horizon_and_rgb_render() -> None:
    env = gym.make("lrm_gym/EnergyDispatch-v2", overrides={"horizon_slots": 4}, render_mode="rgb_array")
    env.reset(seed=0)
    steps, truncated = 0, False
    while not truncated:
        _, _, terminated, truncated, info = env.step(allowance_action())
        assert not terminated
        steps += 1
    assert info["totals"]["slots_closed"] == 4 and steps <= 4
    frame = env.render()
    assert frame.shape[2] == 3 and frame.dtype == np.uint8
    with pytest.raises(RuntimeError, match="reset"):
        env.step(allowance_action())
