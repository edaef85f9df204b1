"""Shared helpers for the test suite."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lrm_gym

ALL_IDS = lrm_gym.registration.family_ids(lrm_gym.registration.ROUTING_FAMILY)
"""The per-task ids (``lrm_gym/EnergyRouting-*``)."""
DISPATCH_IDS = lrm_gym.registration.family_ids(lrm_gym.registration.DISPATCH_FAMILY)
"""The slot-level ids (``lrm_gym/EnergyDispatch-*``)."""


def random_valid_action(info: dict[str, Any], rng: np.random.Generator) -> int:
    return int(rng.choice(np.flatnonzero(info["action_mask"])))


def small_overrides(**extra: Any) -> dict[str, Any]:
    """A short, fast variant of the default scenario for behaviour tests."""
    base: dict[str, Any] = {"horizon_slots": 12, "arrivals": {"rate_per_slot": 6.0}}
    return lrm_gym.merge_overrides(base, extra) if extra else base


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
