"""The benchmark: statistics on known data, a tiny suite end to end, executors, and bad input."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from agents.benchmark.executors import LocalExecutor, RunError
from agents.benchmark.intervals import mean_ci, welch_difference
from agents.benchmark.runs import plan, validate
from agents.benchmark.suite import load_suite
from agents.cli import main

TINY_SUITE = """
name: tiny
description: smallest suite that exercises every output
eval:
  seeds: [11, 12, 13]
scenarios:
  - {name: volatile, overrides: {horizon_slots: 2}}
analytic:
  - accuracy-target
  - {policy: fixed-option, params: {option: largest}, label: largest}
learned:
  - algo: maskable-ppo
    n_timesteps: 64
    seeds: [0, 1]
    eval_freq: 32
    eval_episodes: 1
    hyperparams: {n_envs: 1, n_steps: 32, batch_size: 32, n_epochs: 1}
headroom:
  time_limit_s: 20
  information: [hindsight, expected]
"""


def write_suite(tmp_path: Path, text: str = TINY_SUITE) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------------------
# Statistics on known data


def test_mean_ci_matches_the_student_t_interval() -> None:
    mean, half = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert mean == 3.0
    # t_{0.975, 4} = 2.7764451..., s = sqrt(2.5), n = 5
    assert half == pytest.approx(2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5), rel=1e-12)
    assert mean_ci([2.0, 2.0, 2.0]) == (2.0, 0.0)
    only_mean, no_spread = mean_ci([4.0])
    assert only_mean == 4.0 and math.isnan(no_spread)
    assert mean_ci([1.0, float("nan"), 3.0])[0] == 2.0


def test_mean_ci_gives_the_same_bits_as_the_textbook_formula() -> None:
    # The benchmark's tables must not change when the interval moved to scipy: t quantile times s / sqrt(n).
    rng = np.random.default_rng(3)
    for _ in range(200):
        x = rng.normal(rng.normal(0, 100), rng.exponential(10), rng.integers(2, 30))
        textbook = stats.t.ppf(0.975, x.size - 1) * (float(x.std(ddof=1)) / math.sqrt(x.size))
        assert mean_ci(list(x)) == (float(x.mean()), float(textbook))


def test_welch_difference_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 1.0, 7), rng.normal(0.0, 3.0, 12)
    diff, half = welch_difference(a, b)
    low, high = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx((low + high) / 2)
    assert half == pytest.approx((high - low) / 2)
    assert welch_difference([1.0, 1.0], [3.0, 3.0, 3.0]) == (-2.0, 0.0)  # no spread: an exact difference
    only_diff, no_interval = welch_difference([5.0], [1.0, 2.0])
    assert only_diff == 3.5 and math.isnan(no_interval)


# ---------------------------------------------------------------------------------------------------------
# A tiny suite end to end


def test_tiny_suite_writes_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- benchmark:tiny:start -->\nold\n<!-- benchmark:tiny:end -->\nrest\n")
    suite = str(write_suite(tmp_path))
    code = main(["benchmark", "--suite", suite, "--out", str(out), "--workers", "1", "--readme", str(readme)])
    assert code == 0, capsys.readouterr().err
    outputs = ("results.md", "results.csv", "episodes.csv", "results.json", "bars.png", "learning_curves.png")
    for name in (*outputs, "optima.csv", "headroom.png"):
        assert (out / name).is_file(), name
    assert (out / "energy_balance_volatile.png").is_file()

    with (out / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["policy"], r["kind"], r["n_units"]) for r in rows] == [
        ("maskable-ppo", "learned", "2"),
        ("accuracy-target", "analytic", "3"),
        ("largest", "analytic", "3"),
    ]
    for r in rows:
        assert math.isfinite(float(r["episode_return_mean"])) and float(r["episode_return_ci95"]) >= 0

    # the same evaluation seeds for a learned and an analytic policy
    with (out / "episodes.csv").open() as f:
        episodes = list(csv.DictReader(f))
    seeds: dict[tuple[str, str], list[int]] = {}
    for e in episodes:
        seeds.setdefault((e["policy"], e["train_seed"]), []).append(int(e["seed"]))
    assert seeds == {
        ("maskable-ppo", "0"): [11, 12, 13],
        ("maskable-ppo", "1"): [11, 12, 13],
        ("accuracy-target", ""): [11, 12, 13],
        ("largest", ""): [11, 12, 13],
    }
    # the table's analytic cell is the mean and CI of exactly these episodes
    returns = [float(e["episode_return"]) for e in episodes if e["policy"] == "largest"]
    mean, half = mean_ci(returns)
    largest = rows[2]
    assert float(largest["episode_return_mean"]) == pytest.approx(mean)
    assert float(largest["episode_return_ci95"]) == pytest.approx(half)
    # a learned cell is over training seeds, each the mean of its evaluation episodes
    per_seed = [
        np.mean(
            [float(e["episode_return"]) for e in episodes if e["policy"] == "maskable-ppo" and e["train_seed"] == s]
        )
        for s in ("0", "1")
    ]
    assert float(rows[0]["episode_return_mean"]) == pytest.approx(np.mean(per_seed))

    # the headroom: per episode the optimum bounds every policy's return, and the gap column is the mean and CI
    # of the per-episode relative gaps (per training seed for the learned agent)
    with (out / "optima.csv").open() as f:
        optima = list(csv.DictReader(f))
    assert sorted((o["information"], int(o["seed"])) for o in optima) == [
        (line, seed) for line in ("expected", "hindsight") for seed in (11, 12, 13)
    ]
    best = {int(o["seed"]): float(o["optimum"]) for o in optima if o["information"] == "hindsight"}
    bound = {int(o["seed"]): float(o["upper_bound"]) for o in optima if o["information"] == "hindsight"}
    for e in episodes:
        assert float(e["episode_return"]) <= bound[int(e["seed"])] + 1e-6 * abs(bound[int(e["seed"])])
    gaps = [(best[int(e["seed"])] - float(e["episode_return"])) / abs(best[int(e["seed"])]) for e in episodes
            if e["policy"] == "largest"]  # fmt: skip
    assert float(largest["gap_mean"]) == pytest.approx(mean_ci(gaps)[0])
    assert float(largest["gap_ci95"]) == pytest.approx(mean_ci(gaps)[1])
    assert float(largest["optimum_mean"]) == pytest.approx(np.mean(list(best.values())))
    learned_gaps = [
        np.mean([(best[int(e["seed"])] - float(e["episode_return"])) / abs(best[int(e["seed"])])
                 for e in episodes if e["policy"] == "maskable-ppo" and e["train_seed"] == s])
        for s in ("0", "1")
    ]  # fmt: skip
    assert float(rows[0]["gap_mean"]) == pytest.approx(np.mean(learned_gaps))
    results_md = (out / "results.md").read_text()
    assert "| volatile | *hindsight optimum* | optimum | 3 |" in results_md
    assert "Where the best policy stands" in results_md and "expected-information line" in results_md

    payload = json.loads((out / "results.json").read_text())
    assert payload["verdicts"][0]["outcome"] in {"beats", "ties", "loses"}
    assert set(payload["headroom"]["optima"]) == {"volatile"} and len(payload["headroom"]["gaps"]) == 3
    assert "Protocol" in (out / "results.md").read_text()
    text = readme.read_text()
    assert "old" not in text and "| volatile | accuracy-target | analytic |" in text and text.endswith("rest\n")


# ---------------------------------------------------------------------------------------------------------
# Executors


def square_or_fail(x: int) -> int:
    if x == 3:
        raise RuntimeError("three is not allowed")
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_keeps_other_runs_when_one_fails(workers: int) -> None:
    out = LocalExecutor(workers, progress=False).map(square_or_fail, [1, 2, 3, 4])
    assert out[:2] == [1, 4] and out[3] == 16
    assert isinstance(out[2], RunError) and out[2].spec == 3
    assert out[2].summary == "RuntimeError: three is not allowed"


# ---------------------------------------------------------------------------------------------------------
# Bad input: a clear error before any run starts


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("name: volatile", "name: nowhere"), "unknown scenario 'nowhere'"),
        (("algo: maskable-ppo", "algo: ddpg"), "unknown algorithm 'ddpg'"),
        (("- accuracy-target", "- best-guess"), "unknown policy 'best-guess'"),
        (("n_epochs: 1}", "n_epochz: 1}"), "has no parameter"),
        (("seeds: [11, 12, 13]", "seeds: []"), "eval.seeds: no evaluation seeds"),
        (("eval_episodes: 1\n", "eval_episodes: 1\n    model: worst\n"), "learned[0].model: input should be 'last'"),
        # the key path of every problem found by the suite's schema
        (("seeds: [11, 12, 13]", "seeds: {count: 2}"), "eval.seeds.start: field required"),
        (("seeds: [11, 12, 13]", "seeds: [-1]"), "eval.seeds[0]: input should be greater than or equal to 0"),
        (("seeds: [11, 12, 13]", "seeds: [4294967296]"), "eval.seeds[0]: input should be less than 4294967296"),
        (("seeds: [11, 12, 13]", "seeds: {start: 4294967295, count: 2}"), "eval.seeds: start + count must be at"),
        (("seeds: [11, 12, 13]", "seeds: [11, 11]"), "eval.seeds: duplicate evaluation seeds: [11]"),
        (("seeds: [11, 12, 13]", "seeds: 11"), "eval.seeds: input should be a valid list"),
        (("overrides: {horizon_slots: 2}", "overrides: [1, 2]"), "scenarios[0].overrides: input should be a valid"),
        (("n_timesteps: 64", "n_timesteps: 0"), "learned[0].n_timesteps: input should be greater than or equal to 1"),
        (("n_timesteps: 64", "n_timesteps: 64.0"), "learned[0].n_timesteps: input should be a valid integer"),
        (("seeds: [0, 1]", "seeds: [0, 0]"), "learned[0].seeds: duplicate training seeds: [0]"),
        (("eval_freq: 32", "eval_freq: -1"), "learned[0].eval_freq: input should be greater than or equal to 0"),
        (("label: largest", "label: ../elsewhere"), "analytic[1].label: string should match pattern"),
        (("eval_episodes: 1\n", "eval_episodes: 1\n    n_steps: 5\n"), "learned[0].n_steps: extra inputs are not"),
        (("name: tiny", "name: tiny\ntypo: 1"), "typo: extra inputs are not permitted"),
        (("[hindsight, expected]", "[expected]"), "headroom.information: the gaps are to the hindsight optimum"),
        (("time_limit_s: 20", "time_limit_s: 0"), "headroom.time_limit_s: input should be greater than 0"),
        (("label: largest", "label: hindsight-optimum"), "reserved for the optimum runs"),
        (("time_limit_s: 20", "time_limit_s: 20\n  scenarios: [solar]"), "headroom.scenarios: ['solar'] are not"),
        (("eval_episodes: 1\n", "eval_episodes: 1\n    scenarios: [x]\n"), "learned[0].scenarios: ['x'] are not"),
    ],
)
def test_bad_suites_fail_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str], message: str
) -> None:
    path = write_suite(tmp_path, TINY_SUITE.replace(*edit))
    out = tmp_path / "out"
    assert main(["benchmark", "--suite", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("lrm-gym benchmark: error: ") and err.count("\n") == 1  # one line, no traceback
    assert not out.exists()


def test_suite_errors_name_the_file_and_every_key_path(tmp_path: Path) -> None:
    text = TINY_SUITE.replace("n_timesteps: 64", "n_timesteps: -5").replace("seeds: [11, 12, 13]", "seeds: [-1]")
    path = write_suite(tmp_path, text)
    with pytest.raises(ValueError) as info:
        load_suite(path)
    message = str(info.value)
    assert message.startswith(f"suite {path}: ")
    assert "eval.seeds[0]: " in message and "learned[0].n_timesteps: " in message


def test_learned_and_headroom_entries_can_be_restricted_to_some_scenarios(tmp_path: Path) -> None:
    text = TINY_SUITE.replace(
        "  - {name: volatile, overrides: {horizon_slots: 2}}",
        "  - {name: volatile, overrides: {horizon_slots: 2}}\n  - {name: solar, overrides: {horizon_slots: 2}}",
    )
    text = text.replace("eval_episodes: 1\n", "eval_episodes: 1\n    scenarios: [solar]\n")
    text = text.replace("time_limit_s: 20", "time_limit_s: 20\n  scenarios: [volatile]")  # fmt: skip
    runs = plan(load_suite(write_suite(tmp_path, text)), tmp_path / "out")
    where = {(r.kind, r.scenario) for r in runs}
    assert ("learned", "solar") in where and ("learned", "volatile") not in where
    assert ("optimum", "volatile") in where and ("optimum", "solar") not in where
    assert ("analytic", "solar") in where and ("analytic", "volatile") in where


def test_suite_shorthands_and_defaults(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, TINY_SUITE.replace("seeds: [11, 12, 13]", "seeds: {start: 7, count: 2}")))
    assert suite.name == "tiny" and suite.eval_seeds == (7, 8)
    assert [(a.label, a.policy, a.params) for a in suite.analytic] == [
        ("accuracy-target", "accuracy-target", {}),
        ("largest", "fixed-option", {"option": "largest"}),
    ]
    (learned,) = suite.learned
    assert (learned.label, learned.seeds, learned.backend, learned.model) == ("maskable-ppo", (0, 1), "sb3", "last")
    no_validation = TINY_SUITE.replace("eval_freq: 32", "eval_freq: 0")  # allowed: training without validation
    assert load_suite(write_suite(tmp_path, no_validation)).learned[0].eval_freq == 0
    assert suite.scenarios[0].env_id == "lrm_gym/EnergyRouting-Volatile-v2"
    assert suite.scenarios[0].overrides == {"horizon_slots": 2}


def test_unreadable_suite_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read suite file"):
        load_suite(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("scenarios: [volatile\n")
    with pytest.raises(ValueError, match="cannot read suite file"):
        load_suite(broken)


@pytest.mark.parametrize("name", ["quick", "full"])
def test_shipped_suites_are_valid(name: str, tmp_path: Path) -> None:
    suite = load_suite(name)
    assert suite.analytic and suite.learned
    validate(plan(suite, tmp_path))


def test_demo_is_the_quick_suite_and_can_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    import agents.cli.benchmark as benchmark_cli

    seen: list[Any] = []
    monkeypatch.setattr(benchmark_cli, "run", lambda args: seen.append(args) or 0)
    assert main(["demo", "--out", "somewhere", "--workers", "1"]) == 0
    assert main(["demo", "--out", "somewhere", "--restart"]) == 0
    assert [(a.suite, a.out, a.restart, a.report_only) for a in seen] == [
        ("quick", "somewhere", False, False),
        ("quick", "somewhere", True, False),
    ]


@pytest.mark.parametrize("cost", ["auxiliary_kwh", "carbon_kg", "waste_kwh"])
def test_the_benchmark_metrics_hold_every_cost_kind_as_the_env_counts_it(cost: str) -> None:
    """``info["cost"]`` summed over an episode is the metric the benchmark tabulates for that cost kind."""
    import gymnasium as gym

    from agents.evaluation import METRICS, summarise

    metric = {"auxiliary_kwh": "auxiliary_kwh", "carbon_kg": "auxiliary_carbon_kg", "waste_kwh": "waste_kwh"}[cost]
    assert metric in METRICS
    env = gym.make("lrm_gym/EnergyRouting-Volatile-v2", overrides={"horizon_slots": 6}, cost=cost)
    _, info = env.reset(seed=3)
    total, steps, episode_return, truncated = 0.0, 0, 0.0, False
    rng = np.random.default_rng(0)
    while not truncated:
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        _, reward, _, truncated, info = env.step(action)
        total, steps, episode_return = total + info["cost"], steps + 1, episode_return + float(reward)
    metrics = summarise(info["totals"], 3, steps, episode_return).as_dict()
    assert total > 0 or metrics[metric] == 0
    assert info["totals"]["cost"] == pytest.approx(metrics[metric], rel=1e-9, abs=1e-12)
