"""Property tests over random scenarios and random valid actions (hypothesis).

At every step: the slot energy identity and the storage identity hold to float rounding, storage stays in
``[0, capacity]``, the chosen (valid) action is accepted while masked ones are refused, and the task counts
add up: arrived = dispatched + dropped + still queued.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrm_gym  # noqa: F401

REL_TOL = 1e-9  # float rounding relative to the energies involved


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["constant", "gaussian", "ar1", "solar"]))
    capacity_wh = draw(st.sampled_from([0.0, 0.5, 5.0]))
    limit = st.one_of(st.none(), st.floats(1.0, 2000.0))
    return {
        "horizon_slots": draw(st.integers(1, 8)),
        "slot_seconds": draw(st.sampled_from([60.0, 900.0])),
        "start_hour": draw(st.floats(0.0, 23.9)),
        "supply": {
            "kind": kind,
            "provisioning": draw(st.floats(0.0, 2.0)),
            "std_w": draw(st.floats(0.0, 300.0)) if kind in ("gaussian", "ar1") else 0.0,
            "phi": draw(st.floats(0.0, 0.95)),
            "forecast": {"horizon": draw(st.integers(0, 3)), "noise": draw(st.floats(0.0, 0.5))},
        },
        "storage": {
            "capacity_wh": capacity_wh,
            "initial_fraction": draw(st.floats(0.0, 1.0)),
            "charge_efficiency": draw(st.floats(0.5, 1.0)),
            "discharge_efficiency": draw(st.floats(0.5, 1.0)),
            "max_charge_w": draw(limit),
            "max_discharge_w": draw(limit),
        },
        "arrivals": draw(
            st.sampled_from(
                [
                    {"kind": "constant", "rate_per_slot": 3.5},
                    {"kind": "poisson", "rate_per_slot": 4.0},
                    {"kind": "negbin", "rate_per_slot": 4.0, "dispersion": 0.7},
                ]
            )
        ),
        "queue": {"capacity": draw(st.integers(1, 12))},
        "models": [
            {
                "name": "small",
                "params": 1.5e9,
                "tokens_per_step": 350,
                "idle_w": 5.0,
                # small capacities make capacity masks and automatic defers/drops frequent
                "capacity_tokens_per_slot": draw(st.sampled_from([3000, 8000, None])),
            },
            {"name": "large", "params": 3.2e10, "tokens_per_step": 350, "capacity_tokens_per_slot": 9000},
        ],
        "observation": {
            "difficulty_noise": draw(st.sampled_from([0.0, 1.5])),
            "difficulty_visible": draw(st.booleans()),
        },
        "reward": {"quality": draw(st.sampled_from(["sampled", "expected"]))},
    }


def _check_step(info: dict[str, Any], storage_before: float, params: Any) -> None:
    scale = max(info["baseline_j"], info["demand_j"], 1.0)
    supply_side = info["baseline_j"] + info["discharge_j"] + info["auxiliary_j"]
    demand_side = info["demand_j"] + info["charge_j"] + info["waste_j"]
    assert abs(supply_side - demand_side) <= REL_TOL * scale
    s = params.storage
    expected = storage_before + s.charge_efficiency * info["charge_j"] - info["discharge_j"] / s.discharge_efficiency
    assert abs(info["storage_j"] - expected) <= REL_TOL * max(scale, s.capacity_j)
    assert 0.0 <= info["storage_j"] <= s.capacity_j
    for key in ("auxiliary_j", "waste_j", "charge_j", "discharge_j"):
        assert info[key] >= 0.0
    totals = info["totals"]
    assert totals["tasks_arrived"] == totals["tasks_dispatched"] + totals["tasks_dropped"] + totals["tasks_queued"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=scenarios(), seed=st.integers(0, 2**16), action_seed=st.integers(0, 2**16))
def test_invariants_hold_at_every_step(overrides: dict[str, Any], seed: int, action_seed: int) -> None:
    env = gym.make("lrm_gym/EnergyRouting-v2", overrides=overrides, strict=True)  # masked actions raise
    params = env.unwrapped.params
    rng = np.random.default_rng(action_seed)
    obs, info = env.reset(seed=seed)
    truncated = False
    while not truncated:
        assert env.observation_space.contains(obs)
        mask = info["action_mask"].astype(bool)
        assert np.array_equal(mask, env.unwrapped.action_masks())
        masked = np.flatnonzero(~mask)
        if masked.size and rng.random() < 0.2:
            with pytest.raises(ValueError, match="masked"):
                env.step(int(rng.choice(masked)))
        storage_before = info["storage_j"]
        obs, reward, _, truncated, info = env.step(int(rng.choice(np.flatnonzero(mask))))
        assert np.isfinite(reward)
        components = sum(info[k] for k in info if k.startswith("reward_"))
        assert reward == pytest.approx(components, abs=1e-9)
        _check_step(info, storage_before, params)
    totals = info["totals"]
    assert totals["slots_closed"] == params.horizon_slots
