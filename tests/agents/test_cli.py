"""The ``lrm-gym list``, ``evaluate`` and ``experiment`` commands."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import gymnasium as gym
import pytest

from agents.cli import main
from agents.cli.evaluate import resolve_env_id
from agents.policies.analytic import POLICIES


def test_list_shows_every_id_and_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for spec_id in (i for i in gym.registry if i.startswith("lrm_gym/")):
        assert spec_id in out
    for name in POLICIES:
        assert name in out


def test_evaluate_prints_a_table_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    argv = ["evaluate", "--policy", "accuracy-target", "--env", "critical", "--episodes", "2", "--seed", "5"]
    argv += ["--overrides", '{"horizon_slots": 2}', "--policy-kwargs", '{"target": 0.8}', "--out", str(out)]
    assert main(argv) == 0
    assert "accuracy" in capsys.readouterr().out
    payload = json.loads(out.read_text())
    assert payload["seeds"] == [5, 6] and payload["policy_kwargs"] == {"target": 0.8}
    assert len(payload["episodes"]) == 2
    for metric in ("episode_return", "accuracy", "auxiliary_kwh", "waste_kwh", "energy_per_correct_kj"):
        assert set(payload["summary"][metric]) == {"mean", "ci95"}
    assert payload["summary"]["tasks_dropped"]["mean"] >= 0
    assert payload["summary"]["mean_wait_slots"]["mean"] >= 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "--policy", "accuracy-target", "--env", "Nowhere-v9"], "unknown env 'Nowhere-v9'"),
        (["evaluate", "--policy", "accuracy-target", "--policy-kwargs", '{"target": 2}'], "target must be"),
        (["evaluate", "--policy", "accuracy-target", "--overrides", "{bad json"], "--overrides is not valid JSON"),
        (["evaluate", "--policy", "accuracy-target", "--episodes", "0"], "--episodes must be >= 1"),
        (["evaluate", "--policy", "variance-aware-lp", "--policy-kwargs", '{"accuracy_floor": 0.99}'], "floor"),
    ],
)
def test_evaluate_errors_are_clear(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_unknown_policy_and_experiment_names_are_argparse_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["evaluate", "--policy", "greedy"], ["experiment", "nonsense"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert "invalid choice" in capsys.readouterr().err


def test_quick_buffer_experiment_writes_figure_and_csv(tmp_path: Path) -> None:
    assert main(["experiment", "buffer", "--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "buffer.png").stat().st_size > 10_000
    rows = list(csv.DictReader((tmp_path / "buffer.csv").open()))
    assert rows and {"capacity_over_sigma", "aux_over_sigma", "aux_ci95", "aux_corrected"} <= set(rows[0])


def test_env_names_resolve() -> None:
    assert resolve_env_id("solar-battery") == "lrm_gym/EnergyRouting-SolarBattery-v2"
    assert resolve_env_id("lrm_gym/EnergyRouting-v2") == "lrm_gym/EnergyRouting-v2"


def test_readme_reproducing_section_examples_run() -> None:
    from tests.agents.test_readme import _section

    section = _section("Reproducing the paper")
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    for name in ("critical-sweep", "volatility", "buffer", "variance-sources", "policy-frontier"):
        assert f"docs/figures/{name}.png" in section
        assert (Path(__file__).resolve().parents[2] / "docs" / "figures" / f"{name}.png").is_file()
