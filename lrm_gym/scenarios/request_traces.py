"""Request traces: measured arrival times and prompt lengths of inference requests (docs/model.md sections 5, 6).

A request trace is a CSV with ``#`` comment lines, a header row naming its columns, and one row per request,
in arrival order. ``arrivals.kind: trace`` reads its ``arrival_s`` column (seconds from the trace's start,
finite, non-negative, non-decreasing) and a task class with ``prompt_tokens: {trace: ...}`` reads its
``context_tokens`` column (integers in ``[0, 1e7]``, the ``prompt_tokens`` limit). The shipped ones are the
Azure LLM inference traces 2023, ``azure-llm-2023-conv-requests`` and ``azure-llm-2023-code-requests``
(``lrm_gym/scenarios/data/README.md``); a trace is named as a supply trace is, by the stem of a shipped CSV
or by a ``.csv`` path. Errors name the scenario key, the file and the line, never the file's content.

:func:`arrival_counts` bins arrival times into slots: the counts a ``trace`` arrival process thins
(:mod:`lrm_gym.core.arrivals`).
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from lrm_gym.scenarios.loader import MAX_TRACE_BYTES, MAX_TRACE_ROWS, _read_bounded, quote_path, trace_names
from lrm_gym.scenarios.schema import LIMITS

ARRIVAL_COLUMN = "arrival_s"
PROMPT_COLUMN = "context_tokens"
MAX_ARRIVAL_SLOTS = MAX_TRACE_ROWS
"""Most whole slots a request trace may be binned into (two years of 1-min slots)."""
_MAX_PROMPT_TOKENS = LIMITS["prompt_tokens"][0]


def load_request_column(trace: str, column: str, key: str) -> np.ndarray:
    """The values of ``column`` (:data:`ARRIVAL_COLUMN` or :data:`PROMPT_COLUMN`) of a request trace, float64,
    read-only, checked as the module docstring states. ``key`` is the scenario key that names the trace (for
    errors). Shipped traces are parsed once per process."""
    if trace in trace_names():
        return _shipped_column(trace, column, key)
    path = Path(trace)
    label = f"{key}: {quote_path(trace)}"
    if path.suffix.lower() != ".csv" or not path.is_file():
        raise ValueError(f"{label} is neither a shipped trace {trace_names()} nor an existing .csv file")
    return _parse_column(_decode(_read_bounded(path, MAX_TRACE_BYTES, label), label), column, label)


@lru_cache(maxsize=16)
def _shipped_column(name: str, column: str, key: str) -> np.ndarray:
    label = f"{key}: shipped trace {name!r}"
    data = (resources.files("lrm_gym.scenarios") / "data" / f"{name}.csv").read_bytes()
    return _parse_column(_decode(data, label), column, label)


def _decode(data: bytes, label: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{label} is not UTF-8 text (byte {err.start})") from None


def _parse_column(text: str, column: str, label: str) -> np.ndarray:
    index: int | None = None
    n_fields = 0
    values: list[float] = []
    previous = 0.0
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        fields = content.split(",")
        if index is None:
            names = [f.strip() for f in fields]
            if column not in names:
                raise ValueError(f"{label} has no {column!r} column in its header (line {number})")
            index, n_fields = names.index(column), len(fields)
            continue
        if len(fields) != n_fields:
            raise ValueError(f"{label} line {number} has {len(fields)} fields, the header has {n_fields}")
        try:
            value = float(fields[index])
        except ValueError:
            raise ValueError(f"{label} line {number}: {column!r} is not a number") from None
        if column == ARRIVAL_COLUMN:
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{label} line {number}: {column!r} must be finite and >= 0")
            if value < previous:
                raise ValueError(f"{label} line {number}: {column!r} decreases (rows must be in arrival order)")
            previous = value
        elif not (value == int(value) if math.isfinite(value) else False) or not 0 <= value <= _MAX_PROMPT_TOKENS:
            raise ValueError(f"{label} line {number}: {column!r} must be an integer in [0, {_MAX_PROMPT_TOKENS:g}]")
        values.append(value)
        if len(values) > MAX_TRACE_ROWS:
            raise ValueError(f"{label} has more than the limit of {MAX_TRACE_ROWS} rows")
    if not values:
        raise ValueError(f"{label} has no data rows after its header")
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


def arrival_counts(arrival_s: np.ndarray, slot_seconds: float, key: str = "arrivals.trace") -> np.ndarray:
    """Requests arriving in each whole slot ``[k L, (k + 1) L)`` of the trace (``L = slot_seconds``), for
    ``k = 0 .. floor(last arrival / L) - 1``: the partial slot after the last whole one would undercount.

    Raises:
        ValueError: when the trace is shorter than one slot, or has more than :data:`MAX_ARRIVAL_SLOTS` slots.
    """
    span = float(arrival_s[-1])
    n_slots = math.floor(span / slot_seconds)
    if n_slots < 1:
        raise ValueError(f"{key}: the trace spans {span:g} s, less than one slot of slot_seconds = {slot_seconds:g} s")
    if n_slots > MAX_ARRIVAL_SLOTS:
        raise ValueError(
            f"{key}: the trace spans {n_slots} slots of {slot_seconds:g} s, more than the limit {MAX_ARRIVAL_SLOTS}"
        )
    slot = np.floor(arrival_s / slot_seconds).astype(np.int64)
    return np.bincount(slot[slot < n_slots], minlength=n_slots).astype(np.float64)
