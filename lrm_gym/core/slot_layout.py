"""The slot-level observation (docs/model.md section 18): where each part lies in its float32 row, its names and
its bounds.

:func:`slot_positions` is the one definition of the offsets: the compiled writer
(:func:`lrm_gym.core.slot_dynamics.observe_slot_row`) calls it, and :func:`slot_observation_slices` and
:func:`slot_observation_space` derive the names and bounds every reader uses from it.

Layout (``C`` task classes, ``H`` forecast slots), slot energies in units of the critical slot energy ``b*``
(as in the per-task observation):

| name | size | content |
|---|---|---|
| `energy/baseline` | 1 | baseline supply of the slot to decide |
| `energy/storage` | 1 | storage level |
| `energy/forecast` | H | forecast of the next slots' baseline |
| `energy/price` | 1 | auxiliary price per kWh this slot |
| `energy/sin_hour`, `energy/cos_hour` | 1 each | time of day |
| `energy/progress` | 1 | slots elapsed / horizon (the episode's clock: its end is part of the state) |
| `queue/to_decide` | C | tasks to decide this slot, per class |
| `queue/carried` | C | of which deferred from an earlier slot (age > 0), per class |
| `queue/difficulty` | C | mean difficulty estimate of the tasks to decide, per class (0 when none) |
| `queue/demand_cheapest` | 1 | expected slot demand (idle included) if every task to decide ran its cheapest option |
| `queue/demand_reference` | 1 | the same under the scenario's reference policy (docs/model.md section 9) |
| `queue/demand_richest` | 1 | the same on each task's most accurate option |
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from gymnasium import spaces

from lrm_gym.core.compiled import inlined
from lrm_gym.core.observation import _box
from lrm_gym.core.params import Params


class SlotPositions(NamedTuple):
    """Where each part of the slot observation starts in its float32 row."""

    baseline: int
    storage: int
    forecast: int
    price: int
    sin_hour: int
    cos_hour: int
    progress: int
    to_decide: int
    carried: int
    difficulty: int
    demand_cheapest: int
    demand_reference: int
    demand_richest: int
    size: int  # end of the row


@inlined
def slot_positions(n_classes: int, horizon: int) -> SlotPositions:
    """The offsets of every part for ``n_classes`` classes and a forecast of ``horizon`` slots (compiled: the
    writer calls it per row)."""
    forecast = 2
    price = forecast + horizon
    to_decide = price + 4
    carried = to_decide + n_classes
    difficulty = carried + n_classes
    demand = difficulty + n_classes
    return SlotPositions(
        0, 1, forecast, price, price + 1, price + 2, price + 3, to_decide, carried, difficulty, demand, demand + 1,
        demand + 2, demand + 3,
    )  # fmt: skip


_PARTS = (
    ("energy/baseline", "baseline", "storage"),
    ("energy/storage", "storage", "forecast"),
    ("energy/forecast", "forecast", "price"),
    ("energy/price", "price", "sin_hour"),
    ("energy/sin_hour", "sin_hour", "cos_hour"),
    ("energy/cos_hour", "cos_hour", "progress"),
    ("energy/progress", "progress", "to_decide"),
    ("queue/to_decide", "to_decide", "carried"),
    ("queue/carried", "carried", "difficulty"),
    ("queue/difficulty", "difficulty", "demand_cheapest"),
    ("queue/demand_cheapest", "demand_cheapest", "demand_reference"),
    ("queue/demand_reference", "demand_reference", "demand_richest"),
    ("queue/demand_richest", "demand_richest", "size"),
)


def slot_observation_slices(params: Params) -> dict[str, slice]:
    """Named slices of the slot observation (``"energy/forecast"``, ``"queue/to_decide"``, ...), plus the two
    whole blocks ``"energy"`` and ``"queue"``."""
    at = slot_positions(params.n_classes, params.supply.forecast_horizon)
    slices = {name: slice(getattr(at, start), getattr(at, stop)) for name, start, stop in _PARTS}
    slices["energy"] = slice(0, at.to_decide)
    slices["queue"] = slice(at.to_decide, at.size)
    return slices


def slot_observation_space(params: Params) -> spaces.Box:
    """One float32 ``Box`` with finite bounds derived from the scenario (a feature constant in the scenario gets
    a unit range, as in the per-task observation)."""
    at = slot_positions(params.n_classes, params.supply.forecast_horizon)
    unit = params.slot_energy_unit_j
    low, high = np.zeros(at.size), np.empty(at.size)
    supply_high = params.supply.max_j / unit
    high[at.baseline] = supply_high
    high[at.storage] = params.storage.capacity_j / unit
    high[at.forecast : at.price] = supply_high
    high[at.price] = params.price_per_kwh.max()
    low[[at.sin_hour, at.cos_hour]] = -1.0
    high[[at.sin_hour, at.cos_hour]] = 1.0
    high[at.progress] = 1.0
    high[at.to_decide : at.difficulty] = params.queue_capacity
    high[at.difficulty : at.demand_cheapest] = params.max_difficulty
    high[at.demand_cheapest : at.size] = (params.idle_j + params.queue_capacity * params.energy_mean_j.max()) / unit
    return _box(low, high)
