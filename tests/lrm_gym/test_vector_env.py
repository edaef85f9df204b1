"""The native vector env: registration, exact parity with the single env, statistics, invariants, errors."""

from __future__ import annotations

import pickle
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrm_gym
from lrm_gym.envs.vector import EnergyRoutingVectorEnv
from tests.conftest import ALL_IDS

SHORT = {"horizon_slots": 3}  # short episodes so every parity run crosses episode boundaries


def _make_vec(env_id: str, num_envs: int, **kwargs: Any) -> EnergyRoutingVectorEnv:
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    assert isinstance(env, EnergyRoutingVectorEnv)
    return env


def _random_actions(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random valid action per row of a ``(n, A)`` mask."""
    keys = np.where(mask.astype(bool), rng.random(mask.shape), -1.0)
    return keys.argmax(axis=1)


def _assert_row(batch: Any, row: int, single: Any) -> None:
    """Row ``row`` of a batched obs/info equals the single env's, with the single env's types."""
    if isinstance(single, dict):
        assert isinstance(batch, dict)
        assert set(batch) == set(single) | {f"_{key}" for key in single}
        for key, value in single.items():
            assert batch[f"_{key}"][row] if f"_{key}" in batch else True
            _assert_row(batch[key], row, value)
    elif isinstance(single, np.ndarray):
        assert batch.dtype == single.dtype
        np.testing.assert_array_equal(batch[row], single)
    else:
        kind = {bool: "b", int: "i", float: "f", np.float64: "f"}[type(single)]
        assert batch.dtype.kind == kind
        assert batch[row].item() == single


def _assert_obs_row(batch: dict[str, np.ndarray], row: int, single: dict[str, np.ndarray]) -> None:
    assert batch.keys() == single.keys()
    for key in single:
        assert batch[key].dtype == single[key].dtype
        np.testing.assert_array_equal(batch[key][row], single[key])


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_make_vec_returns_the_native_env_with_batched_spaces(env_id: str) -> None:
    envs = _make_vec(env_id, 3)
    single = gym.make(env_id)
    assert envs.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    assert envs.single_observation_space == single.observation_space
    assert envs.observation_space == batch_space(single.observation_space, 3)
    assert envs.single_action_space.n == single.action_space.n
    assert envs.scenario == single.unwrapped.scenario
    obs, info = envs.reset(seed=0)
    assert envs.observation_space.contains(obs)
    assert info["action_mask"].shape == (3, single.action_space.n) and info["action_mask"].dtype == np.bool_
    np.testing.assert_array_equal(envs.action_masks(), info["action_mask"])


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_one_sub_env_matches_the_single_env_across_episodes(env_id: str) -> None:
    """Same seed, same generator: identical obs, reward, flags and info, autoreset step included."""
    single = gym.make(env_id, overrides=SHORT)
    envs = _make_vec(env_id, 1, overrides=SHORT)
    obs_s, info_s = single.reset(seed=11)
    obs_v, info_v = envs.reset(seed=11)
    rng = np.random.default_rng(0)
    episodes = 0
    while episodes < 3:
        _assert_obs_row(obs_v, 0, obs_s)
        _assert_row(info_v, 0, info_s)
        action = _random_actions(info_v["action_mask"], rng)
        obs_s, reward_s, terminated_s, truncated_s, info_s = single.step(int(action[0]))
        obs_v, reward_v, terminated_v, truncated_v, info_v = envs.step(action)
        assert (reward_v[0], terminated_v[0], truncated_v[0]) == (reward_s, terminated_s, truncated_s)
        if truncated_s:
            episodes += 1
            _assert_obs_row(obs_v, 0, obs_s)
            _assert_row(info_v, 0, info_s)
            # NEXT_STEP autoreset: the next vector step resets; its action is ignored
            obs_s, info_s = single.reset()
            obs_v, reward_v, terminated_v, truncated_v, info_v = envs.step(np.array([0]))
            assert (reward_v[0], terminated_v[0], truncated_v[0]) == (0.0, False, False)
            assert info_v["slot"][0] == 0


# Paths of the core that the named scenarios do not take: noisy and hidden difficulty, constant arrivals,
# queue overflow, tasks no model has room for (deferred or dropped without a decision), storage limits.
EDGE_OVERRIDES = [
    {"horizon_slots": 3, "observation": {"difficulty_noise": 1.5}, "arrivals": {"kind": "constant"}},
    {"horizon_slots": 3, "observation": {"difficulty_visible": False}, "queue": {"capacity": 8}},
    {
        "horizon_slots": 4,
        "arrivals": {"rate_per_slot": 8.0},
        "models": [
            {"name": "small", "params": 1.5e9, "tokens_per_step": 350, "capacity_tokens_per_slot": 6000},
            {"name": "large", "params": 3.2e10, "tokens_per_step": 350, "capacity_tokens_per_slot": 9000},
        ],
        "storage": {"capacity_wh": 2.0, "max_charge_w": 50.0, "max_discharge_w": 80.0},
    },
]


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_each_row_matches_a_single_env_given_the_same_seed(env_id: str) -> None:
    _assert_rows_match_single_envs(env_id, SHORT)


@pytest.mark.parametrize("overrides", EDGE_OVERRIDES)
def test_each_row_matches_a_single_env_on_edge_paths(overrides: dict[str, Any]) -> None:
    _assert_rows_match_single_envs("lrm_gym/EnergyRouting-v2", overrides)


def _assert_rows_match_single_envs(env_id: str, overrides: dict[str, Any]) -> None:
    """Row r of a vector env reset with per-row seeds equals a single env reset with seed r's seed.

    Rows reach their episode ends at different steps, so one row autoresets (continuing its random stream,
    as the single env's ``reset()`` without a seed does) while the others step on.
    """
    n = 3
    seeds = [101, 202, 303]
    singles = [gym.make(env_id, overrides=overrides) for _ in range(n)]
    envs = _make_vec(env_id, n, overrides=overrides)
    outs = [env.reset(seed=seed) for env, seed in zip(singles, seeds, strict=True)]
    obs_v, info_v = envs.reset(seed=seeds)
    rng = np.random.default_rng(1)
    pending_reset = [False] * n
    ends = 0
    for _ in range(1500):
        for r, (obs_s, info_s) in enumerate(outs):
            _assert_obs_row(obs_v, r, obs_s)
            _assert_row(info_v, r, info_s)
        actions = _random_actions(info_v["action_mask"], rng)
        obs_v, reward_v, _, truncated_v, info_v = envs.step(actions)
        for r, env in enumerate(singles):
            if pending_reset[r]:
                outs[r] = env.reset()
                assert (reward_v[r], truncated_v[r]) == (0.0, False)
                pending_reset[r] = False
                continue
            obs_s, reward_s, _, truncated_s, info_s = env.step(int(actions[r]))
            assert (reward_v[r], truncated_v[r]) == (reward_s, truncated_s)
            outs[r] = (obs_s, info_s)
            pending_reset[r] = truncated_s
            ends += truncated_s
    assert ends >= n  # every row crossed at least one episode boundary (on average about 2)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_a_row_continues_like_the_single_env_it_was_copied_from(env_id: str) -> None:
    """Inject a single env's mid-episode state (its random stream included) into row 1 of a vector env; both
    go on alike."""
    single = gym.make(env_id, overrides=SHORT)
    _, info_s = single.reset(seed=9)
    rng = np.random.default_rng(2)
    for _ in range(37):  # somewhere inside an episode
        _, _, _, _, info_s = single.step(int(_random_actions(info_s["action_mask"][None], rng)[0]))
    envs = _make_vec(env_id, 3, overrides=SHORT)
    envs.reset(seed=1)
    inner = single.unwrapped
    envs._state.copy_rows_from(inner._state, np.array([1]))
    for _ in range(2_000):  # enough for the longest short episode (fleet-b200-qwen3: 150 tasks per slot)
        masks = envs.action_masks()
        np.testing.assert_array_equal(masks[1], inner.action_masks())
        actions = _random_actions(masks, rng)
        obs_s, reward_s, _, truncated_s, info_s = single.step(int(actions[1]))
        obs_v, reward_v, _, truncated_v, info_v = envs.step(actions)
        _assert_obs_row(obs_v, 1, obs_s)
        _assert_row(info_v, 1, info_s)
        assert (reward_v[1], truncated_v[1]) == (reward_s, truncated_s)
        if truncated_s:
            break
    assert truncated_s  # the copied episode was followed to its end


def test_same_seed_gives_identical_batches() -> None:
    def rollout(seed: int) -> list[Any]:
        envs = _make_vec("lrm_gym/EnergyRouting-Volatile-v2", 8, overrides=SHORT)
        rng = np.random.default_rng(5)
        out: list[Any] = [envs.reset(seed=seed)]
        for _ in range(300):
            out.append(envs.step(_random_actions(envs.action_masks(), rng)))
        return out

    first, second, other = rollout(4), rollout(4), rollout(5)
    _assert_identical(first, second)
    assert not np.array_equal(first[-1][0]["energy"], other[-1][0]["energy"])


def _assert_identical(a: Any, b: Any) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_identical(a[key], b[key])
    elif isinstance(a, tuple | list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_identical(x, y)
    else:
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def _cheapest_feasible(mask: np.ndarray, params: lrm_gym.Params) -> np.ndarray:
    """A fixed policy: the option with the lowest mean energy for an average task, defer if none runs."""
    order = np.argsort(params.energy_mean_j.mean(axis=(0, 1)), kind="stable")
    feasible = mask[:, 1:][:, order].astype(bool)
    first = feasible.argmax(axis=1)
    return np.where(feasible.any(axis=1), order[first] + 1, 0)


def test_episode_metrics_agree_statistically() -> None:
    """64 vector episodes against 64 single-env episodes (independent seeds) under one fixed policy.

    For each metric the two means must agree within 4 standard errors of their difference,
    ``4 * sqrt(se_v^2 + se_s^2)``: a false alarm has probability about 6e-5 per metric when the two envs
    simulate the same process. The spreads must agree too (sub-envs that shared draws would agree in mean
    but not in spread): ``log(var_v / var_s)`` has standard error ``sqrt(2 * (2 / (n - 1) + kurt / n))``
    with ``kurt`` the pooled excess kurtosis, and must lie within 4 of them.
    """
    overrides = {"horizon_slots": 10, "arrivals": {"rate_per_slot": 6.0}}
    env_id = "lrm_gym/EnergyRouting-Volatile-v2"
    episodes = 64
    keys = ("reward", "auxiliary_j", "waste_j", "tasks_correct", "tasks_dropped")

    envs = _make_vec(env_id, episodes, overrides=overrides)
    _, info = envs.reset(seed=2024)
    vec = {key: np.zeros(episodes) for key in keys}
    done = np.zeros(episodes, bool)
    while not done.all():
        _, reward, _, truncated, info = envs.step(_cheapest_feasible(info["action_mask"], envs.params))
        vec["reward"] += np.where(done, 0.0, reward)
        for key in keys[1:]:
            vec[key] = np.where(truncated & ~done, info["totals"][key], vec[key])
        done |= truncated

    single = gym.make(env_id, overrides=overrides)
    ref = {key: np.zeros(episodes) for key in keys}
    for episode in range(episodes):
        _, info = single.reset(seed=10_000 + episode)
        truncated = False
        while not truncated:
            action = _cheapest_feasible(info["action_mask"][None], envs.params)[0]
            _, reward, _, truncated, info = single.step(int(action))
            ref["reward"][episode] += reward
        for key in keys[1:]:
            ref[key][episode] = info["totals"][key]

    for key in keys:
        se = np.sqrt(vec[key].var(ddof=1) / episodes + ref[key].var(ddof=1) / episodes)
        assert abs(vec[key].mean() - ref[key].mean()) <= 4.0 * se + 1e-12, key
        var_v, var_s = vec[key].var(ddof=1), ref[key].var(ddof=1)
        if var_v == var_s == 0.0:  # a metric constant in both (no drops under this policy) agrees exactly
            continue
        assert var_v > 0 and var_s > 0, key
        pooled = np.concatenate([vec[key] - vec[key].mean(), ref[key] - ref[key].mean()])
        kurt = max(float(np.mean(pooled**4) / np.mean(pooled**2) ** 2) - 3.0, 0.0)
        se_log = np.sqrt(2.0 * (2.0 / (episodes - 1) + kurt / episodes))
        assert abs(np.log(var_v / var_s)) <= 4.0 * se_log, key


@st.composite
def _vector_cases(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "scenario": draw(st.sampled_from(lrm_gym.scenario_names())),
        "num_envs": draw(st.integers(1, 6)),
        "seed": draw(st.integers(0, 2**16)),
        "overrides": {
            "horizon_slots": draw(st.integers(1, 4)),
            "arrivals": {"rate_per_slot": draw(st.floats(0.5, 12.0))},
            "storage": {
                "capacity_wh": draw(st.sampled_from([0.0, 1.0, 50.0])),
                "initial_fraction": draw(st.floats(0.0, 1.0)),
            },
        },
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_vector_cases())
def test_energy_identities_hold_for_every_sub_env_at_every_step(case: dict[str, Any]) -> None:
    envs = EnergyRoutingVectorEnv(case["num_envs"], scenario=case["scenario"], overrides=case["overrides"])
    store = envs.params.storage
    rng = np.random.default_rng(case["seed"])
    _, info = envs.reset(seed=case["seed"])
    rel = 1e-9  # float rounding, relative to the energies involved
    truncated = np.zeros(case["num_envs"], bool)
    for _ in range(150):
        # a sub-env truncated on the previous step resets now and starts from the initial level
        before = np.where(truncated, store.initial_j, info["storage_j"])
        _, _, _, truncated, info = envs.step(_random_actions(info["action_mask"], rng))
        scale = np.maximum(np.maximum(info["baseline_j"], info["demand_j"]), max(store.capacity_j, 1.0))
        supply_side = info["baseline_j"] + info["discharge_j"] + info["auxiliary_j"]
        demand_side = info["demand_j"] + info["charge_j"] + info["waste_j"]
        assert np.all(np.abs(supply_side - demand_side) <= rel * scale)
        level = before + store.charge_efficiency * info["charge_j"] - info["discharge_j"] / store.discharge_efficiency
        assert np.all(np.abs(info["storage_j"] - level) <= rel * scale)
        assert np.all((info["storage_j"] >= 0.0) & (info["storage_j"] <= store.capacity_j))
        for key in ("auxiliary_j", "waste_j", "charge_j", "discharge_j"):
            assert np.all(info[key] >= 0.0)


def test_autoreset_after_max_episode_steps() -> None:
    envs = _make_vec("lrm_gym/EnergyRouting-v2", 2, max_episode_steps=4)
    _, info = envs.reset(seed=0)
    rng = np.random.default_rng(0)
    for step in range(1, 5):
        _, reward, terminated, truncated, info = envs.step(_random_actions(info["action_mask"], rng))
        assert not terminated.any()
        assert truncated.all() == (step == 4)
    totals_before = info["totals"]["tasks_arrived"].copy()
    _, reward, terminated, truncated, info = envs.step(np.array([0, 0]))  # ignored: both sub-envs reset
    np.testing.assert_array_equal(reward, 0.0)
    assert not truncated.any() and not terminated.any()
    np.testing.assert_array_equal(info["slot"], 0)
    np.testing.assert_array_equal(info["totals"]["tasks_arrived"], info["tasks_arrived"])
    assert totals_before.sum() > 0


def test_action_space_sample_is_valid_for_every_sub_env() -> None:
    envs = _make_vec("lrm_gym/EnergyRouting-v2", 16)
    envs.reset(seed=1)
    envs.action_space.seed(0)
    for _ in range(50):
        actions = envs.action_space.sample()
        assert envs.action_masks()[np.arange(16), actions].all()
        envs.step(actions)


@pytest.mark.parametrize("num_envs", [0, -1, 2.5, True, "4"])
def test_bad_num_envs(num_envs: Any) -> None:
    with pytest.raises(ValueError, match="num_envs"):
        EnergyRoutingVectorEnv(num_envs)


def test_bad_actions_get_clear_errors() -> None:
    envs = EnergyRoutingVectorEnv(4, strict=True)
    with pytest.raises(RuntimeError, match="reset"):
        envs.step(np.zeros(4, np.int64))
    _, info = envs.reset(seed=3)
    valid = _random_actions(info["action_mask"], np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        envs.step(valid[:3])
    with pytest.raises(ValueError, match="integer"):
        envs.step(valid.astype(np.float64))
    with pytest.raises(ValueError, match="lie in"):
        envs.step(np.full(4, envs.n_actions))
    while info["action_mask"].all():  # step until some sub-env's task has a masked action
        _, _, _, _, info = envs.step(valid)
        valid = _random_actions(info["action_mask"], np.random.default_rng(0))
    row, action = np.argwhere(info["action_mask"] == 0)[0]
    bad = valid.copy()
    bad[row] = action
    with pytest.raises(ValueError, match="masked"):
        envs.step(bad)
    envs.step(valid)  # the env is still usable after refused actions


def test_bad_constructor_and_reset_arguments() -> None:
    with pytest.raises(ValueError, match="max_episode_steps"):
        EnergyRoutingVectorEnv(2, max_episode_steps=0)
    with pytest.raises(ValueError, match="render_mode"):
        EnergyRoutingVectorEnv(2, render_mode="human")
    envs = EnergyRoutingVectorEnv(2)
    with pytest.raises(ValueError, match="seed"):
        envs.reset(seed=[1, 2, 3])  # one seed per sub-env, or one integer
    with pytest.raises(ValueError, match="seed"):
        envs.reset(seed=-1)
    with pytest.raises(ValueError, match="seed"):
        envs.reset(seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="options"):
        envs.reset(options={"x": 1})


@pytest.mark.parametrize("render_mode", ["ansi", "rgb_array"])
def test_render_shows_sub_env_zero(render_mode: str) -> None:
    envs = EnergyRoutingVectorEnv(2, render_mode=render_mode, overrides=SHORT)
    _, info = envs.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(60):
        _, _, _, _, info = envs.step(_random_actions(info["action_mask"], rng))
    frames = envs.render()
    assert isinstance(frames, tuple) and len(frames) == 1
    frame = frames[0]
    assert isinstance(frame, str) if render_mode == "ansi" else frame.shape[-1] == 3


def test_pickle_round_trip_continues_identically() -> None:
    envs = EnergyRoutingVectorEnv(4, scenario="volatile", overrides=SHORT)
    _, info = envs.reset(seed=3)
    rng = np.random.default_rng(4)
    for _ in range(30):
        _, _, _, _, info = envs.step(_random_actions(info["action_mask"], rng))
    clone = pickle.loads(pickle.dumps(envs))
    for _ in range(60):
        actions = _random_actions(info["action_mask"], rng)
        out, out_clone = envs.step(actions), clone.step(actions)
        _assert_identical(out, out_clone)
        info = out[4]
    for _ in range(20):  # the clone's action space samples from the clone's masks again
        actions = clone.action_space.sample()
        assert clone.action_masks()[np.arange(4), actions].all()
        clone.step(actions)


def test_seed_forms_and_key_masks() -> None:
    """An integer seed s gives sub-env i the seed s + i; a list gives each its own; ``_key`` masks are
    all True and read-only."""
    by_int = _make_vec("lrm_gym/EnergyRouting-Volatile-v2", 3, overrides=SHORT)
    by_list = _make_vec("lrm_gym/EnergyRouting-Volatile-v2", 3, overrides=SHORT)
    obs_int, info = by_int.reset(seed=40)
    obs_list, _ = by_list.reset(seed=[40, 41, 42])
    for key in obs_int:
        np.testing.assert_array_equal(obs_int[key], obs_list[key])
    single = gym.make("lrm_gym/EnergyRouting-Volatile-v2", overrides=SHORT)
    obs_single, _ = single.reset(seed=42)
    _assert_obs_row(obs_int, 2, obs_single)
    assert info["_slot"].all() and info["totals"]["_tasks_queued"].all()
    with pytest.raises(ValueError, match="read-only"):
        info["_slot"][0] = False
