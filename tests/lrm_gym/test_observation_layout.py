"""The names the simulator gives to the columns of its arrays and to the parts of the observation."""

from __future__ import annotations

from dataclasses import fields

import gymnasium as gym
import numpy as np

import lrm_gym  # noqa: F401  (registers the env ids)
from lrm_gym.core.layout import PREVIEW_FEATURES, positions
from lrm_gym.core.observation import observation_layout
from lrm_gym.core.state import COUNTERS, State, StateArrays
from lrm_gym.core.units import JOULES_PER_KWH
from tests.conftest import random_valid_action


def test_state_arrays_name_the_state_fields_in_order() -> None:
    # the kernels receive state.arrays() as a plain tuple and rebuild StateArrays from it by position
    assert StateArrays._fields == tuple(f.name for f in fields(State))


def test_positions_tile_the_row_without_gaps() -> None:
    c, o, h, p, g = 3, 5, 4, 2, 4
    at = positions(c, o, h, p, g)
    starts = list(at)
    assert starts == sorted(starts) and starts[0] == 0
    widths = np.diff(starts)
    expected = [c, 1, 1, 1, 1, o, o, o, o, o, 1, 1, 1, h, 1, 1, 1, 1, 1, PREVIEW_FEATURES * p, g]
    np.testing.assert_array_equal(widths, expected)
    assert positions(c, o, h, p).size == at.size - g  # no carbon series: no grid part


def test_named_parts_read_what_the_kernel_writes(rng: np.random.Generator) -> None:
    env = gym.make("lrm_gym/EnergyRouting-SolarBattery-v2")
    params = env.unwrapped.params
    layout = observation_layout(params)
    obs, info = env.reset(seed=0)
    for _ in range(50):
        obs, _, _, _, info = env.step(random_valid_action(info, rng))
        task, options, energy, queue = obs["task"], obs["options"], obs["energy"], obs["queue"]
        assert np.sum(task[layout.task.one_hot_class]) == 1.0
        cls = int(np.argmax(task[layout.task.one_hot_class]))
        assert task[layout.task.prompt_kilotokens] == np.float32(params.class_prompt_tokens[cls] / 1000.0)
        assert (task[layout.task.slack] > 0) == bool(info["action_mask"][0])
        np.testing.assert_array_equal(options[layout.options.feasible], info["action_mask"][1:])
        assert np.all((options[layout.options.accuracy] >= 0) & (options[layout.options.accuracy] <= 1))
        storage = info["storage_j"] / params.slot_energy_unit_j
        assert np.isclose(energy[layout.energy.storage], storage, rtol=1e-6)  # float32 rounding
        assert energy[layout.energy.forecast].size == params.supply.forecast_horizon
        assert np.isclose(energy[layout.energy.sin_hour] ** 2 + energy[layout.energy.cos_hour] ** 2, 1.0, atol=1e-6)
        assert energy[layout.energy.price] in params.price_per_kwh.astype(np.float32)
        assert queue[layout.queue.left] <= queue[layout.queue.queued]
        assert queue[layout.queue.preview].size == PREVIEW_FEATURES * params.queue_preview


def test_counters_and_units_keep_their_names() -> None:
    assert COUNTERS[:3] == ("baseline_j", "demand_j", "auxiliary_j") and COUNTERS[-1] == "reward_drop"
    assert JOULES_PER_KWH == 3.6e6
