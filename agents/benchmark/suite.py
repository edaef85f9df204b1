"""Benchmark suites: the YAML files under ``configs/suites/`` parsed and validated into a :class:`Suite`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from agents.paths import SUITE_DIR


@dataclass(frozen=True)
class ScenarioEntry:
    name: str
    env_id: str
    overrides: dict[str, Any]


@dataclass(frozen=True)
class AnalyticEntry:
    label: str
    policy: str
    params: dict[str, Any]


@dataclass(frozen=True)
class LearnedEntry:
    label: str
    algo: str
    n_timesteps: int
    seeds: tuple[int, ...]
    eval_freq: int
    eval_episodes: int
    hyperparams: dict[str, Any]
    conf_file: str | None
    backend: str = "sb3"  # training library: "sb3" or "rllib" (agents/training/rllib.py)
    model: Literal["last", "best"] = "last"  # sb3: evaluate the final model or the callback's best_model.zip


LEARNED_BACKENDS = ("sb3", "rllib")


@dataclass(frozen=True)
class Suite:
    """A parsed suite file."""

    name: str
    description: str
    eval_seeds: tuple[int, ...]
    scenarios: tuple[ScenarioEntry, ...]
    analytic: tuple[AnalyticEntry, ...]
    learned: tuple[LearnedEntry, ...]
    source: str


def suite_path(suite: str | Path) -> Path:
    """``quick`` / ``full`` -> ``configs/suites/<name>.yaml``; anything else is a path."""
    candidate = SUITE_DIR / f"{suite}.yaml"
    return candidate if candidate.is_file() and "/" not in str(suite) else Path(suite)


def load_suite(suite: str | Path) -> Suite:
    """Read and validate a suite; every problem is a ``ValueError`` naming the file and the entry."""
    from lrm_gym.registration import SCENARIO_IDS, env_id

    path = suite_path(suite)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"cannot read suite file {path} (suites: {available_suites()}): {err}") from err
    where = str(path)
    if not isinstance(data, dict):
        raise ValueError(f"suite {where} must be a mapping with scenarios, analytic, learned and eval")
    unknown = sorted(set(data) - {"name", "description", "eval", "scenarios", "analytic", "learned"})
    if unknown:
        raise ValueError(f"suite {where}: unknown top-level keys {unknown}")

    eval_cfg = _mapping(data.get("eval", {}), f"{where}: eval")
    seeds = eval_cfg.get("seeds", {"start": 1_000_000, "count": 10})
    if isinstance(seeds, dict):
        eval_seeds = tuple(range(int(seeds["start"]), int(seeds["start"]) + int(seeds["count"])))
    else:
        eval_seeds = tuple(int(s) for s in seeds)
    if not eval_seeds:
        raise ValueError(f"suite {where}: eval.seeds is empty")

    scenarios = []
    for item in _list(data.get("scenarios"), f"{where}: scenarios"):
        item = {"name": item} if isinstance(item, str) else _mapping(item, f"{where}: scenarios entry")
        name = str(item.get("name"))
        if name not in SCENARIO_IDS:
            raise ValueError(f"suite {where}: unknown scenario {name!r}; known: {sorted(SCENARIO_IDS)}")
        scenarios.append(ScenarioEntry(name, env_id(name), dict(item.get("overrides") or {})))
    if not scenarios:
        raise ValueError(f"suite {where}: no scenarios")

    analytic = []
    for item in _list(data.get("analytic", []), f"{where}: analytic"):
        item = {"policy": item} if isinstance(item, str) else _mapping(item, f"{where}: analytic entry")
        policy = str(item.get("policy"))
        params = dict(item.get("params") or {})
        analytic.append(AnalyticEntry(str(item.get("label", policy)), policy, params))

    learned = []
    for item in _list(data.get("learned", []), f"{where}: learned"):
        item = _mapping(item, f"{where}: learned entry")
        algo = str(item.get("algo"))
        model = item.get("model", "last")
        if model not in ("last", "best"):
            raise ValueError(f"suite {where}: learned entry {algo}: model must be 'last' or 'best', got {model!r}")
        try:
            learned.append(
                LearnedEntry(
                    label=str(item.get("label", algo)),
                    algo=algo,
                    n_timesteps=int(item["n_timesteps"]),
                    seeds=tuple(int(s) for s in item.get("seeds", [0])),
                    eval_freq=int(item.get("eval_freq", 10_000)),
                    eval_episodes=int(item.get("eval_episodes", 3)),
                    hyperparams=dict(item.get("hyperparams") or {}),
                    conf_file=item.get("conf_file"),
                    backend=str(item.get("backend", "sb3")),
                    model=model,
                )
            )
            if learned[-1].backend not in LEARNED_BACKENDS:
                raise ValueError(f"backend must be one of {list(LEARNED_BACKENDS)}")
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"suite {where}: learned entry {item}: {err!r}") from err
    labels = [e.label for e in analytic] + [e.label for e in learned]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ValueError(f"suite {where}: duplicate policy labels {duplicates}; give entries a distinct 'label'")
    if not labels:
        raise ValueError(f"suite {where}: no analytic or learned policies")
    return Suite(
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", "")).strip(),
        eval_seeds=eval_seeds,
        scenarios=tuple(scenarios),
        analytic=tuple(analytic),
        learned=tuple(learned),
        source=where,
    )


def available_suites() -> list[str]:
    return sorted(p.stem for p in SUITE_DIR.glob("*.yaml"))


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a mapping, got {value!r}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list, got {value!r}")
    return value
