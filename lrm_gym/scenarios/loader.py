"""Load named or file scenarios, merge overrides, validate, and report errors by key path.

Scenario files are parsed by :class:`ScenarioYamlLoader`, PyYAML's safe loader without anchors and aliases
(a few nested aliases expand to billions of nodes) and with an error for a key given twice (YAML would keep
the last silently). Error messages are one line and quote at most :data:`EXCERPT_CHARS` characters of any
input; supply traces are checked row by row and never quoted.
"""

from __future__ import annotations

import copy
import math
import reprlib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
import yaml

from lrm_gym.scenarios.schema import ScenarioConfig, limit_note, lower_limit_note

_PACKAGE = "lrm_gym.scenarios"

MAX_SCENARIO_BYTES = 1 << 20
"""Largest scenario file read (1 MiB; the shipped ones are about 3 KB)."""
MAX_TRACE_BYTES = 64 << 20
"""Largest supply trace file read (64 MiB)."""
MAX_TRACE_ROWS = 1_051_200
"""Most rows a supply trace may have: two years of 1-min rows."""
MAX_TRACE_VALUE = 1e12
"""Largest trace value (the trace is relative: it is scaled to the supply's mean)."""
EXCERPT_CHARS = 80
"""Most characters of an input value an error message quotes."""
MAX_PATH_CHARS = 4_096
"""Longest file path an error message quotes whole."""
MAX_ERRORS_SHOWN = 5
"""Most problems one error message lists (the rest are counted)."""

_EXCERPT = reprlib.Repr()
_EXCERPT.maxlevel, _EXCERPT.maxdict, _EXCERPT.maxlist, _EXCERPT.maxtuple = 2, 4, 4, 4
_EXCERPT.maxstring, _EXCERPT.maxother, _EXCERPT.maxlong = EXCERPT_CHARS - 10, EXCERPT_CHARS - 10, 40


def quote_path(path: str | Path) -> str:
    """A file path for an error message: whole, quoted, unless it is absurdly long."""
    text = str(path)
    return repr(text) if len(text) <= MAX_PATH_CHARS else excerpt(text)


def excerpt(value: Any) -> str:
    """A repr of ``value`` of at most :data:`EXCERPT_CHARS` characters, built without a full repr (which, for a
    huge or deeply nested input, would take unbounded time and memory)."""
    text = " ".join(_EXCERPT.repr(value).split())  # one line: a numpy array's repr spans several
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 3] + "..."


class ScenarioYamlLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader without anchors or aliases, and with an error for a duplicate key."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            what = "aliases (*name)" if isinstance(event, yaml.AliasEvent) else "anchors (&name)"
            raise yaml.composer.ComposerError(
                None, None, f"{what} are not supported in scenario files; write the values out", event.start_mark
            )
        return super().compose_node(parent, index)  # type: ignore[no-any-return]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                earlier = first_line.get(key)
            except TypeError:  # an unhashable key: the base class reports it
                break
            if earlier is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {excerpt(key)} is given twice (first on line {earlier + 1})",
                    key_node.start_mark,
                )
            first_line[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def parse_scenario_yaml(text: str, label: str) -> Any:
    """Parse one scenario document with :class:`ScenarioYamlLoader`; errors name the line, not the text."""
    try:
        return yaml.load(text, Loader=ScenarioYamlLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = err.problem or err.context or "cannot be parsed"
        raise ValueError(f"{label} is not valid YAML:{where}: {problem}") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{label} is not valid YAML: {type(err).__name__}") from None
    except RecursionError:
        raise ValueError(f"{label} is not valid YAML: nested too deeply") from None


def scenario_names() -> list[str]:
    """Names of the scenarios shipped in the package (file stems of ``lrm_gym/scenarios/*.yaml``)."""
    files = resources.files(_PACKAGE).iterdir()
    return sorted(f.name[: -len(".yaml")] for f in files if f.name.endswith(".yaml"))


def read_scenario_dict(scenario: str | Path) -> tuple[dict[str, Any], str]:
    """Return the raw mapping of a named scenario or YAML file, and a label for error messages."""
    if not isinstance(scenario, str | Path):
        raise TypeError(
            f"scenario must be a shipped scenario name {scenario_names()}, a path to a .yaml/.yml file or a "
            f"ScenarioConfig, got {excerpt(scenario)} of type {type(scenario).__name__}"
        )
    if isinstance(scenario, str) and scenario in scenario_names():
        text = resources.files(_PACKAGE).joinpath(f"{scenario}.yaml").read_text(encoding="utf-8")
        label = f"scenario {scenario!r}"
    else:
        path = Path(scenario)
        if path.suffix not in {".yaml", ".yml"} or not path.is_file():
            raise ValueError(
                f"scenario {quote_path(scenario)} is neither a named scenario {scenario_names()} "
                "nor an existing .yaml/.yml file"
            )
        label = f"scenario file {quote_path(path)}"
        data = _read_bounded(path, MAX_SCENARIO_BYTES, label)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"{label} is not UTF-8 text (byte {err.start})") from None
    raw = parse_scenario_yaml(text, label)
    if not isinstance(raw, dict):
        raise ValueError(f"{label} must be a YAML mapping at top level, got {type(raw).__name__}")
    return raw, label


def _read_bounded(path: Path, limit: int, label: str) -> bytes:
    """The bytes of ``path`` if it has at most ``limit`` of them (read no further), else a ValueError."""
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as err:
        raise ValueError(f"{label} cannot be read: {err.strerror}") from None
    if len(data) > limit:
        raise ValueError(f"{label} is larger than the limit of {limit} bytes")
    return data


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
        ValueError: one line naming the key path and the bad value (or the bound it exceeds) of every invalid
            entry.
        TypeError: if ``scenario`` is none of the accepted types.
    """
    if isinstance(scenario, ScenarioConfig):
        raw, label = scenario.model_dump(), "scenario"
    else:
        raw, label = read_scenario_dict(scenario)
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise ValueError(
                f"overrides must be a mapping, got {excerpt(overrides)} of type {type(overrides).__name__}"
            )
        raw = merge_overrides(raw, overrides)
    try:
        config = ScenarioConfig.model_validate(raw)
    except pydantic.ValidationError as err:
        raise ValueError(f"invalid {label}: {format_validation_error(err)}") from None
    if config.supply.kind == "trace":
        assert config.supply.trace is not None
        load_trace(config.supply.trace)  # fail at load time, naming the key, not at the first reset
    return config


def format_validation_error(err: pydantic.ValidationError) -> str:
    """Every problem as ``key.path: message``, joined on one line, each quoting at most a short excerpt.

    A bound that is exceeded is stated with its meaning (``horizon_slots: 100000000 exceeds the limit 35040
    (one year of 15-min slots)``). For a field that accepts several types (a number or a list, say), a
    type mismatch is left out when another member of the union reports a real problem.
    """
    problems = [(_key_path(p["loc"]), p) for p in err.errors(include_url=False)]
    real = {path for path, p in problems if not _is_type_mismatch(p)}
    shown = [(path, p) for path, p in problems if not (_is_type_mismatch(p) and _under_any(path, real))]
    parts = [_describe_problem(path, p) for path, p in shown[:MAX_ERRORS_SHOWN]]
    if len(shown) > MAX_ERRORS_SHOWN:
        parts.append(f"and {len(shown) - MAX_ERRORS_SHOWN} more")
    return "; ".join(parts)


def _key_path(loc: tuple[int | str, ...]) -> str:
    """The dotted key path of an error location, without the union member tags pydantic inserts."""
    return ".".join(str(part) for part in loc if not (isinstance(part, str) and _is_union_tag(part))) or "<top level>"


def _is_union_tag(part: str) -> bool:
    return part in {"float", "int", "str", "bool"} or part.startswith(("list[", "tuple[", "constrained-"))


def _is_type_mismatch(problem: Any) -> bool:
    return str(problem["type"]).endswith(("_type", "_parsing")) or problem["type"] == "int_from_float"


def _under_any(path: str, others: set[str]) -> bool:
    """Whether some path in ``others`` is ``path`` or lies below it."""
    return any(other == path or other.startswith(path + ".") for other in others)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _describe_problem(path: str, problem: Any) -> str:
    key = ".".join(part for part in path.split(".") if not part.isdigit())
    kind, ctx, value = problem["type"], problem.get("ctx") or {}, problem.get("input")
    if kind in ("less_than_equal", "less_than") and not isinstance(value, bool):
        note = limit_note(key)
        bound = _number(ctx.get("le", ctx.get("lt")))
        return f"{path}: {excerpt(value)} exceeds the limit {bound}" + (f" ({note})" if note else "")
    if kind in ("greater_than_equal", "greater_than") and lower_limit_note(key) is not None:
        bound = _number(ctx.get("ge", ctx.get("gt")))
        return f"{path}: {excerpt(value)} is below the minimum {bound} ({lower_limit_note(key)})"
    if kind in ("too_long", "string_too_long"):
        note = limit_note(key)
        what = "characters" if isinstance(value, str) else "entries"
        length = len(value) if isinstance(value, str | list | tuple | dict) else ctx.get("actual_length")
        message = f"{path}: {length} {what} exceed the limit {ctx.get('max_length')}"
        return message + (f" ({note})" if note and note != what else "")
    if kind == "value_error":  # our validators' messages are whole sentences: drop pydantic's prefix
        message = problem["msg"].removeprefix("Value error, ")
        return message if path == "<top level>" else f"{path}: {message}"
    return f"{path}: {problem['msg']} (got {excerpt(value)})"


def trace_names() -> list[str]:
    """Names of the supply traces shipped in the package (``lrm_gym/scenarios/data/*.csv``)."""
    files = resources.files(_PACKAGE).joinpath("data").iterdir()
    return sorted(f.name[: -len(".csv")] for f in files if f.name.endswith(".csv"))


def load_trace(trace: str) -> np.ndarray:
    """Read a supply trace: a shipped name (``lrm_gym/scenarios/data/<name>.csv``) or a ``.csv`` path.

    The CSV has ``#`` comment lines, then a header row; every data row has the header's number of fields and
    the relative supply (e.g. capacity factor) in its last one: finite, in ``[0, MAX_TRACE_VALUE]``, with a
    positive mean; at most :data:`MAX_TRACE_ROWS` rows and :data:`MAX_TRACE_BYTES` bytes. Errors name the file
    and the line, never the file's content. Returns a float64 array.
    """
    if trace in trace_names():
        data = (resources.files(_PACKAGE) / "data" / f"{trace}.csv").read_bytes()
        label = f"supply.trace: shipped trace {trace!r}"
    else:
        path = Path(trace)
        label = f"supply.trace: {quote_path(trace)}"
        if path.suffix.lower() != ".csv" or not path.is_file():
            raise ValueError(f"{label} is neither a shipped trace {trace_names()} nor an existing .csv file")
        data = _read_bounded(path, MAX_TRACE_BYTES, label)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{label} is not UTF-8 text (byte {err.start})") from None
    return _parse_trace(text, label)


def _parse_trace(text: str, label: str) -> np.ndarray:
    header_fields: int | None = None
    values: list[float] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()  # a '#' starts a comment, as in numpy.loadtxt
        if not content:
            continue
        fields = content.split(",")
        if header_fields is None:
            header_fields = len(fields)
            continue
        if len(fields) != header_fields:
            raise ValueError(f"{label} line {number} has {len(fields)} fields, the header has {header_fields}")
        try:
            value = float(fields[-1])
        except ValueError:
            raise ValueError(f"{label} line {number}: the last field is not a number") from None
        if not (math.isfinite(value) and 0.0 <= value <= MAX_TRACE_VALUE):
            raise ValueError(f"{label} line {number}: the value must be finite and in [0, {MAX_TRACE_VALUE:g}]")
        values.append(value)
        if len(values) > MAX_TRACE_ROWS:
            raise ValueError(f"{label} has more than the limit of {MAX_TRACE_ROWS} rows (two years of 1-min rows)")
    if not values:
        raise ValueError(f"{label} has no data rows after its header")
    array = np.array(values, dtype=np.float64)
    if not array.mean() > 0:
        raise ValueError(f"{label} must have a positive mean")
    return array
