"""The slot energy balance with optional storage (DESIGN section 2).

Baseline serves demand first; surplus charges storage within the power limit and the room left (counted
at the charge efficiency), the rest is waste. A deficit is met by discharge within the power limit and the
energy stored (delivered at the discharge efficiency), the rest is auxiliary energy. Every slot:

    baseline + discharge + auxiliary == demand + charge + waste
    S' == S + charge_efficiency * charge - discharge / discharge_efficiency
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lrm_gym.core.params import StorageParams


class Balance(NamedTuple):
    charge_j: np.ndarray
    discharge_j: np.ndarray
    auxiliary_j: np.ndarray
    waste_j: np.ndarray
    storage_j: np.ndarray  # level after the slot


def balance_slot(
    baseline_j: np.ndarray, demand_j: np.ndarray, storage_j: np.ndarray, storage: StorageParams
) -> Balance:
    """Close one slot for arrays of envs (any matching shapes)."""
    surplus = np.maximum(baseline_j - demand_j, 0.0)
    deficit = np.maximum(demand_j - baseline_j, 0.0)
    room = (storage.capacity_j - storage_j) / storage.charge_efficiency
    charge = np.minimum(np.minimum(surplus, storage.max_charge_j), np.maximum(room, 0.0))
    available = storage_j * storage.discharge_efficiency
    discharge = np.minimum(np.minimum(deficit, storage.max_discharge_j), np.maximum(available, 0.0))
    level = storage_j + storage.charge_efficiency * charge - discharge / storage.discharge_efficiency
    # Only float rounding can push the level past its bounds; the limits above keep it inside exactly.
    level = np.clip(level, 0.0, storage.capacity_j)
    return Balance(charge, discharge, deficit - discharge, surplus - charge, level)
