"""Scenario loading and validation: every bad value names its key path; degenerate settings are valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
import yaml

import lrm_gym
from lrm_gym.core.params import build_params
from lrm_gym.scenarios import load_scenario, scenario_names

REQUIRED = ("critical", "oversupply", "undersupply", "volatile", "solar", "solar-battery")


def test_required_scenarios_ship_and_validate() -> None:
    names = scenario_names()
    for name in REQUIRED:
        assert name in names
    for name in names:
        config = load_scenario(name)
        assert config.description, f"{name} needs a description"
        build_params(config)


def test_provisioning_is_relative_to_the_reference_policy() -> None:
    critical = build_params(load_scenario("critical"))
    over = build_params(load_scenario("oversupply"))
    under = build_params(load_scenario("undersupply"))
    assert critical.supply.mean_j == pytest.approx(critical.critical_slot_energy_j)
    assert over.supply.mean_j == pytest.approx(1.3 * over.critical_slot_energy_j)
    assert under.supply.mean_j == pytest.approx(0.75 * under.critical_slot_energy_j)


def test_provisioning_follows_model_changes() -> None:
    """Swapping the catalog moves the critical supply with it, so 'critical' stays critical."""
    base = build_params(load_scenario("critical"))
    only_large = build_params(
        load_scenario("critical", {"models": [load_scenario("critical").models[2].model_dump(exclude_none=True)]})
    )
    assert only_large.critical_slot_energy_j > base.critical_slot_energy_j
    assert only_large.supply.mean_j == pytest.approx(only_large.critical_slot_energy_j)


BAD_OVERRIDES: list[tuple[dict[str, Any], str]] = [
    ({"supply": {"std_w": -1.0}}, "supply.std_w"),
    ({"supply": {"kind": "tidal"}}, "supply.kind"),
    ({"supply": {"phi": 1.0}}, "supply.phi"),
    ({"supply": {"mean_w": 100.0}}, "supply"),  # both mean_w and provisioning
    ({"supply": {"kind": "trace", "trace": "no-such-trace"}}, "supply.trace"),
    ({"models": []}, "models"),
    ({"models": [{"name": "x", "params": 1e9, "tokens_per_step": 100, "step_success": 1.5}]}, "models.0.step_success"),
    (
        {"models": [{"name": "x", "params": 1e9, "tokens_per_step": 100, "skill_coverage": -0.1}]},
        "models.0.skill_coverage",
    ),
    ({"models": [{"name": "x", "tokens_per_step": 100}]}, "models.0"),
    ({"budgets": [{"name": "b", "max_steps": 2.5}]}, "budgets.0.max_steps"),
    ({"budgets": [{"name": "b", "max_steps": 0}]}, "budgets.0.max_steps"),
    ({"budgets": [{"name": "b", "max_steps": "4"}]}, "budgets.0.max_steps"),
    ({"arrivals": {"kind": "negbin"}}, "arrivals"),
    ({"arrivals": {"rate_per_slot": 0}}, "arrivals.rate_per_slot"),
    ({"tasks": {"classes": [{"name": "a", "weight": 1, "difficulty": [5, 2]}]}}, "tasks.classes.0"),
    ({"storage": {"charge_efficiency": 0}}, "storage.charge_efficiency"),
    ({"auxiliary": {"price_per_kwh": [0.1, 0.2]}}, "auxiliary.price_per_kwh"),
    ({"reward": {"quality": "best"}}, "reward.quality"),
    ({"horizon_slots": 0}, "horizon_slots"),
    ({"supply": {"unknown_key": 1}}, "supply.unknown_key"),
    ({"typo_section": {}}, "typo_section"),
    ({"reference_policy": {"kind": "fixed", "option": {"model": "nope", "budget": "short"}}}, "nope"),
]


@pytest.mark.parametrize(("overrides", "key"), BAD_OVERRIDES)
def test_bad_values_name_their_key_path(overrides: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        load_scenario("critical", overrides)


def test_error_message_shows_the_bad_value() -> None:
    with pytest.raises(ValueError, match=r"supply\.std_w.*-7"):
        load_scenario("critical", {"supply": {"std_w": -7.0}})


def test_gym_make_reports_bad_overrides() -> None:
    with pytest.raises(ValueError, match=r"arrivals\.kind"):
        gym.make("lrm_gym/EnergyRouting-v2", overrides={"arrivals": {"kind": "uniform"}})


def test_unknown_scenario_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="neither a named scenario"):
        load_scenario("no-such-scenario")
    broken = tmp_path / "broken.yaml"
    broken.write_text("supply: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_scenario(broken)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mapping"):
        load_scenario(scalar)


def test_yaml_path_round_trip(tmp_path: Path) -> None:
    raw = load_scenario("volatile").model_dump(exclude_none=True)
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    env = gym.make("lrm_gym/EnergyRouting-v2", scenario=str(path))
    assert env.unwrapped.scenario == load_scenario("volatile")


def test_user_trace_file(tmp_path: Path) -> None:
    trace = tmp_path / "flat.csv"
    trace.write_text("# a comment\nhour,cf\n0,0.5\n1,0.5\n", encoding="utf-8")
    params = build_params(load_scenario("wind-trace", {"supply": {"trace": str(trace)}}))
    assert params.supply.max_j == pytest.approx(params.supply.mean_j)
    bad = tmp_path / "bad.csv"
    bad.write_text("hour,cf\n0,-1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"supply\.trace"):
        load_scenario("wind-trace", {"supply": {"trace": str(bad)}})


DEGENERATE = {
    "horizon_slots": 2000,
    "supply": {"kind": "constant", "provisioning": 1.0},
    "storage": {"capacity_wh": 0.0, "max_charge_w": None, "max_discharge_w": None},
    "arrivals": {"kind": "constant", "rate_per_slot": 3.0},
    "tasks": {"classes": [{"name": "only", "weight": 1.0, "difficulty": 2, "prompt_tokens": 0, "slack_slots": 0}]},
    "models": [
        {
            "name": "ideal",
            "tokens_per_step": 10,
            "joules_per_token": 1.0,
            "step_success": 1.0,
            "skill_coverage": 1.0,
        }
    ],
    "budgets": [{"name": "two", "max_steps": 2}],
}


def test_degenerate_settings_are_valid_and_deterministic() -> None:
    """One model, one budget, perfect skills, no prompt, no slack, constant everything: exact outcomes."""
    env = gym.make("lrm_gym/EnergyRouting-v2", overrides=DEGENERATE)
    obs, info = env.reset(seed=0)
    assert env.action_space.n == 2
    _, _, _, _, info = env.step(1)
    assert info["task_correct"] is True
    assert info["task_tokens"] == 20 and info["task_energy_j"] == 20.0
    assert obs["options"][2] == pytest.approx(1.0)  # expected accuracy 1


def test_every_shipped_scenario_has_an_env_id() -> None:
    assert set(lrm_gym.SCENARIO_IDS) == set(scenario_names())
