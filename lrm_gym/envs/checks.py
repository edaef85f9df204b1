"""Argument checks shared by the single and the vector env: seeds, batch sizes, and a backstop on the
quantities derived from a scenario.

Seeds: both envs accept ``None`` or an integer in ``[0, 2**64 - 1]`` (Python or numpy, not ``bool``); the
vector env gives sub-env ``i`` the seed ``s + i``, which must stay in that range too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from lrm_gym.core.observation import observation_space
from lrm_gym.core.params import Params
from lrm_gym.core.state import State
from lrm_gym.scenarios.loader import excerpt

MAX_SEED = 2**64 - 1
"""Largest seed (the random streams are seeded from 64 bits)."""
MAX_NUM_ENVS = 1 << 20
"""Most sub-envs of one vector env."""
MAX_BATCH_BYTES = 8 << 30
"""Most memory (8 GiB) the state and observation buffers of one vector env may take."""

# What each observation key is derived from, for the backstop's message.
_SOURCES = {
    "task": "tasks.classes (difficulty, prompt_tokens, slack_slots)",
    "options": "models (params, joules_per_token, tokens_per_step), budgets.max_steps, tasks.classes.prompt_tokens",
    "energy": (
        "supply (mean_w, std_w, provisioning), storage.capacity_wh, models (idle_w, capacity_tokens_per_slot), "
        "auxiliary.price_per_kwh, relative to arrivals.rate_per_slot times the task energy"
    ),
    "queue": "queue.capacity",
    "grid": "auxiliary.carbon_trace",
}


def check_seed(seed: Any, name: str = "seed") -> int:
    """``seed`` as an int if it is an integer in ``[0, MAX_SEED]``, else a ValueError naming ``name``."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"{name} must be None or an integer in [0, 2**64 - 1], got {excerpt(seed)}")
    return int(seed)


def check_row_seeds(seed: Any, num_envs: int) -> np.ndarray | None:
    """A vector env's ``reset(seed=...)`` as one uint64 seed per sub-env: ``None``; an integer ``s`` (sub-env ``i``
    gets ``s + i``, so ``s`` must leave room for ``num_envs``); or a list of ``num_envs`` seeds."""
    if seed is None:
        return None
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        first = check_seed(seed)
        if first > MAX_SEED - (num_envs - 1):
            raise ValueError(
                f"seed: sub-env i gets seed + i, so with {num_envs} sub-envs the seed must be at most "
                f"2**64 - {num_envs}, got {first}"
            )
        return np.uint64(first) + np.arange(num_envs, dtype=np.uint64)
    listed = isinstance(seed, list | tuple) or (isinstance(seed, np.ndarray) and seed.ndim == 1)
    if not listed or len(seed) != num_envs:
        raise ValueError(
            f"seed must be None or an integer in [0, 2**64 - 1] (or a list of {num_envs} of them), got {excerpt(seed)}"
        )
    return np.array([check_seed(s, f"seed[{i}]") for i, s in enumerate(seed)], dtype=np.uint64)


def check_num_envs(params: Params, num_envs: int) -> None:
    """Refuse a vector env whose buffers would exceed :data:`MAX_BATCH_BYTES`, before allocating them."""
    if num_envs > MAX_NUM_ENVS:
        raise ValueError(f"num_envs: {num_envs} exceeds the limit {MAX_NUM_ENVS} (2**20 sub-envs)")
    one = State.allocate(params, 1)
    observation_bytes = 4 * sum(math.prod(box.shape or ()) for box in observation_space(params).spaces.values())
    per_env = sum(array.nbytes for array in one.arrays()) + observation_bytes
    if num_envs * per_env > MAX_BATCH_BYTES:
        raise ValueError(
            f"num_envs: {num_envs} sub-envs of this scenario need {num_envs * per_env / 2**30:.1f} GiB of state "
            f"({per_env} bytes each), over the limit {MAX_BATCH_BYTES / 2**30:g} GiB; lower num_envs, "
            "horizon_slots or queue.capacity"
        )


def check_derived(params: Params, space: spaces.Space[Any]) -> None:
    """Backstop for the schema's bounds: the option tables and energy units are finite and positive, and
    every observation bound is finite in float32; else a ValueError naming the scenario keys involved."""
    tables = (params.accuracy, params.energy_mean_j, params.energy_std_j)
    units = (params.critical_slot_energy_j, params.slot_energy_unit_j, params.task_energy_unit_j)
    if not all(np.all(np.isfinite(t)) for t in tables) or not all(np.isfinite(u) and u > 0 for u in units):
        raise ValueError(f"scenario: the option tables or energy units are not finite; check {_SOURCES['options']}")
    assert isinstance(space, spaces.Dict)
    for key, box in space.spaces.items():
        assert isinstance(box, spaces.Box)
        if not (np.all(np.isfinite(box.low)) and np.all(np.isfinite(box.high))):
            raise ValueError(
                f"scenario: the observation's {key!r} values overflow float32; check {_SOURCES.get(key, key)}"
            )
