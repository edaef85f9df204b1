"""rl-zoo3's run-folder conventions, shared by every training backend (SB3 and RLlib)."""

from __future__ import annotations

from pathlib import Path


def env_name(env_id: str) -> str:
    """The env id as a folder name, as rl-zoo3 writes it: ``/`` becomes ``-``."""
    return env_id.replace("/", "-")


def next_run_dir(log_folder: str | Path, algo: str, env_id: str) -> Path:
    """``<log_folder>/<algo>/<env>_<n>`` with ``n`` one more than the largest existing run (rl-zoo3 numbering)."""
    base = Path(log_folder) / algo
    name = env_name(env_id)
    taken = [int(p.name.rsplit("_", 1)[1]) for p in base.glob(f"{name}_*") if p.name.rsplit("_", 1)[1].isdigit()]
    return base / f"{name}_{max(taken, default=0) + 1}"
