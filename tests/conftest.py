"""Shared helpers for the test suite."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import lrm_gym

ALL_IDS = sorted(spec_id for spec_id in gym.registry if spec_id.startswith(f"{lrm_gym.registration.NAMESPACE}/"))


def random_valid_action(info: dict[str, Any], rng: np.random.Generator) -> int:
    return int(rng.choice(np.flatnonzero(info["action_mask"])))


def small_overrides(**extra: Any) -> dict[str, Any]:
    """A short, fast variant of the default scenario for behaviour tests."""
    base: dict[str, Any] = {"horizon_slots": 12, "arrivals": {"rate_per_slot": 6.0}}
    return lrm_gym.merge_overrides(base, extra) if extra else base


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
