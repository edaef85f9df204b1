"""The shipped data files (``lrm_gym/scenarios/data``) and the scenarios that replay them.

The extraction scripts in ``scripts/`` need the source packages and a local copy of the Azure and ML.ENERGY
data, so they do not run here: these tests read only the shipped CSVs, and check their provenance headers,
shapes, units (through plausible ranges) and the consistency between files that were made together.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import lrm_gym
from lrm_gym.core.params import build_params
from lrm_gym.core.supply import sample_supply_paths
from lrm_gym.scenarios.loader import load_scenario, load_trace
from tests.conftest import random_valid_action

DATA = Path(str(resources.files("lrm_gym.scenarios").joinpath("data")))
SHIPPED = sorted(path.name for path in DATA.glob("*.csv"))
PROVENANCE_KEYS = ("source", "licence", "units", "time zone", "command")
MEASURED_SCENARIOS = ("solar-battery-greensboro-summer", "solar-battery-greensboro-winter", "wind-offshore-california")


@dataclass(frozen=True)
class Table:
    header: dict[str, str]
    columns: list[str]
    rows: list[list[str]]

    def text(self, column: str) -> list[str]:
        index = self.columns.index(column)
        return [row[index] for row in self.rows]

    def numbers(self, column: str) -> np.ndarray:
        """A column as floats; an empty field is NaN."""
        return np.array([float(value) if value else np.nan for value in self.text(column)])


def read(name: str) -> Table:
    """Parse a shipped CSV: ``# key: value`` lines (continued on ``#   `` lines), a header row, the rows."""
    header: dict[str, str] = {}
    key = ""
    data_lines = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#   ") and key:
            header[key] += " " + line[4:].strip()
        elif line.startswith("# ") and ":" in line:
            key, value = line[2:].split(":", 1)
            header[key] = value.strip()
        elif line.strip():
            data_lines.append(line)
    columns, *rows = list(csv.reader(data_lines))
    assert rows and all(len(row) == len(columns) for row in rows), f"{name}: ragged rows"
    return Table(header, columns, rows)


def times(values: list[str]) -> list[datetime]:
    return [datetime.strptime(value, "%Y-%m-%d %H:%M") for value in values]


def assert_regular(stamps: list[datetime], step: timedelta) -> None:
    assert all(b - a == step for a, b in itertools.pairwise(stamps))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_csv_states_its_provenance_and_parses(name: str) -> None:
    table = read(name)
    for key in PROVENANCE_KEYS:
        assert table.header.get(key), f"{name}: no '# {key}:' line"
    assert table.header["command"].startswith("python scripts/")
    script = DATA.parents[2] / table.header["command"].split()[1]
    assert script.is_file(), f"{name}: the command's script {script.name} is not in scripts/"
    assert f"`scripts/{script.name}`" in (DATA / "README.md").read_text(encoding="utf-8"), (
        f"{name}: its script is not in data/README.md"
    )


def test_cc_by_licence_text_ships_with_the_data() -> None:
    text = (DATA / "LICENSE-CC-BY-4.0.txt").read_text(encoding="utf-8-sig")
    assert text.startswith("Attribution 4.0 International")
    for name in SHIPPED:
        licence = read(name).header["licence"]
        if "CC-BY-4.0" in licence and name.startswith("azure"):
            assert "LICENSE-CC-BY-4.0.txt" in licence and "Splitwise" in licence


def test_pv_greensboro_is_a_plausible_typical_year() -> None:
    year = read("pv-greensboro.csv")
    assert len(year.rows) == 8760
    cf, ghi, poa = year.numbers("capacity_factor"), year.numbers("ghi_w_m2"), year.numbers("poa_global_w_m2")
    temp = year.numbers("temp_air_c")
    assert np.all((cf >= 0) & (cf <= 1)) and cf.max() == 1.0  # clipped at the inverter's AC rating
    assert np.all((ghi >= 0) & (ghi <= 1400)) and np.all((poa >= 0) & (poa <= 1500))
    assert np.all((temp > -30) & (temp < 45))
    assert np.all(cf[ghi == 0] == 0)  # no sun, no power
    assert 0.14 < cf.mean() < 0.24  # fixed-tilt AC capacity factor in the US south-east
    hours = np.array([int(stamp[6:8]) for stamp in year.text("time_local_standard")])
    assert np.array_equal(hours, np.tile(np.arange(24), 365))
    assert np.all(cf[(hours < 4) | (hours > 21)] == 0)  # local standard time: night at night
    noon, midnight = cf.reshape(365, 24)[:, 12].mean(), cf.reshape(365, 24)[:, 0].mean()
    assert noon > 0.4 and midnight == 0


@pytest.mark.parametrize(("season", "months", "rows"), [("summer", [6, 7, 8], 2208), ("winter", [12, 1, 2], 2160)])
def test_pv_seasons_are_the_years_rows(season: str, months: list[int], rows: int) -> None:
    year, part = read("pv-greensboro.csv"), read(f"pv-greensboro-{season}.csv")
    assert len(part.rows) == rows
    by_time = {row[0]: row for row in year.rows}
    assert all(by_time[row[0]] == row for row in part.rows)
    assert [int(m) for m in dict.fromkeys(part.text("month"))] == months


def test_summer_pv_beats_winter_pv() -> None:
    summer = read("pv-greensboro-summer.csv").numbers("capacity_factor")
    winter = read("pv-greensboro-winter.csv").numbers("capacity_factor")
    assert summer.mean() > winter.mean()
    assert (summer.reshape(-1, 24) == 0).sum(1).mean() < (winter.reshape(-1, 24) == 0).sum(1).mean()


def test_wind_2019_follows_the_v164_power_curve() -> None:
    table = read("wind-offshore-ca-2019.csv")
    assert len(table.rows) == 365 * 96
    stamps = times(table.text("time_utc"))
    assert stamps[0] == datetime(2019, 1, 1) and stamps[-1] == datetime(2019, 12, 31, 23, 45)
    assert_regular(stamps, timedelta(minutes=15))
    speed, cf = table.numbers("wind_speed_100m_m_s"), table.numbers("capacity_factor")
    assert np.all((speed >= 0) & (speed < 45)) and np.all((cf >= 0) & (cf <= 1))
    assert np.all(cf[speed <= 3.0] == 0)  # below cut-in
    assert np.all(cf[(speed >= 14.0) & (speed <= 24.5)] == 1)  # rated
    assert np.all(cf[speed > 24.5] == 0)  # cut-out
    order = np.argsort(speed[speed <= 14.0], kind="stable")
    assert np.all(np.diff(cf[speed <= 14.0][order]) >= 0)  # monotone below rated speed
    assert 0.25 < cf.mean() < 0.65  # offshore capacity factors


@pytest.mark.parametrize(
    ("season", "first_day", "days"),
    [
        ("winter", "2020-01-01", 31),
        ("spring", "2020-04-01", 30),
        ("summer", "2020-07-01", 31),
        ("autumn", "2020-10-01", 31),
    ],
)
def test_moer_months_are_plausible_emission_rates(season: str, first_day: str, days: int) -> None:
    table = read(f"moer-caiso-pge-2020-{season}.csv")
    assert table.columns == ["time_utc", "moer_g_per_kwh", "forecast_5min", "forecast_1h", "forecast_3h"]
    assert len(table.rows) == days * 288
    stamps = times(table.text("time_utc"))
    assert stamps[0] == datetime.fromisoformat(first_day)
    assert_regular(stamps, timedelta(minutes=5))
    for column in table.columns[1:]:
        values = table.numbers(column)
        # marginal rates: 0 when curtailed renewables are marginal, below a coal plant's ~1,000 g/kWh
        assert np.all(np.isfinite(values)) and np.all((values >= 0) & (values < 1100))
        assert 100 < values.mean() < 500
    moer = table.numbers("moer_g_per_kwh")
    forecast_5min = table.numbers("forecast_5min")
    forecast_3h = table.numbers("forecast_3h")
    error_5min = np.abs(forecast_5min[:-1] - moer[1:]).mean()
    error_3h = np.abs(forecast_3h[:-36] - moer[36:]).mean()
    assert error_5min < error_3h  # real forecasts: worse further ahead


def test_ercot_prices_2022_are_plausible() -> None:
    table = read("price-ercot-houston-2022.csv")
    assert len(table.rows) == 8760
    stamps = times(table.text("time_utc"))
    assert stamps[0] == datetime(2022, 1, 1, 6)  # midnight in Houston (CST, UTC-6)
    assert_regular(stamps, timedelta(hours=1))
    price = table.numbers("price_usd_per_mwh")
    assert np.all(np.isfinite(price)) and np.all((price > -250) & (price <= 5000))  # ERCOT's 2022 offer cap
    assert 20 < np.median(price) < 150


@pytest.mark.parametrize(("service", "requests"), [("conv", 19366), ("code", 8819)])
def test_azure_per_minute_table_sums_the_requests(service: str, requests: int) -> None:
    per_request = read(f"azure-llm-2023-{service}-requests.csv")
    per_minute = read(f"azure-llm-2023-{service}-per-minute.csv")
    assert len(per_request.rows) == requests
    arrival = per_request.numbers("arrival_s")
    context, generated = per_request.numbers("context_tokens"), per_request.numbers("generated_tokens")
    assert arrival[0] == 0 and np.all(np.diff(arrival) >= 0) and arrival[-1] < 3600
    for tokens in (context, generated):
        assert np.all(tokens >= 0) and np.all(tokens == np.round(tokens)) and tokens.max() < 200_000
    counts = per_minute.numbers("requests")
    assert counts.sum() == requests and np.all(counts >= 0)
    assert per_minute.numbers("context_tokens_total").sum() == context.sum()
    assert per_minute.numbers("generated_tokens_total").sum() == generated.sum()
    assert_regular(times(per_minute.text("minute_start")), timedelta(minutes=1))
    mean = per_minute.numbers("context_tokens_mean")
    assert np.all(np.isnan(mean) == (counts == 0))  # statistics only where there were requests
    assert np.nanmin(mean) > 0


def test_ml_energy_catalogue_is_consistent_and_matches_the_calibration() -> None:
    table = read("ml_energy_v3_catalogue.csv")
    assert "Chung et al." in table.header["source"] and "not redistributed" in table.header["licence"]
    per_token, per_request = table.numbers("energy_per_token_j"), table.numbers("energy_per_request_j")
    output = table.numbers("avg_output_tokens")
    assert np.all(per_token > 0) and np.all(per_token < 100) and np.all(output > 0)
    np.testing.assert_allclose(per_request, per_token * output, rtol=0.02)  # the source's own definitions
    assert set(table.text("gpu_model")) == {"B200", "H100"}
    row = [
        i
        for i, (task, model, gpu, gpus, batch) in enumerate(
            zip(*(table.text(c) for c in ("task", "model_id", "gpu_model", "num_gpus", "max_num_seqs")), strict=True)
        )
        if (task, model, gpu, gpus, batch) == ("gpqa", "Qwen/Qwen3-32B", "B200", "1", "128")
    ]
    assert len(row) == 1
    assert per_token[row[0]] == pytest.approx(0.312, abs=0.001)  # the 0.312 J/token the model catalogue uses


def test_season_provisioning_is_the_seasons_share_of_the_typical_year() -> None:
    """One PV array for the site: sized on the typical year, so each season's provisioning is its mean ratio."""
    year = load_trace("pv-greensboro").mean()
    for season in ("summer", "winter"):
        config = load_scenario(f"solar-battery-greensboro-{season}")
        ratio = load_trace(f"pv-greensboro-{season}").mean() / year
        assert config.supply.provisioning == pytest.approx(ratio, abs=0.001)


@pytest.mark.parametrize("scenario", MEASURED_SCENARIOS)
def test_measured_supply_is_critical_times_provisioning_on_average(scenario: str) -> None:
    """Replays start at uniformly random rows, so the mean over episodes is the trace mean, scaled to
    ``provisioning * b*``; tolerance 4 standard errors of the mean of 300 episode means."""
    config = load_scenario(scenario)
    params = build_params(config)
    paths = sample_supply_paths(params, list(range(300)), length=config.horizon_slots)
    episode_means = paths.mean(axis=1)
    target = config.supply.provisioning * params.critical_slot_energy_j
    standard_error = episode_means.std(ddof=1) / np.sqrt(episode_means.size)
    assert abs(episode_means.mean() - target) < 4 * standard_error
    assert paths.min() >= 0 and paths.max() <= params.supply.max_j


@pytest.mark.parametrize("scenario", MEASURED_SCENARIOS)
def test_measured_scenarios_run_inside_their_spaces(scenario: str) -> None:
    env = gym.make(lrm_gym.env_id(scenario))
    rng = np.random.default_rng(0)
    for seed in (0, 1):
        obs, info = env.reset(seed=seed)
        for _ in range(300):
            assert env.observation_space.contains(obs)
            assert all(np.all(np.isfinite(part)) for part in obs.values())
            obs, reward, _, truncated, info = env.step(random_valid_action(info, rng))
            assert np.isfinite(reward)
            if truncated:
                break
    env.close()
