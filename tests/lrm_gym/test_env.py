"""Behaviour of EnergyRoutingEnv: actions and their errors, info, rewards, truncation, rendering, wrappers."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import lrm_gym
from lrm_gym.core.compiled import drop_stale_cache
from lrm_gym.core.observation import observation_layout
from lrm_gym.core.state import COUNTERS
from lrm_gym.envs.spaces import sample_preferred
from tests.conftest import random_valid_action, small_overrides

INFO_KEYS = {
    "slot",
    *COUNTERS,
    "storage_j",
    "task_option",
    "task_energy_j",
    "task_tokens",
    "task_correct",
    "action_mask",
    "masked_action",
    "executed_action",
    "cost",
    "totals",
}


def make(**overrides) -> gym.Env:
    return gym.make("lrm_gym/EnergyRouting-v2", overrides=small_overrides(**overrides))


def test_info_has_the_same_keys_on_every_step(rng: np.random.Generator) -> None:
    env = make()
    _, info = env.reset(seed=0)
    assert set(info) == INFO_KEYS
    truncated = False
    while not truncated:
        _, _, _, truncated, info = env.step(random_valid_action(info, rng))
        assert set(info) == INFO_KEYS
        assert info["action_mask"].dtype == np.bool_
        assert set(info["totals"]) == {*COUNTERS, "tasks_queued", "cost"}


def test_episode_truncates_after_horizon_slots(rng: np.random.Generator) -> None:
    env = make()
    _, info = env.reset(seed=1)
    steps, truncated, terminated = 0, False, False
    while not truncated:
        _, _, terminated, truncated, info = env.step(random_valid_action(info, rng))
        assert terminated is False
        steps += 1
    assert info["totals"]["slots_closed"] == 12
    assert info["slot"] == 12
    assert steps >= info["totals"]["tasks_dispatched"]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)


def test_step_before_reset_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="reset"):
        make().unwrapped.step(1)


@pytest.mark.parametrize("action", [-1, 10, 99, 1.0, "1", [1, 2], np.array([1.5])])
def test_actions_outside_the_space_raise(action: object) -> None:
    env = make()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.unwrapped.step(action)


def test_masked_actions_raise_under_strict_and_leave_the_env_usable() -> None:
    # One task class without slack: defer is always masked.
    urgent = {"classes": [{"name": "urgent", "weight": 1.0, "difficulty": 3, "slack_slots": 0}]}
    env = gym.make("lrm_gym/EnergyRouting-v2", overrides=small_overrides(tasks=urgent), strict=True)
    _, info = env.reset(seed=0)
    assert info["action_mask"][0] == 0 and not env.unwrapped.action_masks()[0]
    with pytest.raises(ValueError, match="masked"):
        env.step(0)
    _, _, _, _, info = env.step(1)
    assert info["tasks_dispatched"] == 1


def test_capacity_masks_and_automatic_drops() -> None:
    """A model that fits one short task per slot: later tasks see it masked; urgent ones are dropped."""
    env = make(
        arrivals={"kind": "constant", "rate_per_slot": 3.0},
        tasks={"classes": [{"name": "urgent", "weight": 1.0, "difficulty": 1, "prompt_tokens": 0, "slack_slots": 0}]},
        models=[{"name": "tiny", "params": 1e9, "tokens_per_step": 100, "capacity_tokens_per_slot": 400}],
        budgets=[{"name": "four", "max_steps": 4}],
        reward={"drop": 3.0},
    )
    _, info = env.reset(seed=0)
    assert info["action_mask"].tolist() == [0, 1]
    _, _reward, _, _, info = env.step(1)
    # the dispatch used >= 100 tokens, so the next two urgent tasks cannot fit and are dropped at once
    assert info["tasks_dropped"] == 2 and info["reward_drop"] == -6.0
    assert info["slots_closed"] == 1
    assert info["totals"]["tasks_arrived"] == 3 + 3  # the next slot's arrivals are in too


def test_reward_is_the_sum_of_its_components(rng: np.random.Generator) -> None:
    env = make(reward={"auxiliary_per_kwh": 100.0, "waste_per_kwh": 50.0, "waiting_per_task": 0.1, "drop": 1.0})
    _, info = env.reset(seed=2)
    total, truncated = 0.0, False
    while not truncated:
        _, reward, _, truncated, info = env.step(random_valid_action(info, rng))
        assert reward == pytest.approx(sum(v for k, v in info.items() if k.startswith("reward_")))
        total += reward
    episode = sum(v for k, v in info["totals"].items() if k.startswith("reward_"))
    assert total == pytest.approx(episode)


def test_energy_penalties_use_kwh() -> None:
    env = make(reward={"auxiliary_per_kwh": 1000.0, "waste_per_kwh": 10.0})
    _, info = env.reset(seed=3)
    truncated = False
    while not truncated:
        _, _, _, truncated, info = env.step(1)
        assert info["reward_auxiliary"] == pytest.approx(-1000.0 * info["auxiliary_j"] / 3.6e6)
        assert info["reward_waste"] == pytest.approx(-10.0 * info["waste_j"] / 3.6e6)


def test_expected_quality_reward_is_value_times_accuracy() -> None:
    env = make(reward={"quality": "expected"})
    obs, info = env.reset(seed=4)
    params = env.unwrapped.params
    cls = int(np.argmax(obs["task"][: params.n_classes]))
    accuracy = obs["options"][2 * params.n_options + 3]  # option 3 = action 4, exact difficulty
    _, _, _, _, info = env.step(4)
    assert info["reward_quality"] == pytest.approx(params.class_value[cls] * accuracy, rel=1e-6)


def test_defer_ages_the_task_and_costs_waiting() -> None:
    env = make(
        arrivals={"kind": "constant", "rate_per_slot": 1.0},
        tasks={"classes": [{"name": "patient", "weight": 1.0, "difficulty": 2, "slack_slots": 2}]},
        reward={"waiting_per_task": 0.5},
    )
    obs, _ = env.reset(seed=0)
    assert obs["task"][-2:].tolist() == [2.0, 0.0]
    obs, _reward, _, _, info = env.step(0)
    assert info["tasks_deferred"] == 1 and info["reward_waiting"] == -0.5
    # the deferred task comes first in the next slot, one slot older with one slot less slack
    assert obs["task"][-2:].tolist() == [1.0, 1.0]
    assert obs["queue"][1] == 2  # it and the new arrival are left to decide


def test_hidden_and_noisy_difficulty() -> None:
    hidden = make(observation={"difficulty_visible": False})
    obs, _ = hidden.reset(seed=0)
    params = hidden.unwrapped.params
    cls = int(np.argmax(obs["task"][: params.n_classes]))
    assert obs["task"][params.n_classes] == pytest.approx(
        (params.class_difficulty_lo[cls] + params.class_difficulty_hi[cls]) / 2
    )
    np.testing.assert_allclose(
        obs["options"][2 * params.n_options : 3 * params.n_options], params.accuracy[cls, -1], rtol=1e-6
    )
    noisy = make(observation={"difficulty_noise": 2.0})
    estimates = []
    obs, _ = noisy.reset(seed=0)
    for _ in range(200):
        estimates.append(obs["task"][noisy.unwrapped.params.n_classes])
        obs, _, _, truncated, _ = noisy.step(1)
        if truncated:
            obs, _ = noisy.reset()
    assert len(set(np.round(estimates, 3))) > 20  # continuous estimates, not the integer difficulties


def test_action_space_sample_is_valid_and_explicit_masks_work(rng: np.random.Generator) -> None:
    env = make(tasks={"classes": [{"name": "urgent", "weight": 1.0, "difficulty": 3, "slack_slots": 0}]})
    _, info = env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(200):
        action = env.action_space.sample()
        assert info["action_mask"][action] == 1
        _, _, _, truncated, info = env.step(action)
        if truncated:
            _, info = env.reset()
    only_defer = np.zeros(env.action_space.n, np.int8)
    only_defer[0] = 1
    assert env.action_space.sample(mask=only_defer) == 0


def test_render_modes() -> None:
    env = gym.make("lrm_gym/EnergyRouting-SolarBattery-v2", render_mode="rgb_array", overrides={"horizon_slots": 8})
    env.reset(seed=0)
    for _ in range(300):
        _, _, _, truncated, _ = env.step(env.action_space.sample())
        if truncated:
            break
    frame = env.render()
    assert frame.shape == (240, 480, 3) and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 2  # more than background: bars were drawn
    text_env = gym.make("lrm_gym/EnergyRouting-v2", render_mode="ansi", overrides=small_overrides())
    text_env.reset(seed=0)
    text = text_env.render()
    assert "slot 0/12" in text and "small-1.5b/short" in text and "defer" in text
    with pytest.raises(ValueError, match="render_mode"):
        lrm_gym.EnergyRoutingEnv(render_mode="bogus")


def test_flattened_wrapper_keeps_masks() -> None:
    env = lrm_gym.FlattenRoutingObservation(make())
    obs, info = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape and obs.dtype == np.float32
    assert np.array_equal(env.action_masks(), info["action_mask"].astype(bool))


def test_reset_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="options"):
        make().reset(seed=0, options={"scenario": "solar"})


def test_observation_bounds_hold_on_every_scenario(rng: np.random.Generator) -> None:
    for scenario in lrm_gym.scenario_names():
        env = gym.make(lrm_gym.env_id(scenario), overrides={"horizon_slots": 6})
        obs, info = env.reset(seed=5)
        truncated = False
        while not truncated:
            assert env.observation_space.contains(obs), scenario
            obs, _, _, truncated, info = env.step(random_valid_action(info, rng))


def test_masked_action_fallback_is_explicit_and_penalised() -> None:
    urgent = {"classes": [{"name": "urgent", "weight": 1.0, "difficulty": 3, "slack_slots": 0}]}
    env = lrm_gym.MaskedActionFallback(make(tasks=urgent), penalty=2.5)
    plain = make(tasks=urgent)
    _, info = env.reset(seed=0)
    plain.reset(seed=0)
    assert info["masked_action"] is False
    _, reward, _, _, info = env.step(0)  # defer is masked: the first valid action (option 1) runs instead
    _, plain_reward, _, _, plain_info = plain.step(1)
    assert info["masked_action"] is True and info["executed_action"] == 1
    assert reward == pytest.approx(plain_reward - 2.5)
    assert info["task_energy_j"] == plain_info["task_energy_j"]
    _, reward, _, _, info = env.step(2)  # valid: runs unchanged, no penalty
    assert info["masked_action"] is False and info["executed_action"] == 2
    with pytest.raises(ValueError, match="action"):
        env.step(99)
    with pytest.raises(ValueError, match="penalty"):
        lrm_gym.MaskedActionFallback(make(), penalty=-1.0)


def test_unmasked_sample_is_uniform_over_valid_options_and_defers_only_when_none_is_valid() -> None:
    """``sample_preferred`` (behind every unmasked ``sample()``) on fixed masks with 20,000 uniforms each.

    Each of the k valid options must come up with frequency 1/k within 4 standard errors,
    ``4 * sqrt(p (1 - p) / n)``; masked options and defer never, unless no option is valid.
    """
    n = 20_000
    uniforms = np.random.default_rng(0).random(n)
    for valid in ([1, 1, 0, 1, 0, 1], [0, 0, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]):
        masks = np.repeat(np.array([valid], bool), n, axis=0)
        out = np.empty(n, np.int64)
        sample_preferred(masks, uniforms, out)
        options = np.flatnonzero(valid[1:]) + 1
        counts = np.bincount(out, minlength=len(valid))
        assert counts.sum() == counts[options].sum()  # only valid options, never defer
        p = 1.0 / options.size
        np.testing.assert_array_less(np.abs(counts[options] / n - p), 4 * np.sqrt(p * (1 - p) / n) + 1e-12)
    only_defer = np.zeros((3, 6), bool)
    only_defer[:, 0] = True
    out = np.full(3, -1)
    sample_preferred(only_defer, uniforms[:3], out)
    np.testing.assert_array_equal(out, 0)


def test_numba_cache_is_dropped_when_any_compiled_source_changes(tmp_path: Path) -> None:
    """numba checks only the entry point's file; lrm_gym drops its whole cache when any source changes."""
    package = tmp_path / "pkg"
    (package / "core" / "__pycache__").mkdir(parents=True)
    (package / "core" / "dynamics.py").write_text("x = 1\n")
    (package / "core" / "observation.py").write_text("y = 1\n")
    cached = package / "core" / "__pycache__" / "dynamics.kernel-1.py311.nbi"
    cached.write_text("index")
    assert drop_stale_cache(package)  # no digest yet: whatever is cached cannot be trusted
    assert not cached.exists()
    cached.write_text("index")
    assert not drop_stale_cache(package) and cached.exists()  # unchanged sources keep the cache
    (package / "core" / "observation.py").write_text("y = 2\n")  # an inlined callee changes
    assert drop_stale_cache(package) and not cached.exists()


def _slot_draws(defer_when_possible: bool) -> tuple[list[int], list[list[float]], int]:
    """Per closed slot: arrivals and the supply forecast seen next, under a router that fills the queue
    (defers whenever it may) or one that never defers; and how many arrivals the queue rejected."""
    env = make(queue={"capacity": 12}, arrivals={"kind": "poisson", "rate_per_slot": 6.0}, horizon_slots=24)
    forecast = observation_layout(env.unwrapped.params).energy.forecast
    obs, info = env.reset(seed=11)
    arrivals, forecasts, truncated = [], [], False
    while not truncated:
        mask = info["action_mask"].astype(bool)
        action = 0 if defer_when_possible and mask[0] else int(np.flatnonzero(mask[1:])[0]) + 1
        obs, _, _, truncated, info = env.step(action)
        if info["slots_closed"]:
            arrivals.append(int(info["tasks_arrived"]))
            forecasts.append(obs["energy"][forecast].tolist())
    return arrivals, forecasts, int(info["totals"]["tasks_dropped"])


def test_the_random_stream_does_not_depend_on_how_full_the_router_keeps_the_queue() -> None:
    """Rejected arrivals take their draws too, so arrivals and forecasts are the same whatever the router does."""
    full_arrivals, full_forecasts, full_dropped = _slot_draws(defer_when_possible=True)
    lean_arrivals, lean_forecasts, lean_dropped = _slot_draws(defer_when_possible=False)
    assert full_dropped > lean_dropped  # the full queue really rejected arrivals
    assert full_arrivals == lean_arrivals
    assert full_forecasts == lean_forecasts
