"""Measured series on the slot grid: the auxiliary energy's price and carbon intensity per slot, and where an
episode's window may start in a trace (docs/model.md section 3.1). Plain numpy, computed once per scenario.

**Resampling.** A grid trace's rows are evenly spaced, each value held for one row step ``Delta``. It is
resampled once onto slots of ``slot_seconds`` starting at the trace's first row: slot ``j`` covers
``[t0 + j S, t0 + (j + 1) S)`` and takes the **time-weighted mean** of the rows over that interval (the plain
mean of its rows when ``S`` is a multiple of ``Delta``; the row's value when a slot lies inside one row). Only
whole slots inside the trace are kept. A forecast column is **sampled**, not averaged: slot ``j`` takes the
forecast issued by the row in which the slot starts, the latest forecast known at the slot's start.

**Units.** Carbon columns must be named ``..._g_per_kwh`` (g CO2 per kWh, used as is). Price columns
``..._per_kwh`` are used as is and ``..._per_mwh`` are divided by 1000 (per MWh to per kWh); any other name is
refused rather than guessed. Forecast columns are named ``forecast_<lead>`` with the lead in ``min`` or ``h``
(``forecast_5min``, ``forecast_1h``) and have the unit of the value column.

**Windows.** :func:`window_starts` lists the candidate starts (row or slot indices) of an episode's window
from a :class:`~lrm_gym.scenarios.schema.TraceStartConfig`; the env draws one uniformly at reset.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass

import numpy as np

from lrm_gym.scenarios.schema import LIMITS, ScenarioConfig, TraceStartConfig
from lrm_gym.scenarios.timed_trace import SECONDS_PER_DAY, TimedTrace, load_timed_trace

__all__ = ["GridSeries", "build_grid_series", "resample_mean", "sample_at_slot_starts", "window_starts"]

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_TOLERANCE_S = 1e-6  # times are compared to a microsecond (slot lengths are floats)
_FORECAST = re.compile(r"^forecast_(\d+(?:\.\d+)?)(min|h)$")


@dataclass(frozen=True)
class GridSeries:
    """One grid quantity per slot of a trace's slot grid, with the window starts an episode may take.

    ``values`` is per kWh (g CO2 or money); ``forecasts[j]`` the forecast columns sampled at slot ``j``'s start
    (``(S, 0)`` without any); ``starts`` the candidate first slots of an episode (``horizon_slots`` long).
    """

    trace: TimedTrace
    values: np.ndarray  # (S,)
    forecasts: np.ndarray  # (S, F)
    forecast_names: tuple[str, ...]  # column names, e.g. ("forecast_5min", "forecast_1h", "forecast_3h")
    forecast_leads_s: tuple[float, ...]
    value_column: str
    per_kwh_factor: float  # what the value column was multiplied by (1, or 1/1000 for a per-MWh price)
    slot_seconds: float
    starts: np.ndarray  # (K,) int64 slot indices

    def slot_time_s(self, slot: int) -> float:
        """The start of slot ``slot`` of the series in the trace's clock (seconds since 1970-01-01)."""
        return float(self.trace.times_s[0]) + slot * self.slot_seconds


def resample_mean(values: np.ndarray, row_seconds: float, slot_seconds: float) -> np.ndarray:
    """Time-weighted mean of a row-held series over each whole slot of ``slot_seconds`` from its start."""
    rows_per_slot = slot_seconds / row_seconds
    n_slots = math.floor(values.size / rows_per_slot + 1e-9)
    if n_slots < 1:
        return np.zeros(0)
    if abs(rows_per_slot - round(rows_per_slot)) < 1e-9 and round(rows_per_slot) >= 1:
        k = round(rows_per_slot)  # whole rows per slot: the plain mean of each slot's rows
        return values[: n_slots * k].reshape(n_slots, k).mean(axis=1)
    # each slot [a, b) (in row units) sums the rows it overlaps, weighted by the overlap: local sums, so a
    # slot inside one row takes that row's value to the last bit
    lower = np.arange(n_slots) * rows_per_slot
    upper = lower + rows_per_slot
    first = np.floor(lower + 1e-9).astype(np.int64)
    total = np.zeros(n_slots)
    for m in range(math.ceil(rows_per_slot) + 1):
        k = first + m
        overlap = np.clip(np.minimum(upper, k + 1) - np.maximum(lower, k), 0.0, None)
        total += np.where(overlap > 1e-12, values[np.minimum(k, values.size - 1)] * overlap, 0.0)
    return total / rows_per_slot


def sample_at_slot_starts(values: np.ndarray, row_seconds: float, slot_seconds: float, n_slots: int) -> np.ndarray:
    """The value of the row in which each of ``n_slots`` slots starts."""
    rows = np.floor(np.arange(n_slots) * (slot_seconds / row_seconds) + 1e-9).astype(np.int64)
    return values[np.minimum(rows, values.size - 1)]


def window_starts(
    start: TraceStartConfig | None,
    unit_times_s: np.ndarray,
    window_units: int,
    dated: bool,
    label: str,
    describe: TimedTrace,
    breaks: np.ndarray | None = None,
) -> np.ndarray:
    """Candidate first units (rows or slots) of an episode window of ``window_units`` units.

    ``unit_times_s`` are the units' start times in the trace's clock; ``breaks[i]`` is True where unit ``i + 1``
    does not follow unit ``i`` in time (a window may not span one); ``start`` None means every unit whose window
    fits. Raises ``ValueError`` naming ``label`` when the configuration asks for a start outside the trace or
    whose window does not fit.
    """
    n = unit_times_s.size
    gaps = np.zeros(n, np.int64) if breaks is None else np.concatenate([[0], np.cumsum(breaks)])
    last_first = n - window_units  # the last unit a window can start at
    fits = np.zeros(n, bool)
    if last_first >= 0:
        first = np.arange(last_first + 1)
        fits[first] = gaps[first + window_units - 1] == gaps[first]
    coverage = (
        f"the trace covers {describe.describe_time(unit_times_s[0])} to {describe.describe_time(unit_times_s[-1])}"
    )
    align = "any" if start is None else start.align
    dates = None if start is None else start.dates
    if dates is not None and not dated:
        raise ValueError(f"{label}.dates: the trace's times have no year (a typical year); dates cannot be selected")
    day = np.floor_divide(unit_times_s, SECONDS_PER_DAY).astype(np.int64)
    if align == "day":
        assert start is not None
        offset = start.hour * 3600.0
        on_hour = np.abs((unit_times_s - offset) - day * SECONDS_PER_DAY) < _TOLERANCE_S
        if dates is not None:
            _check_dates_at_hour(start, dates, unit_times_s, on_hour, fits, day, label, describe, coverage)
    else:
        on_hour = np.ones(n, bool)
    allowed = on_hour
    if dates is not None:
        first_day, last_day = (d.toordinal() - _EPOCH_ORDINAL for d in dates)
        in_range = (day >= first_day) & (day <= last_day)
        if align == "any":
            if not in_range.any() or day[0] > first_day or day[-1] < last_day:
                raise ValueError(f"{label}.dates [{dates[0]}, {dates[1]}] are not inside the trace: {coverage}")
            bad = np.flatnonzero(in_range & ~fits)
            if bad.size:
                raise ValueError(
                    f"{label}.dates: the episode starting {describe.describe_time(unit_times_s[bad[0]])} "
                    f"({window_units} units) does not fit inside the trace ({coverage}); end the dates earlier"
                )
        allowed = allowed & in_range
    candidates = np.flatnonzero(allowed & fits)
    if candidates.size == 0:
        where = f" at {start.hour:g} h" if align == "day" and start is not None else ""
        raise ValueError(f"{label}: no episode of {window_units} units fits inside the trace{where} ({coverage})")
    return candidates.astype(np.int64)


def _check_dates_at_hour(
    start: TraceStartConfig,
    dates: tuple[datetime.date, datetime.date],
    unit_times_s: np.ndarray,
    on_hour: np.ndarray,
    fits: np.ndarray,
    day: np.ndarray,
    label: str,
    describe: TimedTrace,
    coverage: str,
) -> None:
    """Every date of ``dates`` must have a unit starting at the hour whose window fits."""
    first_day, last_day = (d.toordinal() - _EPOCH_ORDINAL for d in dates)
    for d in range(first_day, last_day + 1):
        date = datetime.date.fromordinal(d + _EPOCH_ORDINAL)
        at = np.flatnonzero(on_hour & (day == d))
        wanted = f"{date} {int(start.hour):02d}:{round(start.hour % 1 * 60):02d}"
        if at.size == 0:
            inside = unit_times_s[0] <= d * SECONDS_PER_DAY + start.hour * 3600 <= unit_times_s[-1]
            why = "is not on the trace's slot grid" if inside else f"is outside the trace ({coverage})"
            raise ValueError(f"{label}: an episode starting {wanted} {why}")
        if not fits[at[0]]:
            last_fit = np.flatnonzero(on_hour & fits)
            hint = (
                f"; the last start that fits is {describe.describe_time(unit_times_s[last_fit[-1]])}"
                if last_fit.size
                else ""
            )
            raise ValueError(f"{label}: the episode starting {wanted} does not fit inside the trace ({coverage}){hint}")


def build_grid_series(config: ScenarioConfig) -> tuple[GridSeries | None, GridSeries | None]:
    """The scenario's carbon and price series on its slot grid (None where it has a flat or hourly value)."""
    aux = config.auxiliary
    carbon = price = None
    if aux.carbon_trace is not None:
        carbon = _grid_series(config, aux.carbon_trace.trace, aux.carbon_trace.start, "auxiliary.carbon_trace", True)
    if aux.price_trace is not None:
        price = _grid_series(config, aux.price_trace.trace, aux.price_trace.start, "auxiliary.price_trace", False)
    return carbon, price


def _grid_series(config: ScenarioConfig, name: str, start: TraceStartConfig, key: str, carbon: bool) -> GridSeries:
    trace = load_timed_trace(name, f"{key}.trace")
    row_seconds = float(trace.step_s())
    value_column, *rest = trace.columns
    factor = _per_kwh_factor(value_column, carbon, trace.label)
    values = trace.columns[value_column] * factor
    limit_key = "auxiliary.carbon_g_per_kwh" if carbon else "auxiliary.price_per_kwh"
    low = 0.0 if carbon else -LIMITS[limit_key][0]
    names, leads = [], []
    for column in rest:
        match = _FORECAST.match(column)
        if not carbon or match is None:
            what = "forecast columns 'forecast_<lead>' (lead in min or h)" if carbon else "no other column"
            raise ValueError(f"{trace.label}: column {column!r}: after the value column a {key} trace has {what}")
        names.append(column)
        leads.append(float(match.group(1)) * (60.0 if match.group(2) == "min" else 3600.0))
    for column in (value_column, *names):
        scaled = trace.columns[column] * factor
        if scaled.min() < low or scaled.max() > LIMITS[limit_key][0]:
            bound = f"[{low:g}, {LIMITS[limit_key][0]:g}]"
            raise ValueError(f"{trace.label}: column {column!r} must lie in {bound} per kWh ({LIMITS[limit_key][1]})")
    slot_values = resample_mean(values, row_seconds, config.slot_seconds)
    n_slots = slot_values.size
    forecasts = (
        np.stack(
            [
                sample_at_slot_starts(trace.columns[c] * factor, row_seconds, config.slot_seconds, n_slots)
                for c in names
            ],
            axis=1,
        )
        if names
        else np.zeros((n_slots, 0))
    )
    slot_times = trace.times_s[0] + np.arange(n_slots) * config.slot_seconds
    starts = window_starts(start, slot_times, config.horizon_slots, trace.dated, f"{key}.start", trace)
    return GridSeries(
        trace=trace,
        values=slot_values,
        forecasts=forecasts,
        forecast_names=tuple(names),
        forecast_leads_s=tuple(leads),
        value_column=value_column,
        per_kwh_factor=factor,
        slot_seconds=config.slot_seconds,
        starts=starts,
    )


def _per_kwh_factor(column: str, carbon: bool, label: str) -> float:
    if carbon:
        if column.endswith("_g_per_kwh"):
            return 1.0
        raise ValueError(f"{label}: the carbon column {column!r} must be in g CO2 per kWh, named '..._g_per_kwh'")
    if column.endswith("_per_kwh"):
        return 1.0
    if column.endswith("_per_mwh"):
        return 1e-3
    raise ValueError(f"{label}: the price column {column!r} must be named '..._per_kwh' or '..._per_mwh'")


def supply_trace_starts(config: ScenarioConfig, trace_rows: int) -> np.ndarray:
    """Candidate start rows of a supply trace replay under ``supply.trace_start`` (empty without it: the replay
    then starts at a uniformly random row and wraps around, docs/model.md section 2)."""
    supply = config.supply
    if supply.trace_start is None:
        return np.zeros(0, np.int64)
    assert supply.trace is not None
    trace = load_timed_trace(supply.trace, "supply.trace")
    if trace.rows != trace_rows:
        raise ValueError(f"{trace.label}: the time column has {trace.rows} rows, the values {trace_rows}")
    step = np.diff(trace.times_s)
    if not trace.dated:  # a typical year wraps from December 31 to January 1
        step = np.mod(step, 365 * SECONDS_PER_DAY)
    breaks = np.abs(step - supply.trace_seconds_per_row) > _TOLERANCE_S
    if breaks.all():
        raise ValueError(
            f"{trace.label}: no two rows are supply.trace_seconds_per_row = {supply.trace_seconds_per_row:g} s apart "
            "in the trace's time column"
        )
    length = config.horizon_slots + supply.forecast.horizon
    # the replay holds row floor(i S / Delta) in slot i (docs/model.md section 2): the rows the window reads
    window = math.floor((length - 1) * config.slot_seconds / supply.trace_seconds_per_row + 1e-9) + 1
    return window_starts(supply.trace_start, trace.times_s, window, trace.dated, "supply.trace_start", trace, breaks)
