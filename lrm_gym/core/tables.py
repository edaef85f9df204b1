"""The layout of a scenario's parameters for the compiled kernels of :mod:`.dynamics`: :class:`KernelTables`
and the names of its columns.

Crossing from Python into compiled code costs about 50 ns per array argument, so the parameters travel as
few arrays: every scalar in one float64 vector whose positions :class:`Scalar` names, and per-class,
per-model, per-option and per-slot quantities as one table each, with columns named by :class:`ClassColumn`,
:class:`ModelColumn`, :class:`OptionColumn` and :class:`SlotColumn`. The tables are built from ``Params``
(``params.kernel``), never configured separately, so the theory and both envs read the same numbers.

The column names are ``IntEnum`` members: numba reads them as compile-time constants.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np


class Scalar(IntEnum):
    """Positions in ``KernelTables.scalars``."""

    HORIZON_SLOTS = 0
    IDLE_J = 1
    REWARD_AUXILIARY_PER_KWH = 2
    REWARD_WASTE_PER_KWH = 3
    REWARD_WAITING_PER_TASK = 4
    REWARD_DROP = 5
    EXPECTED_QUALITY = 6  # 1.0: quality reward is value times P(correct); 0.0: value if correct
    ARRIVAL_KIND = 7  # a code of lrm_gym.core.kinds
    ARRIVAL_DISPERSION = 8
    DIFFICULTY_VISIBLE = 9
    DIFFICULTY_NOISE = 10
    MAX_DIFFICULTY = 11
    STORAGE_CAPACITY_J = 12
    STORAGE_INITIAL_J = 13
    CHARGE_EFFICIENCY = 14
    DISCHARGE_EFFICIENCY = 15
    MAX_CHARGE_J = 16
    MAX_DISCHARGE_J = 17
    SUPPLY_KIND = 18  # a code of lrm_gym.core.kinds
    SUPPLY_MEAN_J = 19
    SUPPLY_STD_J = 20
    SUPPLY_PHI = 21
    SUPPLY_MAX_J = 22
    CLOUD_MEAN = 23
    CLOUD_STD = 24
    SOLAR_SCALE_J = 25
    FORECAST_NOISE = 26
    QUEUE_PREVIEW = 27
    INVERSE_SLOT_ENERGY_UNIT = 28  # 1 / Params.slot_energy_unit_j
    REWARD_CARBON_PER_KG = 29
    REWARD_PRICE_WEIGHT = 30
    ARRIVAL_KEEP = 31  # `trace` arrivals: probability of keeping each measured request (lrm_gym.core.arrivals)
    BATCH_ENERGY = 32  # 1.0: task energy accounted per model at the slot's close on its batch curve; 0.0: additive


class ClassColumn(IntEnum):
    """Columns of ``KernelTables.class_tab``, one row per task class."""

    WEIGHT_CDF = 0  # cumulative class weight, for sampling a class
    DIFFICULTY_LO = 1
    DIFFICULTY_HI = 2
    PROMPT_TOKENS = 3  # fixed prompt length, or the mean of the class's measured prompt lengths
    SLACK_SLOTS = 4
    VALUE = 5
    PROMPT_SAMPLE_START = 6  # first index of the class's prompt lengths in KernelTables.prompt_sample
    PROMPT_SAMPLE_SIZE = 7  # how many; 0: every task has the fixed PROMPT_TOKENS


class ModelColumn(IntEnum):
    """Columns of ``KernelTables.model_tab``, one row per model."""

    TOKENS_PER_STEP = 0
    JOULES_PER_TOKEN = 1
    CAPACITY_TOKENS = 2  # inf = unlimited
    INVERSE_CAPACITY = 3  # 0 when unlimited (its capacity left is shown as full)
    REPLICAS = 4  # identical replicas a slot's tasks are spread over (task_energy 'batch'; 1 otherwise)


class OptionColumn(IntEnum):
    """Columns of ``KernelTables.option_tab``, one row per option."""

    MODEL = 0
    STEP_CAP = 1


class SlotColumn(IntEnum):
    """Columns of ``KernelTables.slot_tab``, one row per slot of the episode (what depends on the hour)."""

    PRICE_PER_KWH = 0
    CARBON_G_PER_KWH = 1
    SIN_HOUR = 2
    COS_HOUR = 3
    ARRIVAL_RATE = 4


class KernelTables(NamedTuple):
    """The parameter arrays every kernel reads."""

    scalars: np.ndarray  # (len(Scalar),)
    option_tab: np.ndarray  # (O, len(OptionColumn)) int64
    worst_tokens: np.ndarray  # (C, O)
    step_cdf: np.ndarray  # (M, max_difficulty + 1, max_cap + 1)
    gamma_pow: np.ndarray  # (M, max_difficulty + 1)
    class_tab: np.ndarray  # (C, len(ClassColumn))
    model_tab: np.ndarray  # (M, len(ModelColumn))
    accuracy: np.ndarray  # (C, D, O)
    slot_tab: np.ndarray  # (horizon, len(SlotColumn))
    supply_shape: np.ndarray  # (length,) solar clear-sky shape, or trace row offset per slot
    trace: np.ndarray  # (T,) trace scaled to the supply mean (one zero when there is no trace)
    obs_head: np.ndarray  # (C, D, C + 4 + 3 O) float32: the observation's first C + 4 + 3 O values per
    # (class, difficulty index): Params.obs_task_table then Params.obs_option_table, one contiguous copy
    # measured grid series (lrm_gym.core.grid; docs/model.md section 3.1):
    trace_starts: np.ndarray  # (K,) int64 candidate start rows of the supply trace (empty: any row, wrapping)
    carbon_slots: np.ndarray  # (S, 1 + F) carbon g/kWh per slot of the trace, then its F forecasts ((0, 1): none)
    carbon_starts: np.ndarray  # (K,) int64 candidate first slots of an episode in carbon_slots (empty: none)
    price_slots: np.ndarray  # (S,) price per kWh per slot of the trace ((0,): none)
    price_starts: np.ndarray  # (K,) int64 candidate first slots in price_slots (empty: none)
    arrival_counts: np.ndarray  # (n,) measured requests per slot of a `trace` arrival process (one zero otherwise)
    prompt_sample: np.ndarray  # (K,) measured prompt lengths of every trace-prompt class (one zero when none)
    energy_curve: np.ndarray  # (M, 2, K) log batch and log J/token knots (lrm_gym.core.batch_energy); (0, 2, 2)
    # when task energy is additive
