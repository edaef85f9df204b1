"""Rendering of the energy routing env: a text dashboard and an energy-balance panel (numpy only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from lrm_gym.core.observation import observation_layout
from lrm_gym.core.params import Params
from lrm_gym.core.units import JOULES_PER_KWH, SECONDS_PER_HOUR

PANEL_HEIGHT, PANEL_WIDTH = 240, 480
HISTORY_SLOTS = 96
_BACKGROUND = (250, 250, 250)
_BASELINE = (120, 200, 120)
_DEMAND = (60, 90, 200)
_AUXILIARY = (220, 60, 60)
_WASTE = (170, 170, 170)
_STORAGE = (230, 170, 30)


class SlotRecord(NamedTuple):
    baseline_j: float
    demand_j: float
    auxiliary_j: float
    waste_j: float
    storage_j: float


def energy_panel(history: Sequence[SlotRecord], params: Params) -> np.ndarray:
    """RGB image ``(240, 480, 3)`` of the last slots: baseline (green), demand (blue), auxiliary energy
    above baseline (red), waste (grey), storage level (orange line)."""
    image = np.empty((PANEL_HEIGHT, PANEL_WIDTH, 3), np.uint8)
    image[:] = _BACKGROUND
    records = list(history)[-HISTORY_SLOTS:]
    if not records:
        return image
    data = np.array(records)
    scale = max(float(data[:, :2].max()), params.slot_energy_unit_j) * 1.1
    store_scale = max(params.storage.capacity_j, 1e-12)
    width = PANEL_WIDTH // HISTORY_SLOTS

    def rows_for(value: float) -> int:
        return round(min(float(value) / scale, 1.0) * (PANEL_HEIGHT - 1))

    for k, (baseline, demand, aux, waste, storage) in enumerate(data):
        x0, x1 = k * width, (k + 1) * width
        top_baseline, top_demand = rows_for(baseline), rows_for(demand)
        image[PANEL_HEIGHT - top_baseline :, x0:x1] = _BASELINE
        inner = slice(x0 + 1, max(x1 - 1, x0 + 1))
        image[PANEL_HEIGHT - top_demand :, inner] = _DEMAND
        if aux > 0:
            image[PANEL_HEIGHT - top_demand : PANEL_HEIGHT - top_baseline, x0:x1] = _AUXILIARY
        if waste > 0:
            image[PANEL_HEIGHT - top_baseline : PANEL_HEIGHT - top_demand, inner] = _WASTE
        if params.storage.capacity_j > 0:
            y = PANEL_HEIGHT - 1 - round(float(storage) / store_scale * (PANEL_HEIGHT - 1))
            image[max(y - 1, 0) : y + 1, x0:x1] = _STORAGE
    return image


def text_dashboard(params: Params, info: dict, observation: dict[str, np.ndarray]) -> str:
    """A multi-line text view of the slot, the energy balance and the current decision."""
    kj = 1e-3
    layout = observation_layout(params)
    task, options, energy, queue = (observation[key] for key in ("task", "options", "energy", "queue"))
    hour = (params.start_hour + info["slot"] * params.slot_seconds / SECONDS_PER_HOUR) % 24.0
    totals = info["totals"]
    lines = [
        f"slot {info['slot']}/{params.horizon_slots}  time {int(hour):02d}:{int(hour % 1 * 60):02d}  "
        f"queue {int(queue[layout.queue.queued])}  left this slot {int(queue[layout.queue.left])}",
        f"baseline {energy[layout.energy.baseline] * params.slot_energy_unit_j * kj:9.1f} kJ   "
        f"committed {energy[layout.energy.committed] * params.slot_energy_unit_j * kj:9.1f} kJ   "
        f"storage {info['storage_j'] * kj:9.1f} kJ",
        f"episode: dispatched {totals['tasks_dispatched']}  correct {totals['tasks_correct']}  "
        f"dropped {totals['tasks_dropped']}  auxiliary {totals['auxiliary_j'] / JOULES_PER_KWH:.4f} kWh  "
        f"waste {totals['waste_j'] / JOULES_PER_KWH:.4f} kWh",
    ]
    cls = int(np.argmax(task[layout.task.one_hot_class]))
    lines.append(
        f"task: class {params.class_names[cls]}  difficulty~{task[layout.task.difficulty]:.1f}  "
        f"slack {int(task[layout.task.slack])}"
    )
    expected_energy, accuracy = options[layout.options.energy], options[layout.options.accuracy]
    feasible = options[layout.options.feasible]
    lines.append(f"  {'action':>6} {'option':<24} {'E[kJ]':>8} {'acc':>6} feasible")
    lines.append(f"  {0:>6} {'defer':<24} {'':>8} {'':>6} {bool(info['action_mask'][0])}")
    for k in range(params.n_options):
        energy_kj = expected_energy[k] * params.task_energy_unit_j * kj
        lines.append(
            f"  {k + 1:>6} {params.option_names[k]:<24} {energy_kj:8.3f} {accuracy[k]:6.3f} {bool(feasible[k])}"
        )
    return "\n".join(lines)
