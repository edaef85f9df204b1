"""A non-editable install works from outside the source tree: configs ship as package data.

The project is built into a plain folder with ``pip install --no-deps --target`` (a wheel build, as
``pip install .`` does) and run from an empty working directory with only that folder on the path, so
nothing can come from the repository. The dependencies are the test environment's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TINY_SUITE = """\
name: wheel
eval:
  seeds: [3, 4]
scenarios:
  - {name: volatile, overrides: {horizon_slots: 2}}
analytic:
  - accuracy-target
learned:
  - algo: maskable-ppo
    n_timesteps: 64
    seeds: [0]
    eval_freq: 0
    hyperparams: {n_envs: 1, n_steps: 32, batch_size: 32, n_epochs: 1}
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            site,
            ROOT,
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return site


def run_installed(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([*args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_install_is_not_the_source_tree(installed: Path, tmp_path: Path) -> None:
    code = "import agents, lrm_gym, agents.paths as p; print(agents.__file__, lrm_gym.__file__, p.CONFIG_DIR)"
    result = run_installed(installed, tmp_path, sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    paths = result.stdout.split()
    assert all(path.startswith(str(installed)) for path in paths), paths
    config_dir = Path(paths[2])
    assert not config_dir.is_symlink()  # the files themselves, not the repository's link
    assert (config_dir / "maskable-ppo.yml").is_file() and (config_dir / "suites" / "quick.yaml").is_file()


def test_train_and_benchmark_run_from_a_non_editable_install(installed: Path, tmp_path: Path) -> None:
    cli = installed / "bin" / "lrm-gym"
    train = run_installed(
        installed,
        tmp_path,
        str(cli),
        "train",
        "--algo",
        "maskable-ppo",
        "--env",
        "lrm_gym/EnergyRouting-Volatile-v2",
        "-n",
        "64",
        "--eval-freq",
        "0",
        "-f",
        "logs",
        "--env-kwargs",
        "overrides:{horizon_slots: 2}",
        "--no-progress",
        "-params",
        "n_steps:32",
        "batch_size:32",
        "n_epochs:1",
    )
    assert train.returncode == 0, train.stderr
    assert list((tmp_path / "logs" / "maskable-ppo").glob("*/*.zip"))

    (tmp_path / "suite.yaml").write_text(TINY_SUITE)
    bench = run_installed(
        installed, tmp_path, str(cli), "benchmark", "--suite", "suite.yaml", "--out", "out", "--workers", "1"
    )
    assert bench.returncode == 0, bench.stderr
    assert (tmp_path / "out" / "results.csv").is_file()
    listed = run_installed(installed, tmp_path, str(cli), "benchmark", "--help")
    assert "quick" in listed.stdout and "full" in listed.stdout  # the shipped suites are found
