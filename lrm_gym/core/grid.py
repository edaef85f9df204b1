"""The auxiliary energy's price and carbon intensity per slot of an episode, compiled (docs/model.md section 3.1).

Without a measured series a slot's price and carbon come from the scenario's hourly table
(``KernelTables.slot_tab``, the same for every episode). With ``auxiliary.price_trace`` or
``auxiliary.carbon_trace`` they come from the series resampled onto the slot grid
(:mod:`lrm_gym.core.series`), read from the episode's window: slot ``t`` of the episode is slot
``start + t`` of the series, ``start`` drawn at reset uniformly among the series' candidate starts from the
env's own random stream, after the supply path (:func:`draw_windows`). A scenario without a series draws
nothing here, so its random stream is unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lrm_gym.core import rng
from lrm_gym.core.compiled import inlined
from lrm_gym.core.params import Params
from lrm_gym.core.state import IntField, State
from lrm_gym.core.tables import KernelTables, SlotColumn

__all__ = [
    "auxiliary_weight_per_kwh",
    "draw_windows",
    "episode_auxiliary_weights",
    "episode_grid",
    "grid_features",
    "slot_carbon",
    "slot_price",
]


@inlined
def draw_windows(t: KernelTables, s: Any, r: int) -> None:
    """At reset: the first slot of row ``r``'s episode in each measured series (carbon, then price)."""
    if t.carbon_starts.size > 0:
        s.ints[r, IntField.CARBON_START] = t.carbon_starts[rng.integers(s.rng[r], t.carbon_starts.size)]
    if t.price_starts.size > 0:
        s.ints[r, IntField.PRICE_START] = t.price_starts[rng.integers(s.rng[r], t.price_starts.size)]


@inlined
def slot_price(t: KernelTables, s: Any, r: int, slot: int) -> float:
    """Price per kWh of auxiliary energy in slot ``slot`` of row ``r``'s episode."""
    if t.price_slots.size > 0:
        return t.price_slots[s.ints[r, IntField.PRICE_START] + slot]
    return t.slot_tab[slot, SlotColumn.PRICE_PER_KWH]


@inlined
def slot_carbon(t: KernelTables, s: Any, r: int, slot: int) -> float:
    """Carbon intensity (g CO2 per kWh) of auxiliary energy in slot ``slot`` of row ``r``'s episode."""
    if t.carbon_slots.shape[0] > 0:
        return t.carbon_slots[s.ints[r, IntField.CARBON_START] + slot, 0]
    return t.slot_tab[slot, SlotColumn.CARBON_G_PER_KWH]


@inlined
def grid_features(t: KernelTables) -> int:
    """Values in the observation's ``grid`` key: carbon now and its forecasts, or 0 without a carbon series."""
    return t.carbon_slots.shape[1] if t.carbon_slots.shape[0] > 0 else 0


def episode_grid(params: Params, state: State, row: int = 0) -> dict[str, np.ndarray]:
    """The price (per kWh) and carbon intensity (g CO2/kWh) of every slot of row ``row``'s current episode,
    and the start of its window in each measured series's clock (``*_start``, ``numpy.datetime64``; absent
    without a series): what the env charges, for analysis and tests."""
    horizon = params.horizon_slots
    hour_slots = params.kernel.slot_tab
    out: dict[str, Any] = {
        "price_per_kwh": hour_slots[:, SlotColumn.PRICE_PER_KWH].copy(),
        "carbon_g_per_kwh": hour_slots[:, SlotColumn.CARBON_G_PER_KWH].copy(),
    }
    for key, series, column in (
        ("price", params.price_series, IntField.PRICE_START),
        ("carbon", params.carbon_series, IntField.CARBON_START),
    ):
        if series is None:
            continue
        start = int(state.ints[row, column])
        name = "price_per_kwh" if key == "price" else "carbon_g_per_kwh"
        out[name] = series.values[start : start + horizon].copy()
        out[f"{key}_start"] = np.datetime64(round(series.slot_time_s(start)), "s")
    return out


def auxiliary_weight_per_kwh(params: Params, price_per_kwh: float, carbon_g_per_kwh: float) -> float:
    """The reward charged per kWh of auxiliary energy at a slot's price and carbon intensity (docs/model.md
    section 11): ``auxiliary_per_kwh + carbon_per_kg * carbon / 1000 + price_weight * price``; exactly
    ``auxiliary_per_kwh`` when both weights are 0."""
    if params.reward_carbon_per_kg == 0.0 and params.reward_price_weight == 0.0:
        return params.reward_auxiliary_per_kwh
    return (
        params.reward_auxiliary_per_kwh
        + params.reward_carbon_per_kg * carbon_g_per_kwh * 1e-3
        + params.reward_price_weight * price_per_kwh
    )


def episode_auxiliary_weights(params: Params, state: State, row: int = 0) -> np.ndarray:
    """:func:`auxiliary_weight_per_kwh` for every slot of row ``row``'s current episode."""
    grid = episode_grid(params, state, row)
    return np.array(
        [
            auxiliary_weight_per_kwh(params, float(price), float(carbon))
            for price, carbon in zip(grid["price_per_kwh"], grid["carbon_g_per_kwh"], strict=True)
        ]
    )
