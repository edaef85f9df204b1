"""Bad command-line input fails at once with one line naming it (exit code 2), before any run or episode."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.cli import main
from tests.agents.test_benchmark import write_suite


def place(tmp_path: Path, kind: str) -> Path:
    """A path that cannot be a written folder: a file, a folder under a file, a folder under /proc (for
    root too, unlike a chmod-ed folder), or one that is an existing folder (for a file output)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder\n")
    paths = {
        "a file": a_file,
        "under a file": a_file / "sub",
        "under /proc": Path("/proc/lrm-gym-out"),
        "a folder": tmp_path,
    }
    return paths[kind]


def _fails_in_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lrm-gym {argv[0]}: error: ") and err.count("\n") == 1, err
    assert message in err


@pytest.mark.parametrize(
    ("kind", "message"),
    [("a file", "is a file, not a folder"), ("under a file", "cannot write there"), ("under /proc", "cannot write")],
)
def test_benchmark_out_that_cannot_be_written_fails_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, message: str
) -> None:
    out, suite = place(tmp_path, kind), write_suite(tmp_path)
    argv = ["benchmark", "--suite", str(suite), "--out", str(out), "--workers", "1"]
    _fails_in_one_line(argv, message, capsys)
    assert not list(tmp_path.rglob("results")), "no run may start"


def test_experiment_out_that_cannot_be_written_fails_before_simulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = place(tmp_path, "under a file") / "figures"
    _fails_in_one_line(["experiment", "buffer", "--quick", "--out", str(out)], "cannot write there", capsys)


@pytest.mark.parametrize(
    ("kind", "message"),
    [("under a file", "is a file, not a folder"), ("a folder", "is a folder, not a file")],
)
def test_evaluate_out_that_cannot_be_written_fails_before_the_episodes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, message: str
) -> None:
    out = place(tmp_path, kind)
    _fails_in_one_line(["evaluate", "--policy", "accuracy-target", "--out", str(out)], message, capsys)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "--policy", "accuracy-target", "--seed", "-5"], "argument --seed: must be a seed"),
        (
            ["evaluate", "--policy", "accuracy-target", "--seed", "4294967296"],
            "argument --seed: must be a seed, a non-negative integer below 2**32",
        ),
        (
            ["evaluate", "--policy", "accuracy-target", "--seed", "five"],
            "argument --seed: must be an integer, got 'five'",
        ),
        (["experiment", "buffer", "--seed", "-1"], "argument --seed: must be a seed"),
        (["benchmark", "--workers", "0"], "argument --workers: must be at least 1, got 0"),
        (["demo", "--workers", "-2"], "argument --workers: must be at least 1, got -2"),
    ],
)
def test_bad_numbers_are_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"lrm-gym {argv[0]}: error: {message}" in err
    assert "Traceback" not in err


def test_evaluate_seeds_must_stay_below_two_to_the_32(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["evaluate", "--policy", "accuracy-target", "--seed", str(2**32 - 1), "--episodes", "2"]
    _fails_in_one_line(argv, "go past the last seed", capsys)


def test_the_last_seed_is_accepted(tmp_path: Path) -> None:
    out = tmp_path / "e.json"
    argv = ["evaluate", "--policy", "accuracy-target", "--env", "critical", "--episodes", "1"]
    assert main([*argv, "--seed", str(2**32 - 1), "--out", str(out)]) == 0
    assert out.is_file()
