"""A benchmark resumes from the runs it already finished: kept atomically, matched by spec, never redone."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from agents.benchmark.runs import RunResult, RunSpec
from agents.benchmark.store import load_result, results_dir, run_key, save_result
from agents.cli import main
from tests.agents.test_benchmark import TINY_SUITE, write_suite

SPEC = RunSpec(
    kind="analytic",
    scenario="volatile",
    env_id="lrm_gym/EnergyRouting-Volatile-v2",
    overrides={"horizon_slots": 2},
    label="largest",
    eval_seeds=(11, 12),
    policy="fixed-option",
    params={"option": "largest"},
)
RESULT = RunResult(
    spec=SPEC,
    episodes=({"seed": 11, "episode_return": 0.1 + 0.2, "energy_per_correct_kj": float("nan")},),
    trajectory={"slot": [0.0, 1.0], "waste_j": [1e-300, 3.0]},
    wall_seconds=1.25,
)


def test_a_saved_result_reads_back_bit_for_bit(tmp_path: Path) -> None:
    path = save_result(tmp_path, RESULT)
    assert path.parent == results_dir(tmp_path) and path.stem == run_key(SPEC)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    back = load_result(tmp_path, SPEC)
    assert back is not None
    assert back.spec is SPEC and back.trajectory == RESULT.trajectory and back.wall_seconds == 1.25
    assert back.episodes[0]["episode_return"] == 0.1 + 0.2  # repr round trip: the same float, not a rounded one
    assert math.isnan(float(back.episodes[0]["energy_per_correct_kj"]))


def test_the_key_is_the_spec_not_the_output_folder() -> None:
    assert run_key(SPEC) == run_key(dataclasses.replace(SPEC, overrides={"horizon_slots": 2}))
    assert run_key(SPEC) == run_key(dataclasses.replace(SPEC, run_dir="elsewhere/runs/x"))
    assert run_key(SPEC) != run_key(dataclasses.replace(SPEC, eval_seeds=(11, 13)))
    assert run_key(SPEC) != run_key(dataclasses.replace(SPEC, params={"option": "cheapest"}))
    assert len(run_key(SPEC)) == 64  # sha256 hex


@pytest.mark.parametrize(
    "damage",
    ["truncate", "other spec", "other format", "not json"],
)
def test_a_damaged_or_foreign_result_is_not_reused(tmp_path: Path, damage: str) -> None:
    path = save_result(tmp_path, RESULT)
    payload = json.loads(path.read_text())
    if damage == "truncate":
        path.write_text(path.read_text()[:-20])
    elif damage == "other spec":
        payload["spec"]["eval_seeds"] = [99]
        path.write_text(json.dumps(payload))
    elif damage == "other format":
        payload["format"] = 0
        path.write_text(json.dumps(payload))
    else:
        path.write_text("[]")
    assert load_result(tmp_path, SPEC) is None
    assert load_result(tmp_path / "nowhere", SPEC) is None


def _result_files(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in results_dir(out).glob("*.json")}


def test_a_second_invocation_reuses_every_finished_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite, out = str(write_suite(tmp_path)), tmp_path / "out"
    argv = ["benchmark", "--suite", suite, "--out", str(out), "--workers", "1"]
    assert main(argv) == 0
    first = _result_files(out)
    assert len(first) == 6  # two learned seeds, two analytic policies, two optimum lines
    table = (out / "results.csv").read_bytes()
    log = out / "runs" / "maskable-ppo" / "volatile" / "seed_0" / "progress.csv"
    log_written = log.stat().st_mtime_ns
    capsys.readouterr()

    assert main(argv) == 0  # resumes by default: nothing left to run
    assert "6 finished earlier, 0 to run" in capsys.readouterr().out
    assert _result_files(out) == first and log.stat().st_mtime_ns == log_written  # not redone, logs untouched
    assert (out / "results.csv").read_bytes() == table
    assert "6 of them finished earlier and reused" in (out / "results.md").read_text()

    # one run lost: only it is redone, and the table is the same
    lost = sorted(first)[0]
    (results_dir(out) / lost).unlink()
    assert main(argv) == 0
    assert "5 finished earlier, 1 to run" in capsys.readouterr().out
    again = _result_files(out)
    assert {k: v for k, v in again.items() if k != lost} == {k: v for k, v in first.items() if k != lost}
    assert lost in again and (out / "results.csv").read_bytes() == table

    # --restart redoes everything
    assert main([*argv, "--restart"]) == 0
    assert "0 finished earlier, 6 to run" in capsys.readouterr().out
    restarted = _result_files(out)
    assert set(restarted) == set(first) and all(restarted[k] != first[k] for k in first if k != lost)
    assert (out / "results.csv").read_bytes() == table


def test_report_only_writes_what_finished_and_lists_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    analytic_only = TINY_SUITE.split("learned:")[0]
    suite, out = str(write_suite(tmp_path, analytic_only)), tmp_path / "out"
    argv = ["benchmark", "--suite", suite, "--out", str(out), "--workers", "1"]
    assert main([*argv, "--report-only"]) == 0  # nothing finished yet: an empty table, every run missing
    text = (out / "results.md").read_text()
    assert "**Missing runs (2)**" in text and "- volatile / largest" in text
    assert not results_dir(out).exists() or not any(results_dir(out).iterdir())  # nothing was run

    assert main(argv) == 0
    full = (out / "results.csv").read_bytes()
    spec = next(p for p in results_dir(out).glob("*.json") if '"label": "largest"' in p.read_text())
    spec.unlink()
    capsys.readouterr()
    assert main([*argv, "--report-only"]) == 0
    assert "1 finished earlier, 1 not finished, --report-only" in capsys.readouterr().out
    assert "**Missing runs (1)**" in (out / "results.md").read_text()
    assert json.loads((out / "results.json").read_text())["missing"] == ["volatile / largest"]
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("volatile,accuracy-target,analytic")
    assert rows[0].encode() == full.splitlines()[0]


def test_restart_and_report_only_exclude_each_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["benchmark", "--suite", str(write_suite(tmp_path)), "--restart", "--report-only"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
