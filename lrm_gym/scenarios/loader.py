"""Load named or file scenarios, merge overrides, validate, and report errors by key path."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
import yaml

from lrm_gym.scenarios.schema import ScenarioConfig

_PACKAGE = "lrm_gym.scenarios"


def scenario_names() -> list[str]:
    """Names of the scenarios shipped in the package (file stems of ``lrm_gym/scenarios/*.yaml``)."""
    files = resources.files(_PACKAGE).iterdir()
    return sorted(f.name[: -len(".yaml")] for f in files if f.name.endswith(".yaml"))


def read_scenario_dict(scenario: str | Path) -> tuple[dict[str, Any], str]:
    """Return the raw mapping of a named scenario or YAML file, and a label for error messages."""
    if isinstance(scenario, str) and scenario in scenario_names():
        text = resources.files(_PACKAGE).joinpath(f"{scenario}.yaml").read_text(encoding="utf-8")
        label = f"scenario {scenario!r}"
    else:
        path = Path(scenario)
        if path.suffix not in {".yaml", ".yml"} or not path.is_file():
            raise ValueError(
                f"scenario {str(scenario)!r} is neither a named scenario {scenario_names()} "
                "nor an existing .yaml/.yml file"
            )
        text = path.read_text(encoding="utf-8")
        label = f"scenario file {str(path)!r}"
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(f"{label} is not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ValueError(f"{label} must be a YAML mapping at top level, got {type(raw).__name__}")
    return raw, label


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into ``base``: mappings merge key by key, anything else replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_overrides(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_scenario(
    scenario: str | Path | ScenarioConfig = "critical", overrides: Mapping[str, Any] | None = None
) -> ScenarioConfig:
    """Load and validate a scenario.

    Args:
        scenario: a shipped scenario name (see :func:`scenario_names`), a path to a YAML file, or an
            already validated :class:`ScenarioConfig`.
        overrides: a nested dict merged into the scenario before validation, e.g.
            ``{"supply": {"provisioning": 1.2}}``. Lists (models, budgets, task classes) are replaced whole.

    Raises:
        ValueError: naming the key path and the bad value for every invalid entry.
    """
    if isinstance(scenario, ScenarioConfig):
        raw, label = scenario.model_dump(), "scenario"
    else:
        raw, label = read_scenario_dict(scenario)
    if overrides:
        if not isinstance(overrides, Mapping):
            raise ValueError(f"overrides must be a mapping, got {type(overrides).__name__}")
        raw = merge_overrides(raw, overrides)
    try:
        config = ScenarioConfig.model_validate(raw)
    except pydantic.ValidationError as err:
        raise ValueError(f"invalid {label}:\n{format_validation_error(err)}") from None
    if config.supply.kind == "trace":
        assert config.supply.trace is not None
        load_trace(config.supply.trace)  # fail at load time, naming the key, not at the first reset
    return config


def format_validation_error(err: pydantic.ValidationError) -> str:
    """One line per problem: ``key.path: message (got value)``."""
    lines = []
    for problem in err.errors():
        path = ".".join(str(part) for part in problem["loc"]) or "<top level>"
        lines.append(f"  {path}: {problem['msg']} (got {problem.get('input')!r})")
    return "\n".join(lines)


def load_trace(trace: str) -> np.ndarray:
    """Read a supply trace: a shipped name (``lrm_gym/scenarios/data/<name>.csv``) or a CSV path.

    The CSV has ``#`` comment lines, then a header row; the relative supply (e.g. capacity factor) is in
    its last column, finite and non-negative with a positive mean. Returns a float64 array.
    """
    shipped = resources.files(_PACKAGE).joinpath("data", f"{trace}.csv")
    source: Any = shipped if shipped.is_file() else Path(trace)
    if not source.is_file():
        raise ValueError(f"supply.trace: no shipped trace named {trace!r} and no such CSV file")
    lines = [
        line for line in source.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")
    ]
    try:
        values = np.loadtxt(lines[1:], delimiter=",", usecols=-1, ndmin=1)  # lines[0] is the header
    except (ValueError, IndexError) as err:
        raise ValueError(f"supply.trace: cannot parse {trace!r} as CSV with a header row: {err}") from err
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0) or values.mean() <= 0:
        raise ValueError(f"supply.trace: {trace!r} must hold finite, non-negative values with a positive mean")
    return values
