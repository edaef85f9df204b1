"""rl-zoo3's conventions, shared by every training backend (SB3 and RLlib): run folders, hyperparameter files,
and the seed of the validation env."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

EVAL_SEED_OFFSET = 10_000
"""The validation env during training is seeded ``seed + EVAL_SEED_OFFSET`` (benchmark test seeds are far from
both training and validation seeds)."""


def env_name(env_id: str) -> str:
    """The env id as a folder name, as rl-zoo3 writes it: ``/`` becomes ``-``."""
    return env_id.replace("/", "-")


def next_run_dir(log_folder: str | Path, algo: str, env_id: str) -> Path:
    """``<log_folder>/<algo>/<env>_<n>`` with ``n`` one more than the largest existing run (rl-zoo3 numbering)."""
    base = Path(log_folder) / algo
    name = env_name(env_id)
    taken = [int(p.name.rsplit("_", 1)[1]) for p in base.glob(f"{name}_*") if p.name.rsplit("_", 1)[1].isdigit()]
    return base / f"{name}_{max(taken, default=0) + 1}"


def check_run_settings(seed: Any, log_folder: str | Path, run_dir: str | Path | None) -> None:
    """The seed and folders of a run, for both backends (``ValueError`` naming the flag)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"--seed must be an integer >= 0, got {seed!r}")
    for flag, folder in (("-f/--log-folder", log_folder), ("run folder", run_dir)):
        if folder is not None and Path(folder).exists() and not Path(folder).is_dir():
            raise ValueError(f"{flag} {folder} is a file, not a folder")


def read_hyperparams_entry(path: Path, env_id: str) -> tuple[dict[str, Any], str]:
    """The entry for ``env_id`` (else ``default``) of an rl-zoo3 hyperparameter YAML, and where it came from.

    Raises:
        ValueError: the file cannot be read or parsed, is not a mapping, or has neither entry.
    """
    try:
        table = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"cannot read hyperparameter file {path}: {err}") from err
    if not isinstance(table, dict):
        raise ValueError(f"hyperparameter file {path} must map env ids (or 'default') to settings")
    key = env_id if env_id in table else "default"
    if key not in table:
        raise ValueError(f"{path} has no entry for {env_id!r} and no 'default' entry")
    return dict(table[key] or {}), f"{path}[{key}]"
