"""The slot energy balance with optional storage.

Baseline serves demand first; surplus charges storage within the power limit and the room left (counted
at the charge efficiency), the rest is waste. A deficit is met by discharge within the power limit and the
energy stored (delivered at the discharge efficiency), the rest is auxiliary energy. Every slot:

    baseline + discharge + auxiliary == demand + charge + waste
    S' == S + charge_efficiency * charge - discharge / discharge_efficiency
"""

from __future__ import annotations

from lrm_gym.core.compiled import compiled


@compiled
def balance_slot(
    baseline_j: float,
    demand_j: float,
    storage_j: float,
    capacity_j: float,
    charge_efficiency: float,
    discharge_efficiency: float,
    max_charge_j: float,
    max_discharge_j: float,
) -> tuple[float, float, float, float, float]:
    """Close one slot of one env: ``(charge, discharge, auxiliary, waste, storage level after)``."""
    surplus = max(baseline_j - demand_j, 0.0)
    deficit = max(demand_j - baseline_j, 0.0)
    room = (capacity_j - storage_j) / charge_efficiency
    charge = min(min(surplus, max_charge_j), max(room, 0.0))
    available = storage_j * discharge_efficiency
    discharge = min(min(deficit, max_discharge_j), max(available, 0.0))
    level = storage_j + charge_efficiency * charge - discharge / discharge_efficiency
    # Only float rounding can push the level past its bounds; the limits above keep it inside exactly.
    level = min(max(level, 0.0), capacity_j)
    return charge, discharge, deficit - discharge, surplus - charge, level
