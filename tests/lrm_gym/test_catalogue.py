"""The measured model catalogue (docs/model.md section 7) and batch-dependent task energy (section 10).

Reads the shipped CSVs independently of :mod:`lrm_gym.scenarios.catalogue` (plain ``csv``) where a test compares
against them. Episodes are a few slots long (overrides) so the file stays fast.
"""

from __future__ import annotations

import csv
import re
from importlib import resources
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np
import pytest

import lrm_gym
from lrm_gym.core.batch_energy import batch_joules_per_token, curve_table
from lrm_gym.core.params import Params, build_params
from lrm_gym.envs.energy_routing import EnergyRoutingEnv
from lrm_gym.scenarios import catalogue, load_scenario
from lrm_gym.scenarios.loader import merge_overrides, read_scenario_dict
from tests.conftest import random_valid_action

DATA = Path(str(resources.files("lrm_gym.scenarios").joinpath("data")))
FLEET = "fleet-b200-qwen3"
FLEET_MODELS = ("Qwen/Qwen3-8B", "Qwen/Qwen3-14B", "Qwen/Qwen3-32B")


def params_of(env: gym.Env) -> Params:
    return cast(EnergyRoutingEnv, env.unwrapped).params


def csv_rows(name: str) -> list[dict[str, str]]:
    lines = [line for line in (DATA / name).read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))


def fleet_env(**overrides: Any) -> gym.Env:
    return gym.make(lrm_gym.env_id(FLEET), overrides={"horizon_slots": 3, **overrides})


def fleet_models(**measured: Any) -> list[dict[str, Any]]:
    """The fleet's models as override dicts, with ``measured`` merged into each one's ``measured_energy``."""
    models = read_scenario_dict(FLEET)[0]["models"]
    return [merge_overrides(m, {"measured_energy": measured}) for m in models]


# ---------------------------------------------------------------------------------------------------------------
# The catalogue and its curves
# ---------------------------------------------------------------------------------------------------------------


def test_measured_energy_equals_the_csv_at_every_measured_batch() -> None:
    """Every configuration and batch of the shipped CSV, read back: the configuration's value, and its batch
    curve (the compiled kernel's) at the measured mean batch, equal the CSV's number (one row per batch)."""
    groups: dict[tuple[str, str, int, str, int], list[dict[str, str]]] = {}
    for row in csv_rows(catalogue.CATALOGUE_FILE):
        key = (row["model_id"], row["gpu_model"], int(row["num_gpus"]), row["task"], int(row["max_num_seqs"]))
        groups.setdefault(key, []).append(row)
    checked = 0
    for (model_id, gpu, gpus, task, seqs), rows in groups.items():
        expected = np.mean([float(r["energy_per_token_j"]) for r in rows])  # a batch measured twice: the mean
        assert catalogue.measured_joules_per_token(model_id, gpu, gpus, task, seqs) == pytest.approx(
            expected, rel=1e-15
        )
        if len(rows) > 1:
            continue
        curve = catalogue.batch_curve(model_id, gpu, gpus, task)
        table = curve_table([curve.batch], [curve.joules_per_token])
        at = batch_joules_per_token(table, 0, float(rows[0]["avg_batch_size"]))
        assert at == pytest.approx(float(rows[0]["energy_per_token_j"]), rel=1e-12)
        checked += 1
    assert checked >= 500  # 565 rows, one configuration measured twice at one batch


def test_curve_is_monotone_between_measured_points_and_the_kernel_matches_the_reference() -> None:
    """On each segment the curve moves monotonically from one measured value to the next (log-log linear);
    below the first point it continues the first segment, above the last it holds the last value."""
    for configuration in catalogue.configurations():
        curve = catalogue.batch_curve(**vars(configuration))
        table = curve_table([curve.batch], [curve.joules_per_token])
        for k in range(curve.batch.size - 1):
            grid = np.geomspace(curve.batch[k], curve.batch[k + 1], 17)
            values = np.array([batch_joules_per_token(table, 0, n) for n in grid])
            ends = curve.joules_per_token[k : k + 2]
            step = np.diff(values) * np.sign(ends[1] - ends[0])
            assert np.all(step >= -1e-12 * ends.max()), configuration
            assert values.min() >= ends.min() * (1 - 1e-12) and values.max() <= ends.max() * (1 + 1e-12)
            np.testing.assert_allclose(values, catalogue.interpolate(curve, grid), rtol=1e-12)
        beyond = batch_joules_per_token(table, 0, 10.0 * curve.batch[-1])
        assert beyond == pytest.approx(curve.joules_per_token[-1], rel=1e-12)
        slope = np.log(curve.joules_per_token[1] / curve.joules_per_token[0]) / np.log(curve.batch[1] / curve.batch[0])
        below = curve.joules_per_token[0] * (1.0 / curve.batch[0]) ** slope
        assert batch_joules_per_token(table, 0, 1.0) == pytest.approx(below, rel=1e-12)


def test_published_accuracies_are_cited_one_by_one() -> None:
    rows = csv_rows(catalogue.ACCURACY_FILE)
    assert {r["model_id"] for r in rows} == set(FLEET_MODELS)
    for row in rows:
        assert "arXiv:2505.09388" in row["source"] and "Table" in row["source"]
        percent = f"{100 * float(row['accuracy']):.1f}"
        assert percent in row["source"]  # the number as the source prints it
        assert catalogue.published_accuracy(row["model_id"], row["benchmark"]).accuracy == float(row["accuracy"])


# ---------------------------------------------------------------------------------------------------------------
# The fleet scenario's calibration
# ---------------------------------------------------------------------------------------------------------------


def test_fleet_is_calibrated_to_the_published_accuracy_and_the_measured_lengths_and_energy() -> None:
    config = load_scenario(FLEET)
    params = build_params(config)
    long = params.budget_names.index("long")
    lo, hi = int(params.class_difficulty_lo[0]), int(params.class_difficulty_hi[0])
    for i, model_id in enumerate(FLEET_MODELS):
        option = i * params.n_budgets + long
        accuracy = params.accuracy[0, lo : hi + 1, option].mean()
        tokens = params.energy_mean_j[0, lo : hi + 1, option].mean() / params.model_joules_per_token[i]
        curve = catalogue.batch_curve(model_id, "B200", 1, "gpqa")
        # gamma is rounded to 4 decimals and tokens_per_step to an integer: well inside these tolerances
        assert accuracy == pytest.approx(catalogue.published_accuracy(model_id, "gpqa-diamond").accuracy, abs=5e-4)
        assert tokens == pytest.approx(curve.output_tokens.mean(), rel=2e-3)
        measured = config.models[i].measured_energy
        assert measured is not None
        assert params.model_joules_per_token[i] == catalogue.measured_joules_per_token(
            model_id, "B200", 1, "gpqa", measured.batch
        )
        rows = [
            r
            for r in csv_rows(catalogue.CATALOGUE_FILE)
            if (r["task"], r["model_id"], r["gpu_model"], r["num_gpus"], r["max_num_seqs"])
            == ("gpqa", model_id, "B200", "1", "128")
        ]
        throughput = float(rows[0]["output_tokens_per_s"])  # capacity: measured throughput at batch 128, one slot
        assert params.model_capacity_tokens[i] == pytest.approx(throughput * params.slot_seconds, abs=1.0)
    assert params.batch_energy


# ---------------------------------------------------------------------------------------------------------------
# Batch-dependent slot energy
# ---------------------------------------------------------------------------------------------------------------


def play_and_check_slot_energy(env: gym.Env, seed: int, replicas: int = 1) -> int:
    """Random valid actions; at every slot close, the demand must equal sum over models of tokens served times
    J/token of the catalogue curve (numpy, :func:`catalogue.interpolate`) at tasks served / replicas."""
    params = params_of(env)
    curves = [catalogue.batch_curve(m, "B200", 1, "gpqa") for m in FLEET_MODELS]
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    tokens, tasks = np.zeros(params.n_models), np.zeros(params.n_models)
    closes, truncated = 0, False
    while not truncated:
        _, _, _, truncated, info = env.step(random_valid_action(info, rng))
        if info["task_option"] >= 0:
            model = params.option_model[info["task_option"]]
            tokens[model] += info["task_tokens"]
            tasks[model] += 1
        if info["slots_closed"]:
            served = tasks > 0
            batch = np.maximum(tasks[served] / replicas, 1.0)
            expected = sum(
                t * catalogue.interpolate(c, b)
                for t, c, b in zip(tokens[served], np.array(curves)[served], batch, strict=True)
            )
            assert info["demand_j"] == pytest.approx(float(expected) + params.idle_j, rel=1e-12)
            closes += info["slots_closed"]
            tokens[:], tasks[:] = 0.0, 0.0
    return closes


def test_slot_energy_is_tokens_times_the_curve_at_the_batch() -> None:
    assert play_and_check_slot_energy(fleet_env(), seed=3) == 3


def test_replicas_spread_the_batch() -> None:
    env = fleet_env(models=fleet_models(replicas=4))
    assert play_and_check_slot_energy(env, seed=4, replicas=4) == 3


def test_dispatch_energy_and_committed_demand_are_the_estimates_at_the_stated_batch() -> None:
    env = fleet_env()
    params = params_of(env)
    _, info = env.reset(seed=0)
    _, _, _, _, info = env.step(int(np.flatnonzero(info["action_mask"])[-1]))
    model = params.option_model[info["task_option"]]
    assert info["task_energy_j"] == pytest.approx(info["task_tokens"] * params.model_joules_per_token[model], rel=1e-15)


def run_one_slot(overrides: dict[str, Any], spread: bool) -> float:
    """Task energy of one slot whose tasks all take the long budget, on model 0 only or alternating 0 and 1."""
    env = gym.make(lrm_gym.env_id(FLEET), overrides={"horizon_slots": 1, **overrides})
    params = params_of(env)
    long = params.budget_names.index("long")
    _, info = env.reset(seed=11)
    k, truncated, dispatched = 0, False, 0
    while not truncated:
        model = k % 2 if spread else 0
        _, _, _, truncated, info = env.step(1 + model * params.n_budgets + long)
        dispatched += info["tasks_dispatched"]
        k += 1
    assert dispatched == info["totals"]["tasks_arrived"] > 10
    return float(info["totals"]["demand_j"] - params.idle_j)


def test_consolidating_the_same_tasks_on_one_model_costs_less_than_spreading_them() -> None:
    """Two identical Qwen3-32B models: the same tasks (same outcomes, common random numbers) cost less on one
    model (one batch of n) than alternated over both (two of n/2) under task_energy 'batch', and the same under
    the additive default."""
    large = read_scenario_dict(FLEET)[0]["models"][2]
    twins = [large, {**large, "name": "qwen3-32b-twin"}]
    overrides = {"models": twins, "arrivals": {"kind": "constant", "rate_per_slot": 40.0}}
    consolidated, spread = run_one_slot(overrides, spread=False), run_one_slot(overrides, spread=True)
    assert consolidated < 0.8 * spread  # J(40) against J(20): 0.63 against 1.03 J/token on the curve
    additive = {**overrides, "task_energy": "additive"}
    assert run_one_slot(additive, spread=False) == pytest.approx(run_one_slot(additive, spread=True), rel=1e-12)


def test_additive_task_energy_is_the_sum_of_dispatch_energies() -> None:
    """The default (and every scenario shipped before the catalogue): slot demand = sum of task energies + idle."""
    for scenario, overrides in (("critical", {}), (FLEET, {"task_energy": "additive"})):
        env = gym.make(lrm_gym.env_id(scenario), overrides={"horizon_slots": 3, **overrides})
        assert not params_of(env).batch_energy
        rng = np.random.default_rng(0)
        _, info = env.reset(seed=0)
        total, truncated = 0.0, False
        while not truncated:
            _, _, _, truncated, info = env.step(random_valid_action(info, rng))
            total += info["task_energy_j"]
        idle = params_of(env).idle_j * info["totals"]["slots_closed"]
        assert info["totals"]["demand_j"] == pytest.approx(total + idle, rel=1e-12)


def test_existing_scenarios_keep_additive_energy() -> None:
    for name in lrm_gym.scenario_names():
        config = load_scenario(name)
        assert (config.task_energy == "batch") == (name == FLEET)


# ---------------------------------------------------------------------------------------------------------------
# Bad configurations
# ---------------------------------------------------------------------------------------------------------------

BAD: list[tuple[dict[str, Any], str]] = [
    (
        {"models": fleet_models(model_id="Qwen/Qwen9-1B")},
        r"models\.0\.measured_energy.*not in the ML\.ENERGY catalogue",
    ),
    ({"models": fleet_models(gpu="A100")}, r"models\.0\.measured_energy.*not measured.*measured for this model"),
    ({"models": fleet_models(batch=100)}, r"not measured at batch 100; measured batches.*\[8, 16, 32, 64, 128\]"),
    ({"models": fleet_models(task="translation")}, r"models\.0\.measured_energy\.task"),
    ({"models": fleet_models(replicas=0)}, r"models\.0\.measured_energy\.replicas"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD)
def test_bad_measured_energy_is_a_clear_error(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_scenario(FLEET, overrides)


def test_batch_energy_needs_a_measured_curve_for_every_model() -> None:
    models = fleet_models()
    models[1] = {k: v for k, v in models[1].items() if k != "measured_energy"}
    with pytest.raises(ValueError, match=r"task_energy 'batch' needs a batch curve.*\['qwen3-14b'\]"):
        load_scenario(FLEET, {"models": models})
    with pytest.raises(ValueError, match="task_energy 'batch' needs a batch curve"):
        load_scenario("critical", {"task_energy": "batch"})


def test_measured_and_explicit_energy_exclude_each_other() -> None:
    models = fleet_models()
    models[0]["joules_per_token"] = 0.2
    with pytest.raises(ValueError, match="at most one of 'joules_per_token' and 'measured_energy'"):
        load_scenario(FLEET, {"models": models})


def test_readme_scenarios_example_runs() -> None:
    readme = (DATA.parents[2] / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Scenarios\n(.*?)(?=^## |\Z)", readme, flags=re.S | re.M)
    assert section, "README has no '## Scenarios' section"
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), flags=re.S)
    assert blocks and any("FleetB200Qwen3" in block for block in blocks)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
