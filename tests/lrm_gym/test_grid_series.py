"""Measured grid signals (docs/model.md section 3.1): per-slot carbon and price follow the shipped traces,
the MOER forecasts reach the observation, the window is a function of the seed, ``supply.trace_start`` aligns
replays to days, and bad configurations fail with errors naming the key.

Expected values are computed here from the CSV files with the ``csv`` module, independently of the loader.
"""

from __future__ import annotations

import csv
import datetime
from importlib import resources
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import lrm_gym  # noqa: F401  (registers the ids)
from lrm_gym.core.grid import episode_grid
from lrm_gym.core.params import build_params
from lrm_gym.core.series import resample_mean, sample_at_slot_starts
from lrm_gym.core.supply import sample_supply_paths
from lrm_gym.envs.vector import EnergyRoutingVectorEnv
from lrm_gym.registration import env_id
from lrm_gym.scenarios import load_scenario

CARBON = "grid-caiso-carbon-summer"
PRICE = "grid-ercot-price-summer"
SHORT = {"horizon_slots": 12}


def read_csv(name: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """Times and numeric columns of a shipped CSV, read with the csv module."""
    text = (resources.files("lrm_gym.scenarios") / "data" / f"{name}.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))
    header, body = rows[0], rows[1:]
    return [r[0] for r in body], {h: np.array([float(r[i]) for r in body]) for i, h in enumerate(header) if i > 0}


def row_of(times: list[str], start: np.datetime64) -> int:
    return times.index(str(start.astype("datetime64[m]")).replace("T", " "))


def most_expensive(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[-1])


def run_slots(env: gym.Env, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, np.ndarray]], dict[str, Any]]:
    """One episode with the most expensive valid action (so auxiliary energy is drawn every slot): the info of
    each step that closed exactly one slot, the observation at each step, and the grid of the episode."""
    obs, info = env.reset(seed=seed)
    grid = episode_grid(env.unwrapped.params, env.unwrapped._state)
    closed, observations = [], [obs]
    done = False
    while not done:
        obs, _, _, done, info = env.step(most_expensive(info["action_mask"]))
        observations.append(obs)
        if info["slots_closed"] == 1:
            closed.append(info)
    return closed, observations, grid


def test_carbon_per_slot_is_the_mean_of_the_slots_moer_rows() -> None:
    times, columns = read_csv("moer-caiso-pge-2020-summer")
    env = gym.make(env_id(CARBON), overrides=SHORT)
    closed, _, grid = run_slots(env, seed=5)
    first = row_of(times, grid["carbon_start"])
    # 15-minute slots over 5-minute rows: the mean of each slot's three rows
    expected = columns["moer_g_per_kwh"][first : first + 3 * 12].reshape(12, 3).mean(axis=1)
    np.testing.assert_allclose(grid["carbon_g_per_kwh"], expected, rtol=1e-12)
    checked = 0
    for info in closed:
        slot = info["slot"] - 1 if info["slot"] < 12 else 11  # the slot just closed
        if info["auxiliary_j"] > 0:
            kwh = info["auxiliary_j"] / 3.6e6
            assert info["auxiliary_carbon_g"] / kwh == pytest.approx(expected[slot], rel=1e-9)
            # the reward charges energy and carbon: 400 per kWh and 1,250 per kg (the scenario's weights)
            assert info["reward_auxiliary"] == pytest.approx(-(400.0 + 1.25 * expected[slot]) * kwh, rel=1e-9)
            checked += 1
    assert checked >= 6


def test_moer_forecasts_in_the_observation_are_the_shipped_columns() -> None:
    times, columns = read_csv("moer-caiso-pge-2020-summer")
    env = gym.make(env_id(CARBON), overrides=SHORT)
    layout = env.unwrapped.observation_slices
    assert [k for k in env.observation_space.spaces] == ["energy", "grid", "options", "queue", "task"]
    obs, info = env.reset(seed=11)
    grid = episode_grid(env.unwrapped.params, env.unwrapped._state)
    first = row_of(times, grid["carbon_start"])
    forecasts = np.column_stack([columns[c] for c in ("forecast_5min", "forecast_1h", "forecast_3h")])
    seen, truncated = 0, False
    while not truncated:
        slot = info["slot"]
        # the slot's carbon (mean of its three rows), then the forecasts issued by the row the slot starts in
        expected = np.concatenate([[grid["carbon_g_per_kwh"][slot]], forecasts[first + 3 * slot]]) / 1000.0
        np.testing.assert_array_equal(obs["grid"], expected.astype(np.float32))
        seen += 1
        obs, _, _, truncated, info = env.step(most_expensive(info["action_mask"]))
    assert seen > 12
    assert layout["grid/forecast"].stop - layout["grid/forecast"].start == 3
    flat = gym.make(env_id(CARBON), overrides=SHORT, observation="flat")
    flat_obs, _ = flat.reset(seed=11)
    obs, _ = env.reset(seed=11)
    np.testing.assert_array_equal(flat_obs[layout["grid"]], obs["grid"])


def test_price_per_slot_is_the_hours_price_per_kwh() -> None:
    times, columns = read_csv("price-ercot-houston-2022")
    env = gym.make(env_id(PRICE), overrides=SHORT, cost="auxiliary_cost")
    closed, observations, grid = run_slots(env, seed=2)
    first = row_of(times, grid["price_start"])
    # 15-minute slots inside hourly rows: each slot holds its hour's price, USD/MWh divided by 1000
    expected = np.repeat(columns["price_usd_per_mwh"][first : first + 3], 4) / 1000.0
    np.testing.assert_allclose(grid["price_per_kwh"], expected, rtol=1e-12)
    assert observations[0]["energy"][-3] == np.float32(expected[0])
    checked = 0
    for info in closed:
        slot = info["slot"] - 1 if info["slot"] < 12 else 11
        if info["auxiliary_j"] > 0:
            kwh = info["auxiliary_j"] / 3.6e6
            assert info["auxiliary_cost"] / kwh == pytest.approx(expected[slot], rel=1e-9)
            assert info["cost"] == info["auxiliary_cost"]
            assert info["reward_auxiliary"] == pytest.approx(-6400.0 * expected[slot] * kwh, rel=1e-9)
            checked += 1
    assert checked >= 6
    assert "grid" not in env.observation_space.spaces  # a price trace adds no observation key


def test_window_is_a_function_of_the_seed() -> None:
    env = gym.make(env_id(CARBON), overrides=SHORT)
    starts = []
    for seed in range(40):
        env.reset(seed=seed)
        starts.append(episode_grid(env.unwrapped.params, env.unwrapped._state)["carbon_start"])
    env.reset(seed=7)
    assert episode_grid(env.unwrapped.params, env.unwrapped._state)["carbon_start"] == starts[7]
    days = {s.astype(datetime.datetime) for s in starts}
    # every start at 08:00 UTC on a day of the scenario's dates, and the draw spreads over them
    assert all(
        d.hour == 8 and d.minute == 0 and datetime.date(2020, 7, 1) <= d.date() <= datetime.date(2020, 7, 30)
        for d in days
    )
    assert len(days) >= 15  # 40 uniform draws over 30 days: 15 or fewer distinct days has probability < 1e-6
    vector = EnergyRoutingVectorEnv(num_envs=3, scenario=CARBON, overrides=SHORT)
    vector.reset(seed=5)
    for row in range(3):
        assert episode_grid(vector.params, vector._state, row)["carbon_start"] == starts[5 + row]


def test_the_window_draw_comes_after_the_supply_path() -> None:
    """A carbon series takes one draw at reset, after the supply path: the supply path is that of the same
    scenario without the series."""
    flat = build_params(load_scenario(CARBON, {**SHORT, "auxiliary": {"carbon_trace": None}}))
    traced = build_params(load_scenario(CARBON, SHORT))
    assert flat.carbon_series is None
    np.testing.assert_array_equal(sample_supply_paths(flat, [3, 4]), sample_supply_paths(traced, [3, 4]))


def test_resampling_is_the_time_weighted_mean() -> None:
    values = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    # slots of 1.5 rows: [0, 1.5) -> (1 + 0.5 * 2) / 1.5, [1.5, 3) -> (0.5 * 2 + 4) / 1.5, [3, 4.5) -> (8 + 8) / 1.5
    np.testing.assert_allclose(resample_mean(values, 60.0, 90.0), [2.0 / 1.5, 5.0 / 1.5, 16.0 / 1.5])
    np.testing.assert_allclose(resample_mean(values, 60.0, 120.0), [1.5, 6.0])
    np.testing.assert_allclose(resample_mean(values, 60.0, 30.0), np.repeat(values, 2))
    np.testing.assert_array_equal(sample_at_slot_starts(values, 60.0, 90.0, 3), [1.0, 2.0, 8.0])


def test_supply_trace_start_aligns_replays_to_days_in_a_date_range() -> None:
    times, columns = read_csv("wind-offshore-ca-2019")
    overrides = {
        "horizon_slots": 24,
        "supply": {"trace_start": {"align": "day", "hour": 6, "dates": ["2019-07-01", "2019-07-31"]}},
    }
    params = build_params(load_scenario("wind-offshore-california", overrides))
    starts = params.supply.trace_starts
    assert [times[i] for i in starts[:2]] == ["2019-07-01 06:00", "2019-07-02 06:00"] and len(starts) == 31
    scaled = columns["capacity_factor"] * (params.supply.mean_j / columns["capacity_factor"].mean())
    offsets = np.arange(24 + params.supply.forecast_horizon) // 3  # 5-minute slots over 15-minute rows
    windows = {int(s): scaled[s + offsets] for s in starts}
    for path in sample_supply_paths(params, list(range(20))):
        assert any(np.array_equal(path, w) for w in windows.values())
    default = build_params(load_scenario("wind-offshore-california"))
    assert default.supply.trace_starts.size == 0  # no trace_start: any row, wrapping (unchanged)


def test_existing_scenarios_have_no_grid_key_and_draw_no_window() -> None:
    for name in ("critical", "solar-battery", "wind-offshore-california"):
        params = build_params(load_scenario(name))
        assert params.carbon_series is None and params.price_series is None
        assert params.kernel.carbon_starts.size == 0 and params.kernel.price_starts.size == 0
        env = gym.make(env_id(name), overrides={"horizon_slots": 2})
        assert sorted(env.observation_space.spaces) == ["energy", "options", "queue", "task"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"auxiliary": {"carbon_trace": {"trace": "no-such-trace"}}},
            r"auxiliary\.carbon_trace\.trace: .*no-such-trace.* neither",
        ),
        (
            {"auxiliary": {"carbon_trace": {"start": {"dates": ["2020-07-01", "2020-07-31"]}}}},
            r"auxiliary\.carbon_trace\.start: the episode starting 2020-07-31 08:00 does not fit .* "
            r"last start that fits is 2020-07-30 08:00",
        ),
        (
            {"auxiliary": {"carbon_trace": {"start": {"dates": ["2020-06-20", "2020-07-02"]}}}},
            r"auxiliary\.carbon_trace\.start: an episode starting 2020-06-20 08:00 is outside the trace "
            r"\(the trace covers 2020-07-01 00:00",
        ),
        (
            {"auxiliary": {"carbon_trace": {"start": {"hour": 8.1}}}},
            r"auxiliary\.carbon_trace\.start: an episode starting 2020-07-01 08:06 is not on the trace's slot grid",
        ),
        ({"auxiliary": {"carbon_g_per_kwh": 300.0}}, r"either 'carbon_g_per_kwh' or 'carbon_trace'"),
        (
            {"auxiliary": {"carbon_trace": {"trace": "price-ercot-houston-2022"}}},
            r"carbon column 'price_usd_per_mwh' must be in g CO2 per kWh",
        ),
        (
            {"auxiliary": {"carbon_trace": {"start": {"dates": ["2020-07-05", "2020-07-01"]}}}},
            r"first date is after the last",
        ),
        (
            {"horizon_slots": 3000},
            r"auxiliary\.carbon_trace\.start: the episode starting 2020-07-01 08:00 does not fit",
        ),
        ({"supply": {"trace_start": {"align": "day"}}}, r"supply: 'trace_start' is only used by kind 'trace'"),
        ({"reward": {"carbon_per_kg": -1.0}}, r"reward\.carbon_per_kg"),
    ],
)
def test_bad_grid_configurations_fail_clearly(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gym.make(env_id(CARBON), overrides=overrides)


def test_bad_supply_trace_start_fails_clearly() -> None:
    with pytest.raises(ValueError, match=r"supply\.trace_start\.dates: the trace's times have no year"):
        load_and_build(
            "solar-battery-greensboro-summer", {"supply": {"trace_start": {"dates": ["2019-06-01", "2019-06-30"]}}}
        )
    with pytest.raises(
        ValueError, match=r"supply\.trace_start: an episode starting 2018-07-01 00:00 is outside the trace"
    ):
        load_and_build("wind-offshore-california", {"supply": {"trace_start": {"dates": ["2018-07-01", "2018-07-31"]}}})
    with pytest.raises(
        ValueError, match=r"supply\.trace: .*shipped trace 'wind'.*header must start with a time column"
    ):
        load_and_build("wind-trace", {"supply": {"trace_start": {"align": "day"}}})


def load_and_build(name: str, overrides: dict[str, Any]) -> None:
    build_params(load_scenario(name, overrides))


def test_user_price_trace_file(tmp_path: Any) -> None:
    trace = tmp_path / "tariff.csv"
    rows = "\n".join(f"2024-01-{1 + h // 24:02d} {h % 24:02d}:00,{0.1 + 0.01 * (h % 24):.2f}" for h in range(72))
    trace.write_text(f"# a user tariff\ntime_utc,price_per_kwh\n{rows}\n", encoding="utf-8")
    overrides = {"horizon_slots": 24, "auxiliary": {"price_trace": {"trace": str(trace), "start": {"hour": 0}}}}
    params = build_params(load_scenario("grid-caiso-carbon-summer", overrides))
    assert params.price_series is not None
    # 15-minute slots: each day's 00:00 is slot 0, 96 or 192, and a 6-hour window fits after each
    np.testing.assert_array_equal(params.price_series.starts, [0, 96, 192])
    np.testing.assert_allclose(params.price_series.values[:8], np.repeat([0.10, 0.11], 4))
