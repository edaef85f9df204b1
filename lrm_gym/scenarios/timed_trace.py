"""Read a time-stamped trace CSV: its time column and named numeric columns (docs/model.md section 3.1).

The format of the shipped data (``lrm_gym/scenarios/data/*.csv``): ``#`` comment lines, a header row, then one
row per time step. The first column is the time, its header starting with ``time`` (``time_utc``,
``time_local_standard``), each value ``YYYY-MM-DD HH:MM`` (dated) or ``MM-DD HH:MM`` (a typical year: no
year, read as the non-leap year 2001, so dates cannot be selected). The other columns are numbers. Times are
kept in the trace's own clock (its header says which: UTC for the grid traces): nothing is converted.

Bounded like supply traces (:func:`lrm_gym.scenarios.loader.load_trace`): at most ``MAX_TRACE_BYTES`` bytes
and ``MAX_TRACE_ROWS`` rows; errors name the file and the line, never the file's content. The shipped files
are parsed once per process.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from lrm_gym.scenarios.loader import MAX_TRACE_BYTES, MAX_TRACE_ROWS, _read_bounded, quote_path, trace_names

_PACKAGE = "lrm_gym.scenarios"
SECONDS_PER_DAY = 86_400
_TYPICAL_YEAR = "2001"  # a non-leap year for traces without a year (typical-year data)


@dataclass(frozen=True)
class TimedTrace:
    """A trace's time column (seconds since 1970-01-01 in the trace's own clock) and numeric columns."""

    label: str  # for error messages: the key path and the trace's name
    time_column: str
    times_s: np.ndarray  # (T,) int64
    dated: bool  # False for a typical year (MM-DD HH:MM): dates cannot be selected
    columns: dict[str, np.ndarray]  # header name -> (T,) float64, in file order

    @property
    def rows(self) -> int:
        return int(self.times_s.size)

    def step_s(self) -> int:
        """The time between rows (seconds), if it is the same between every pair of rows; else a ValueError."""
        if self.rows < 2:
            raise ValueError(f"{self.label} needs at least two rows to define its time step")
        steps = np.diff(self.times_s)
        bad = np.flatnonzero(steps != steps[0])
        if steps[0] <= 0 or bad.size:
            row = int(bad[0]) + 1 if bad.size else 1
            raise ValueError(
                f"{self.label}: rows must be evenly spaced in time; row {row + 1} is {int(steps[row - 1])} s after "
                f"the row before it, the first step is {int(steps[0])} s"
            )
        return int(steps[0])

    def describe_time(self, seconds: float) -> str:
        """``seconds`` as the trace writes its times."""
        stamp = str(np.datetime64(round(seconds), "s").astype("datetime64[m]")).replace("T", " ")
        return stamp if self.dated else stamp[5:]


def load_timed_trace(trace: str, key: str) -> TimedTrace:
    """The trace ``trace`` (a shipped name or a ``.csv`` path); ``key`` is the scenario key that names it."""
    if trace in trace_names():
        return _shipped(trace, key)
    path = Path(trace)
    label = f"{key}: {quote_path(trace)}"
    if path.suffix.lower() != ".csv" or not path.is_file():
        raise ValueError(f"{label} is neither a shipped trace {trace_names()} nor an existing .csv file")
    return _parse(_decode(_read_bounded(path, MAX_TRACE_BYTES, label), label), label)


@functools.lru_cache(maxsize=32)
def _shipped(name: str, key: str) -> TimedTrace:
    label = f"{key}: shipped trace {name!r}"
    data = (resources.files(_PACKAGE) / "data" / f"{name}.csv").read_bytes()
    return _parse(_decode(data, label), label)


def _decode(data: bytes, label: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{label} is not UTF-8 text (byte {err.start})") from None


def _parse(text: str, label: str) -> TimedTrace:
    header: list[str] | None = None
    stamps: list[str] = []
    values: list[list[float]] = []
    dated: bool | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        fields = [field.strip() for field in content.split(",")]
        if header is None:
            header = fields
            if len(header) < 2 or not header[0].startswith("time"):
                raise ValueError(
                    f"{label} line {number}: the header must start with a time column ('time_utc', ...) and name "
                    "at least one value column"
                )
            continue
        if len(fields) != len(header):
            raise ValueError(f"{label} line {number} has {len(fields)} fields, the header has {len(header)}")
        stamp = fields[0]
        row_dated = len(stamp) == len("YYYY-MM-DD HH:MM")
        if dated is None:
            dated = row_dated
        if row_dated != dated or len(stamp) not in (len("YYYY-MM-DD HH:MM"), len("MM-DD HH:MM")):
            raise ValueError(f"{label} line {number}: the time must be 'YYYY-MM-DD HH:MM' or 'MM-DD HH:MM' throughout")
        stamps.append(stamp if dated else f"{_TYPICAL_YEAR}-{stamp}")
        try:
            row = [float(field) for field in fields[1:]]
        except ValueError:
            raise ValueError(f"{label} line {number}: a value is not a number") from None
        if not all(math.isfinite(v) for v in row):
            raise ValueError(f"{label} line {number}: values must be finite")
        values.append(row)
        if len(values) > MAX_TRACE_ROWS:
            raise ValueError(f"{label} has more than the limit of {MAX_TRACE_ROWS} rows (two years of 1-min rows)")
    if header is None or not values:
        raise ValueError(f"{label} has no data rows after its header")
    try:
        times = np.array([s.replace(" ", "T") for s in stamps], dtype="datetime64[m]")
    except ValueError:
        raise ValueError(f"{label}: a time is not a valid 'YYYY-MM-DD HH:MM' or 'MM-DD HH:MM'") from None
    table = np.array(values, dtype=np.float64)
    columns = {name: np.ascontiguousarray(table[:, i]) for i, name in enumerate(header[1:])}
    times_s = times.astype("datetime64[s]").astype(np.int64)
    return TimedTrace(label, header[0], times_s, bool(dated), columns)
