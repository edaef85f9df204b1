"""Benchmark entries on the slot-level env (``env: dispatch``), run keys that stay as they were, and time to
quality read from learning curves."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from agents.benchmark.quality import first_reach, mean_curve, quality_markdown, time_to_quality
from agents.benchmark.runs import RunResult, RunSpec, evaluation_env_kwargs, execute_run, plan, validate
from agents.benchmark.statistics import aggregate
from agents.benchmark.store import run_key
from agents.benchmark.suite import load_suite
from agents.cli import main
from agents.evaluation import METRICS, evaluate
from agents.policies.analytic import make_policy
from tests.agents.test_benchmark import write_suite

DISPATCH_SUITE = """
name: tiny-dispatch
eval:
  seeds: [11, 12]
scenarios:
  - {name: volatile, overrides: {horizon_slots: 3}}
analytic:
  - supply-tracking
  - {policy: supply-tracking, env: dispatch, label: supply-tracking-dispatch}
learned:
  - algo: ppo
    env: dispatch
    label: ppo-dispatch
    n_timesteps: 64
    seeds: [0]
    eval_freq: 32
    eval_episodes: 1
    hyperparams: {n_envs: 2, n_steps: 16, batch_size: 16, n_epochs: 1}
"""


def test_run_keys_of_specs_without_the_new_fields_are_unchanged() -> None:
    # Keys computed on main (96f6eb7) before the slot-level entries existed: a benchmark resuming from a store
    # written then must find its finished runs under the same names.
    analytic = RunSpec(
        kind="analytic",
        scenario="volatile",
        env_id="lrm_gym/EnergyRouting-Volatile-v2",
        overrides={},
        label="supply-tracking",
        eval_seeds=(1000000, 1000001),
        policy="supply-tracking",
    )
    learned = RunSpec(
        kind="learned",
        scenario="solar",
        env_id="lrm_gym/EnergyRouting-Solar-v2",
        overrides={"horizon_slots": 4},
        label="maskable-ppo",
        eval_seeds=(1000000,),
        algo="maskable-ppo",
        train_seed=1,
        n_timesteps=240000,
        eval_freq=60000,
        eval_episodes=1,
        run_dir="x/runs",
    )
    assert run_key(analytic) == "71736dc269e2f04bb99f237b5b8ceebf85a8800fd2ad466fd991cf789f2cc597"
    assert run_key(learned) == "efc129a6f7ddaad3b4778f889dca1245b0f3cefa42ed95f5a9dc6c6e2b28e270"


def test_shipped_suites_plan_the_per_task_runs_as_before(tmp_path: Path) -> None:
    # the entries without `env:` plan exactly the specs they planned before (same ids, so the same keys)
    for name in ("quick", "full"):
        runs = plan(load_suite(name), tmp_path)
        task = [r for r in runs if r.kind != "optimum" and "Dispatch" not in r.env_id]
        assert task and all(r.env_id.startswith("lrm_gym/EnergyRouting-") for r in task)
        dispatch = [r for r in runs if "Dispatch" in r.env_id]
        assert dispatch and all(r.kind == "learned" and r.label.endswith("-dispatch") for r in dispatch)


def test_dispatch_entries_plan_onto_the_slot_env(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, DISPATCH_SUITE))
    runs = {r.label: r for r in plan(suite, tmp_path / "out")}
    assert runs["supply-tracking"].env_id == "lrm_gym/EnergyRouting-Volatile-v2"
    assert runs["supply-tracking-dispatch"].env_id == "lrm_gym/EnergyDispatch-Volatile-v2"
    assert runs["ppo-dispatch"].env_id == "lrm_gym/EnergyDispatch-Volatile-v2"
    validate(list(runs.values()))
    assert evaluation_env_kwargs({"action": "allowance", "overrides": {"reward": {"quality": "expected"}}}) == {
        "action": "allowance"
    }


def test_slot_form_of_supply_tracking_plays_the_same_episodes_as_the_per_task_policy(tmp_path: Path) -> None:
    # The slot env with the same seed plays the same exogenous episode, and supply-tracking's slot form makes
    # the per-task policy's choices exactly (agents.policies.slot), so the two runs' returns are identical.
    suite = load_suite(write_suite(tmp_path, DISPATCH_SUITE))
    runs = {r.label: r for r in plan(suite, tmp_path / "out")}
    per_task = execute_run(runs["supply-tracking"])
    slot = execute_run(runs["supply-tracking-dispatch"])
    assert [e["episode_return"] for e in slot.episodes] == pytest.approx(
        [e["episode_return"] for e in per_task.episodes], rel=1e-9
    )
    direct = evaluate(
        lambda env: make_policy("supply-tracking", env),
        "lrm_gym/EnergyRouting-Volatile-v2",
        [11, 12],
        {"horizon_slots": 3},
    )
    assert [e.episode_return for e in direct] == pytest.approx([e["episode_return"] for e in slot.episodes])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  - {policy: supply-tracking, env: slots}", "input should be 'task' or 'dispatch'"),
        (
            "  - {algo: ppo, env: dispatch, backend: rllib, n_timesteps: 10}".replace("  - ", "learned:\n  - "),
            "env: dispatch trains with backend sb3",
        ),
    ],
)
def test_bad_env_levels_are_named(entry: str, message: str, tmp_path: Path) -> None:
    text = DISPATCH_SUITE.split("learned:")[0] + entry + "\n"
    with pytest.raises(ValueError, match=message):
        load_suite(write_suite(tmp_path, text))


def test_dispatch_suite_end_to_end_reports_time_to_quality(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["benchmark", "--suite", str(write_suite(tmp_path, DISPATCH_SUITE)), "--out", str(out)]) == 0
    text = (out / "results.md").read_text()
    assert "| volatile | ppo-dispatch | learned | 1 |" in text
    assert "| volatile | supply-tracking-dispatch | analytic | 2 |" in text
    assert "**Time to quality**" in text and "- volatile: ppo-dispatch vs supply-tracking" in text
    with (out / "results.csv").open() as f:
        rows = {r["policy"]: r for r in csv.DictReader(f)}
    assert rows["ppo-dispatch"]["time_to_quality_target"] != ""
    assert rows["supply-tracking"]["time_to_quality_target"] == ""
    payload = json.loads((out / "results.json").read_text())
    (quality,) = payload["time_to_quality"]
    assert quality["learned"] == "ppo-dispatch" and quality["best"] is True
    learned_run = next(r for r in payload["runs"] if r["spec"]["label"] == "ppo-dispatch")
    # a wall time for every point of the curve, growing with the steps
    walls = learned_run["curve_wall_seconds"]
    assert len(walls) == len(learned_run["curve_timesteps"]) >= 1
    assert walls == sorted(walls) and walls[0] >= 0


# ---------------------------------------------------------------------------------------------------------
# Time to quality on synthetic curves


def _episodes(*returns: float) -> tuple[dict[str, float], ...]:
    """Evaluation episodes with the given returns (every other metric 0)."""
    return tuple(dict.fromkeys(METRICS, 0.0) | {"episode_return": float(r)} for r in returns)


def _result(label: str, kind: str, returns: list[float], steps: list[int], walls: list[float], seed: int) -> RunResult:
    spec = RunSpec(
        kind=kind,  # type: ignore[arg-type]
        scenario="s",
        env_id="lrm_gym/EnergyDispatch-Volatile-v2",
        overrides={},
        label=label,
        eval_seeds=(1, 2),
        train_seed=seed if kind == "learned" else None,
    )
    return RunResult(spec, _episodes(*returns), {}, 1.0, tuple(steps), tuple(returns), None, tuple(walls))


def test_time_to_quality_reads_the_mean_curve_over_seeds() -> None:
    # analytic target: mean evaluation return 10; curves of two seeds: mean 6, 9, 11, 12 -> reached at step 300
    analytic = RunResult(
        RunSpec("analytic", "s", "e", {}, "st", (1, 2, 3)),
        _episodes(9, 10, 11),
        {},
        0.1,
    )
    other = RunResult(RunSpec("analytic", "s", "e", {}, "weak", (1, 2, 3)), _episodes(-5, -5, -5), {}, 0.1)
    a = _result("sac", "learned", [4, 8, 12, 12], [100, 200, 300, 400], [10, 20, 30, 40], 0)
    b = _result("sac", "learned", [8, 10, 10, 12], [100, 200, 300, 400], [12, 22, 34, 44], 1)
    slow = _result("ppo", "learned", [1, 2, 3, 4], [100, 200, 300, 400], [1, 2, 3, 4], 0)
    results = [analytic, other, a, b, slow]
    # evaluation returns for the rows: sac's episodes are its curve values, mean 10.25 > ppo's 2.5
    rows = aggregate(results)
    steps, returns, walls = mean_curve([a, b])
    assert steps.tolist() == [100, 200, 300, 400] and returns.tolist() == [6, 9, 11, 12]
    assert walls is not None and walls.tolist() == [11, 21, 32, 42]
    by_label = {q.learned: q for q in time_to_quality(rows, results)}
    sac, ppo = by_label["sac"], by_label["ppo"]
    assert sac.best and not ppo.best
    assert (sac.analytic, sac.target, sac.steps, sac.wall_seconds, sac.n_seeds) == ("st", 10.0, 300, 32.0, 2)
    assert ppo.steps is None and ppo.wall_seconds is None and not ppo.reached and ppo.final_return == 4
    text = quality_markdown(list(by_label.values()))
    assert "- s: sac vs st (10): reached at 300 env steps (32 s of training), 2 seed(s)" in text
    assert "ppo" not in text  # only the scenario's best learned agent is listed


def test_time_to_quality_without_wall_times_and_first_reach() -> None:
    assert first_reach([1.0, 3.0, 2.0, 5.0], 3.0) == 1
    assert first_reach([1.0, 2.0], 3.0) is None
    assert first_reach([], 0.0) is None
    old = _result("ppo", "learned", [1, 5], [10, 20], [], 0)  # a run stored before wall times were recorded
    steps, _, walls = mean_curve([old])
    assert walls is None and steps.tolist() == [10, 20]
    target = RunResult(RunSpec("analytic", "s", "e", {}, "st", (1,)), _episodes(4), {}, 0.1)
    (q,) = time_to_quality(aggregate([target, old]), [target, old])
    assert q.steps == 20 and q.wall_seconds is None
    assert "reached at 20 env steps (wall time not recorded)" in quality_markdown([q])
