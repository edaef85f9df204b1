"""A scenario's :class:`~lrm_gym.core.params.Params` laid out for the compiled kernels of :mod:`.dynamics`.

Crossing from Python into compiled code costs about 50 ns per array argument, so the parameters travel as
few arrays: every scalar in one float64 vector indexed by the ``S_*`` constants below, and per-class,
per-model, per-option and per-hour quantities as one table each. Everything here is derived from
``Params`` (``params.kernel``), never configured separately, so the theory and both envs read the same
numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from lrm_gym.core.params import ARRIVAL_KINDS, SUPPLY_KINDS

if TYPE_CHECKING:
    from lrm_gym.core.params import Params

# Columns of KernelTables.scalars (module-level ints: the kernels read them as compile-time constants).
S_HORIZON = 0
S_IDLE_J = 1
S_REWARD_AUX = 2
S_REWARD_WASTE = 3
S_REWARD_WAIT = 4
S_REWARD_DROP = 5
S_EXPECTED_QUALITY = 6
S_ARRIVAL_KIND = 7
S_ARRIVAL_DISPERSION = 8
S_DIFFICULTY_VISIBLE = 9
S_DIFFICULTY_NOISE = 10
S_MAX_DIFFICULTY = 11
S_STORAGE_CAPACITY = 12
S_STORAGE_INITIAL = 13
S_CHARGE_EFFICIENCY = 14
S_DISCHARGE_EFFICIENCY = 15
S_MAX_CHARGE = 16
S_MAX_DISCHARGE = 17
S_SUPPLY_KIND = 18
S_SUPPLY_MEAN = 19
S_SUPPLY_STD = 20
S_SUPPLY_PHI = 21
S_SUPPLY_MAX = 22
S_CLOUD_MEAN = 23
S_CLOUD_STD = 24
S_SOLAR_SCALE = 25
S_FORECAST_NOISE = 26
S_QUEUE_PREVIEW = 27
S_INVERSE_SLOT_UNIT = 28
N_SCALARS = 29

# Supply and arrival kinds as the codes the kernels branch on.
SUPPLY_CONSTANT, SUPPLY_GAUSSIAN, SUPPLY_AR1, SUPPLY_SOLAR, SUPPLY_TRACE = range(5)
ARRIVAL_CONSTANT, ARRIVAL_POISSON, ARRIVAL_NEGBIN = range(3)
assert SUPPLY_KINDS == ("constant", "gaussian", "ar1", "solar", "trace")
assert ARRIVAL_KINDS == ("constant", "poisson", "negbin")

# Columns of the per-class, per-model, per-option and per-slot tables.
CLS_WEIGHT_CDF, CLS_LO, CLS_HI, CLS_PROMPT, CLS_SLACK, CLS_VALUE = range(6)
MOD_TOKENS_PER_STEP, MOD_JOULES_PER_TOKEN, MOD_CAPACITY, MOD_INVERSE_CAPACITY = range(4)
OPT_MODEL, OPT_CAP = range(2)
SLOT_PRICE, SLOT_CARBON, SLOT_SIN, SLOT_COS, SLOT_ARRIVAL_RATE = range(5)


class KernelTables(NamedTuple):
    """The parameter arrays every kernel takes first, in this order."""

    scalars: np.ndarray  # (N_SCALARS,)
    option_tab: np.ndarray  # (O, 2) int64: model, step cap
    worst_tokens: np.ndarray  # (C, O)
    step_cdf: np.ndarray  # (M, max_difficulty + 1, max_cap + 1)
    gamma_pow: np.ndarray  # (M, max_difficulty + 1)
    class_tab: np.ndarray  # (C, 6)
    model_tab: np.ndarray  # (M, 4)
    accuracy: np.ndarray  # (C, D, O)
    slot_tab: np.ndarray  # (horizon, 5): what depends on the time of day, per slot of the episode
    supply_shape: np.ndarray  # (length,) solar clear-sky shape, or trace row offset per slot
    trace: np.ndarray  # (T,) trace scaled to the supply mean (one zero when there is no trace)
    obs_head: np.ndarray  # (C, D, C + 4 + 3 O) float32: the observation's first C + 4 + 3 O values per
    # (class, difficulty index): Params.obs_task_table then Params.obs_option_table, one contiguous copy


def kernel_tables(params: Params) -> KernelTables:
    """Lay out ``params`` for the kernels (called once per scenario through ``params.kernel``)."""
    from lrm_gym.core.supply import solar_scale, solar_shape  # supply's kernels import this module

    supply, storage = params.supply, params.storage
    scalars = np.zeros(N_SCALARS)
    scalars[S_HORIZON] = params.horizon_slots
    scalars[S_IDLE_J] = params.idle_j
    scalars[S_REWARD_AUX] = params.reward_auxiliary_per_kwh
    scalars[S_REWARD_WASTE] = params.reward_waste_per_kwh
    scalars[S_REWARD_WAIT] = params.reward_waiting_per_task
    scalars[S_REWARD_DROP] = params.reward_drop
    scalars[S_EXPECTED_QUALITY] = params.reward_expected_quality
    scalars[S_ARRIVAL_KIND] = ARRIVAL_KINDS.index(params.arrival_kind)
    scalars[S_ARRIVAL_DISPERSION] = params.arrival_dispersion
    scalars[S_DIFFICULTY_VISIBLE] = params.difficulty_visible
    scalars[S_DIFFICULTY_NOISE] = params.difficulty_noise
    scalars[S_MAX_DIFFICULTY] = params.max_difficulty
    scalars[S_STORAGE_CAPACITY] = storage.capacity_j
    scalars[S_STORAGE_INITIAL] = storage.initial_j
    scalars[S_CHARGE_EFFICIENCY] = storage.charge_efficiency
    scalars[S_DISCHARGE_EFFICIENCY] = storage.discharge_efficiency
    scalars[S_MAX_CHARGE] = storage.max_charge_j
    scalars[S_MAX_DISCHARGE] = storage.max_discharge_j
    scalars[S_SUPPLY_KIND] = SUPPLY_KINDS.index(supply.kind)
    scalars[S_SUPPLY_MEAN] = supply.mean_j
    scalars[S_SUPPLY_STD] = supply.std_j
    scalars[S_SUPPLY_PHI] = supply.phi
    scalars[S_SUPPLY_MAX] = supply.max_j
    scalars[S_CLOUD_MEAN] = supply.cloud_mean
    scalars[S_CLOUD_STD] = supply.cloud_std
    scalars[S_SOLAR_SCALE] = solar_scale(supply) if supply.kind == "solar" else 0.0
    scalars[S_FORECAST_NOISE] = supply.forecast_noise
    scalars[S_QUEUE_PREVIEW] = params.queue_preview
    scalars[S_INVERSE_SLOT_UNIT] = 1.0 / params.slot_energy_unit_j

    length = params.horizon_slots + supply.forecast_horizon
    trace = np.zeros(1)
    shape = np.zeros(length)
    if supply.kind == "solar":
        shape = solar_shape(params.start_hour, params.slot_seconds, length)
    elif supply.kind == "trace":
        assert supply.trace is not None
        trace = supply.trace * (supply.mean_j / supply.trace.mean())
        shape = np.floor(np.arange(length) * params.slot_seconds / supply.trace_seconds_per_row)

    class_tab = np.stack(
        [
            np.cumsum(params.class_weight),
            params.class_difficulty_lo,
            params.class_difficulty_hi,
            params.class_prompt_tokens,
            params.class_slack,
            params.class_value,
        ],
        axis=1,
    ).astype(np.float64)
    capacity = params.model_capacity_tokens
    inverse_capacity = np.where(np.isfinite(capacity), 1.0 / capacity, 0.0)  # 0: unlimited, shown as full
    model_tab = np.stack(
        [params.model_tokens_per_step, params.model_joules_per_token, capacity, inverse_capacity], axis=1
    )
    hour = (params.start_hour + np.arange(params.horizon_slots) * (params.slot_seconds / 3600.0)) % 24.0
    profile = params.arrival_profile
    slot_tab = np.stack(
        [
            params.price_per_kwh[hour.astype(np.int64)],
            params.carbon_g_per_kwh[hour.astype(np.int64)],
            np.sin(hour * (2.0 * np.pi / 24.0)),
            np.cos(hour * (2.0 * np.pi / 24.0)),
            params.arrival_rate * profile[(hour * profile.size / 24.0).astype(np.int64) % profile.size],
        ],
        axis=1,
    )
    d = params.obs_option_table.shape[1]
    task_rows = np.repeat(params.obs_task_table[:, None, :], d, axis=1)
    return KernelTables(
        scalars=scalars,
        option_tab=np.stack([params.option_model, params.option_cap], axis=1).astype(np.int64),
        worst_tokens=np.ascontiguousarray(params.worst_tokens, dtype=np.float64),
        step_cdf=np.ascontiguousarray(params.step_cdf, dtype=np.float64),
        gamma_pow=np.ascontiguousarray(params.gamma_pow, dtype=np.float64),
        class_tab=class_tab,
        model_tab=np.ascontiguousarray(model_tab, dtype=np.float64),
        accuracy=np.ascontiguousarray(params.accuracy, dtype=np.float64),
        slot_tab=np.ascontiguousarray(slot_tab, dtype=np.float64),
        supply_shape=np.ascontiguousarray(shape, dtype=np.float64),
        trace=np.ascontiguousarray(trace, dtype=np.float64),
        obs_head=np.ascontiguousarray(np.concatenate([task_rows, params.obs_option_table], axis=2), dtype=np.float32),
    )
