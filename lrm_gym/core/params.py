"""Frozen simulation parameters built once per scenario from a validated :class:`ScenarioConfig`.

Everything a step needs is precomputed here as numpy arrays (option tables per task class and difficulty,
CDF tables for sampling, reference-policy demand), so that the single env, the vector env and
:mod:`lrm_gym.theory` all read the same numbers. Energies are in joules per slot unless a name says
otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from lrm_gym.core import capability
from lrm_gym.core.batch_energy import curve_table
from lrm_gym.core.kinds import ARRIVAL_KINDS, SUPPLY_KINDS
from lrm_gym.core.layout import positions
from lrm_gym.core.outcomes import step_cdf_table, step_moments
from lrm_gym.core.series import GridSeries, build_grid_series, supply_trace_starts
from lrm_gym.core.supply_math import solar_shape, supply_max
from lrm_gym.core.tables import ClassColumn, KernelTables, ModelColumn, OptionColumn, Scalar, SlotColumn
from lrm_gym.core.units import JOULES_PER_KWH, JOULES_PER_WH, SECONDS_PER_HOUR
from lrm_gym.scenarios import catalogue
from lrm_gym.scenarios.loader import load_trace
from lrm_gym.scenarios.request_traces import ARRIVAL_COLUMN, PROMPT_COLUMN, arrival_counts, load_request_column
from lrm_gym.scenarios.schema import HOURS_PER_DAY, ModelConfig, ScenarioConfig

__all__ = [  # JOULES_PER_* and *_KINDS: re-exported from their homes, where they were first defined here
    "ARRIVAL_KINDS",
    "JOULES_PER_KWH",
    "JOULES_PER_WH",
    "SUPPLY_KINDS",
    "Params",
    "StorageParams",
    "SupplyParams",
    "accuracy_target_options",
    "build_params",
]


_Column = TypeVar("_Column", bound=IntEnum)  # a Scalar or a table's column name (lrm_gym.core.tables)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class SupplyParams:
    """Baseline supply. ``mean_j`` and ``std_j`` are per slot; ``max_j`` bounds every sample."""

    kind: str
    mean_j: float
    std_j: float
    phi: float
    cloud_mean: float
    cloud_std: float
    trace: np.ndarray | None
    trace_seconds_per_row: float
    trace_starts: np.ndarray  # (K,) candidate start rows under supply.trace_start; empty: any row, wrapping
    forecast_horizon: int
    forecast_noise: float
    max_j: float


@dataclass(frozen=True)
class StorageParams:
    """Storage in joules; power limits converted to joules per slot (``inf`` = unlimited)."""

    capacity_j: float
    initial_j: float
    charge_efficiency: float
    discharge_efficiency: float
    max_charge_j: float
    max_discharge_j: float


@dataclass(frozen=True)
class Params:
    """All parameters of one scenario. Option ``o`` is model ``option_model[o]`` with cap ``option_cap[o]``.

    Table axes: ``c`` task class, ``d`` difficulty index (``1..max_difficulty`` exact, ``max_difficulty + 1``
    the class average used when difficulty is hidden), ``o`` option, ``i`` model.
    """

    slot_seconds: float
    horizon_slots: int
    start_hour: float
    # models and options
    model_names: tuple[str, ...]
    budget_names: tuple[str, ...]
    option_names: tuple[str, ...]
    n_options: int
    option_model: np.ndarray  # (O,) int
    option_cap: np.ndarray  # (O,) int, max reasoning steps
    model_params: np.ndarray  # (M,) parameter count (nan when capability and energy are explicit)
    model_step_success: np.ndarray  # (M,)
    model_skill_coverage: np.ndarray  # (M,)
    model_tokens_per_step: np.ndarray  # (M,)
    model_joules_per_token: np.ndarray  # (M,) fixed; with batch_energy, the estimate at the measured batch
    model_capacity_tokens: np.ndarray  # (M,) float, inf = unlimited
    model_replicas: np.ndarray  # (M,) float, replicas of the measured configuration (1 when not measured)
    idle_j: float  # idle energy of all models per slot
    batch_energy: bool  # task_energy 'batch': slot task energy on the models' batch curves (docs/model.md section 10)
    energy_curve: (
        np.ndarray
    )  # (M, 2, K) log batch and log J/token knots (lrm_gym.core.batch_energy); (0, 2, 2) if additive
    step_cdf: np.ndarray  # (M, max_difficulty + 1, max_cap + 1)
    gamma_pow: np.ndarray  # (M, max_difficulty + 1)
    # task classes
    class_names: tuple[str, ...]
    class_weight: np.ndarray  # (C,) normalised
    class_difficulty_lo: np.ndarray  # (C,) int
    class_difficulty_hi: np.ndarray  # (C,) int
    class_prompt_tokens: np.ndarray  # (C,) fixed, or the mean of the class's measured prompt lengths
    class_prompt_tokens_max: np.ndarray  # (C,) the longest prompt a task of the class can have
    class_prompt_samples: tuple[np.ndarray | None, ...]  # per class: measured prompt lengths drawn from, or None
    class_slack: np.ndarray  # (C,) int
    class_value: np.ndarray  # (C,)
    max_difficulty: int
    # option tables
    accuracy: np.ndarray  # (C, D, O) P(correct)
    energy_mean_j: np.ndarray  # (C, D, O)
    energy_std_j: np.ndarray  # (C, D, O)
    worst_tokens: np.ndarray  # (C, O)
    # reference policy and critical supply
    reference_option: np.ndarray  # (C, D) option index
    reference_accuracy_target: float  # the accuracy_target rule's target (the schema default for a fixed option)
    reference_task_energy_j: float  # mean task energy under the reference policy
    critical_slot_energy_j: float  # rate * reference task energy + idle energy
    # processes
    supply: SupplyParams
    storage: StorageParams
    price_per_kwh: np.ndarray  # (24,) by hour of day (unused when price_series is set)
    carbon_g_per_kwh: np.ndarray  # (24,) (unused when carbon_series is set)
    price_series: GridSeries | None  # measured price per kWh per slot (auxiliary.price_trace)
    carbon_series: GridSeries | None  # measured carbon intensity per slot, with forecasts (auxiliary.carbon_trace)
    arrival_kind: str
    arrival_rate: float
    arrival_dispersion: float
    arrival_profile: np.ndarray  # (P,) mean 1, spread evenly over the day
    arrival_trace_counts: np.ndarray  # (n,) `trace` kind: measured requests per slot of the trace (else empty)
    arrival_keep: float  # `trace` kind: probability of keeping each measured request, rate / mean count (else 1)
    queue_capacity: int
    # reward and observation
    reward_auxiliary_per_kwh: float
    reward_carbon_per_kg: float
    reward_price_weight: float
    reward_waste_per_kwh: float
    reward_waiting_per_task: float
    reward_drop: float
    reward_expected_quality: bool
    queue_preview: int
    difficulty_noise: float
    difficulty_visible: bool
    slot_energy_unit_j: float  # observation unit for slot energies (the critical slot energy)
    task_energy_unit_j: float  # observation unit for task energies (reference mean task energy)
    # observation tables, precomputed once in observation units (float32, see lrm_gym.core.observation)
    obs_option_table: np.ndarray  # (C, D, 3 O) expected energy, energy std, expected accuracy
    obs_task_table: np.ndarray  # (C, C + 4) one-hot class and prompt kilotokens; the other columns 0
    # (both in the order of lrm_gym.core.layout.positions)

    @property
    def n_models(self) -> int:
        return len(self.model_names)

    @property
    def n_budgets(self) -> int:
        return len(self.budget_names)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @cached_property
    def kernel(self) -> KernelTables:
        """These parameters laid out for the compiled kernels (:mod:`lrm_gym.core.tables`), built once."""
        return _kernel_tables(self)

    @cached_property
    def kernel_arrays(self) -> tuple[np.ndarray, ...]:
        """``kernel`` as a plain tuple, as :mod:`lrm_gym.core.dynamics` passes it into compiled code."""
        return tuple(self.kernel)

    @property
    def hidden_difficulty_index(self) -> int:
        return self.max_difficulty + 1

    @property
    def peak_arrival_rate(self) -> float:
        """The largest expected arrivals of any slot: the rate at the profile's peak, or for ``trace`` arrivals
        the busiest slot of the trace thinned (docs/model.md section 5)."""
        if self.arrival_kind == "trace":
            return self.arrival_keep * float(self.arrival_trace_counts.max())
        return self.arrival_rate * float(self.arrival_profile.max())

    def difficulty_distribution(self) -> np.ndarray:
        """``P(class c, difficulty m)`` as a ``(C, D)`` array (zero on the hidden-difficulty column)."""
        d = np.arange(self.max_difficulty + 2)
        inside = (d >= self.class_difficulty_lo[:, None]) & (d <= self.class_difficulty_hi[:, None])
        width = self.class_difficulty_hi - self.class_difficulty_lo + 1
        return inside * (self.class_weight / width)[:, None]


def build_params(config: ScenarioConfig) -> Params:
    """Derive every per-scenario quantity from a validated config."""
    models, budgets, classes = config.models, config.budgets, config.tasks.classes
    n_models, n_budgets = len(models), len(budgets)

    sizes = np.array([_model_params(m) for m in models])
    r = np.array(
        [
            m.step_success if m.step_success is not None else capability.step_success(n)
            for m, n in zip(models, sizes, strict=True)
        ]
    )
    gamma = np.array(
        [
            m.skill_coverage if m.skill_coverage is not None else capability.skill_coverage(n)
            for m, n in zip(models, sizes, strict=True)
        ]
    )
    jpt = np.array([_joules_per_token(m, n) for m, n in zip(models, sizes, strict=True)])
    curves = [_batch_curve(m) for m in models] if config.task_energy == "batch" else []
    tps = np.array([m.tokens_per_step for m in models], dtype=np.float64)
    capacity = np.array(
        [np.inf if m.capacity_tokens_per_slot is None else m.capacity_tokens_per_slot for m in models], dtype=np.float64
    )
    caps = np.array([b.max_steps for b in budgets])

    lo = np.array([c.difficulty if isinstance(c.difficulty, int) else c.difficulty[0] for c in classes])
    hi = np.array([c.difficulty if isinstance(c.difficulty, int) else c.difficulty[1] for c in classes])
    max_difficulty = int(hi.max())
    weight = np.array([c.weight for c in classes], dtype=np.float64)
    weight /= weight.sum()
    samples = tuple(
        None
        if isinstance(c.prompt_tokens, int)
        else load_request_column(c.prompt_tokens.trace, PROMPT_COLUMN, f"tasks.classes.{k}.prompt_tokens.trace")
        for k, c in enumerate(classes)
    )
    fixed = [float(c.prompt_tokens) if isinstance(c.prompt_tokens, int) else 0.0 for c in classes]
    # a trace-prompt class's tables use the mean prompt (energy is linear in tokens) plus its variance
    prompt = np.array([f if x is None else x.mean() for f, x in zip(fixed, samples, strict=True)])
    prompt_max = np.array([f if x is None else x.max() for f, x in zip(fixed, samples, strict=True)])
    prompt_var = np.array([0.0 if x is None else x.var() for x in samples])

    option_model = np.repeat(np.arange(n_models), n_budgets)
    option_budget = np.tile(np.arange(n_budgets), n_models)
    option_cap = caps[option_budget]
    p_correct, mean_steps, second_steps = step_moments(r, gamma, caps, max_difficulty)
    # (M, B, m) -> (m, O)
    acc_mo = p_correct[option_model, option_budget].T
    steps_mean = mean_steps[option_model, option_budget].T
    steps_var = np.maximum(second_steps[option_model, option_budget].T - steps_mean**2, 0.0)
    jpt_o, tps_o = jpt[option_model], tps[option_model]
    energy_mean = jpt_o * (prompt[:, None, None] + tps_o * steps_mean[None])  # (C, m, O)
    energy_var = np.broadcast_to((jpt_o * tps_o) ** 2 * steps_var, energy_mean.shape)
    if prompt_var.any():  # independent prompt length: Var(energy) = jpt^2 (tps^2 Var(steps) + Var(prompt))
        energy_var = energy_var + jpt_o**2 * prompt_var[:, None, None]
    accuracy = np.broadcast_to(acc_mo, energy_mean.shape)

    # Append the class-average column used when difficulty is hidden (law of total variance).
    m_index = np.arange(max_difficulty + 1)
    inside = (m_index >= lo[:, None]) & (m_index <= hi[:, None])
    within = inside / inside.sum(1, keepdims=True)  # (C, m) uniform over the class's range
    avg_acc = np.einsum("cm,cmo->co", within, accuracy)
    avg_mean = np.einsum("cm,cmo->co", within, energy_mean)
    avg_var = np.einsum("cm,cmo->co", within, energy_var + energy_mean**2) - avg_mean**2
    accuracy = np.concatenate([accuracy, avg_acc[:, None]], axis=1)
    energy_mean = np.concatenate([energy_mean, avg_mean[:, None]], axis=1)
    energy_std = np.sqrt(np.maximum(np.concatenate([energy_var, avg_var[:, None]], axis=1), 0.0))
    worst_tokens = prompt_max[:, None] + tps_o[None] * option_cap[None]

    reference_option = _reference_options(config, accuracy, energy_mean, n_budgets)
    ref_energy = np.take_along_axis(energy_mean, reference_option[..., None], axis=-1)[..., 0]
    reference_task_energy = float(np.sum(within * weight[:, None] * ref_energy[:, : max_difficulty + 1]))
    idle_j = float(sum(m.idle_w for m in models) * config.slot_seconds)
    critical_slot_energy = config.arrivals.rate_per_slot * reference_task_energy + idle_j

    supply = _supply_params(config, critical_slot_energy)
    store = config.storage
    capacity_j = store.capacity_wh * JOULES_PER_WH
    storage = StorageParams(
        capacity_j=capacity_j,
        initial_j=capacity_j * store.initial_fraction,
        charge_efficiency=store.charge_efficiency,
        discharge_efficiency=store.discharge_efficiency,
        max_charge_j=np.inf if store.max_charge_w is None else store.max_charge_w * config.slot_seconds,
        max_discharge_j=np.inf if store.max_discharge_w is None else store.max_discharge_w * config.slot_seconds,
    )
    task_unit = reference_task_energy if reference_task_energy > 0 else 1.0
    names = tuple(f"{m.name}/{b.name}" for m in models for b in budgets)
    # the observation's head that depends only on (class, difficulty index), in the row's order
    at = positions(len(classes), len(names), 0, 0)
    assert at.options_energy_std - at.options == at.options_accuracy - at.options_energy_std == len(names)
    option_table = np.concatenate([energy_mean / task_unit, energy_std / task_unit, accuracy], axis=-1)
    task_table = np.zeros((len(classes), at.options - at.task))
    task_table[:, at.task : at.task + len(classes)] = np.eye(len(classes))
    task_table[:, at.task_prompt_kilotokens] = prompt / 1000.0
    profile = np.ones(1) if config.arrivals.profile is None else np.asarray(config.arrivals.profile, dtype=np.float64)
    carbon_series, price_series = build_grid_series(config)
    trace_counts, keep = _arrival_trace(config)
    return Params(
        slot_seconds=config.slot_seconds,
        horizon_slots=config.horizon_slots,
        start_hour=config.start_hour,
        model_names=tuple(m.name for m in models),
        budget_names=tuple(b.name for b in budgets),
        option_names=names,
        n_options=len(names),
        option_model=_frozen(option_model),
        option_cap=_frozen(option_cap),
        model_params=_frozen(sizes),
        model_step_success=_frozen(r),
        model_skill_coverage=_frozen(gamma),
        model_tokens_per_step=_frozen(tps),
        model_joules_per_token=_frozen(jpt),
        model_capacity_tokens=_frozen(capacity),
        model_replicas=_frozen(
            np.array([1.0 if m.measured_energy is None else float(m.measured_energy.replicas) for m in models])
        ),
        idle_j=idle_j,
        batch_energy=config.task_energy == "batch",
        energy_curve=_frozen(curve_table([c.batch for c in curves], [c.joules_per_token for c in curves])),
        step_cdf=_frozen(step_cdf_table(r, max_difficulty, int(caps.max()))),
        gamma_pow=_frozen(gamma[:, None] ** np.arange(max_difficulty + 1)[None]),
        class_names=tuple(c.name for c in classes),
        class_weight=_frozen(weight),
        class_difficulty_lo=_frozen(lo),
        class_difficulty_hi=_frozen(hi),
        class_prompt_tokens=_frozen(prompt),
        class_prompt_tokens_max=_frozen(prompt_max),
        class_prompt_samples=samples,
        class_slack=_frozen(np.array([c.slack_slots for c in classes])),
        class_value=_frozen(np.array([c.value for c in classes], dtype=np.float64)),
        max_difficulty=max_difficulty,
        accuracy=_frozen(accuracy),
        energy_mean_j=_frozen(energy_mean),
        energy_std_j=_frozen(energy_std),
        worst_tokens=_frozen(worst_tokens),
        reference_option=_frozen(reference_option),
        reference_accuracy_target=config.reference_policy.target,
        reference_task_energy_j=reference_task_energy,
        critical_slot_energy_j=critical_slot_energy,
        supply=supply,
        storage=storage,
        price_per_kwh=_frozen(_hourly(config.auxiliary.price_per_kwh)),
        carbon_g_per_kwh=_frozen(_hourly(config.auxiliary.carbon_g_per_kwh)),
        price_series=price_series,
        carbon_series=carbon_series,
        arrival_kind=config.arrivals.kind,
        arrival_rate=config.arrivals.rate_per_slot,
        arrival_dispersion=float(config.arrivals.dispersion or 0.0),
        arrival_profile=_frozen(profile / profile.mean()),
        arrival_trace_counts=_frozen(trace_counts),
        arrival_keep=keep,
        queue_capacity=config.queue.capacity,
        reward_auxiliary_per_kwh=config.reward.auxiliary_per_kwh,
        reward_carbon_per_kg=config.reward.carbon_per_kg,
        reward_price_weight=config.reward.price_weight,
        reward_waste_per_kwh=config.reward.waste_per_kwh,
        reward_waiting_per_task=config.reward.waiting_per_task,
        reward_drop=config.reward.drop,
        reward_expected_quality=config.reward.quality == "expected",
        queue_preview=config.observation.queue_preview,
        difficulty_noise=config.observation.difficulty_noise,
        difficulty_visible=config.observation.difficulty_visible,
        slot_energy_unit_j=critical_slot_energy if critical_slot_energy > 0 else 1.0,
        task_energy_unit_j=task_unit,
        obs_option_table=_frozen(option_table.astype(np.float32)),
        obs_task_table=_frozen(task_table.astype(np.float32)),
    )


def _arrival_trace(config: ScenarioConfig) -> tuple[np.ndarray, float]:
    """A ``trace`` arrival process's measured requests per slot and the probability ``rate / mean count`` of keeping
    each (docs/model.md section 5); empty and 1 for the other kinds."""
    arrivals = config.arrivals
    if arrivals.kind != "trace":
        return np.zeros(0), 1.0
    assert arrivals.trace is not None
    counts = arrival_counts(load_request_column(arrivals.trace, ARRIVAL_COLUMN, "arrivals.trace"), config.slot_seconds)
    mean = float(counts.mean())
    if not arrivals.rate_per_slot <= mean:
        raise ValueError(
            f"arrivals.rate_per_slot: {arrivals.rate_per_slot:g} exceeds the trace's {mean:.6g} requests per slot of "
            f"{config.slot_seconds:g} s on average; a trace is thinned, never multiplied: use at most {mean:.6g}"
        )
    return counts, arrivals.rate_per_slot / mean


def _joules_per_token(model: ModelConfig, params: float) -> float:
    """Explicit, else measured (ML.ENERGY at the stated configuration and batch), else the ``2 N`` FLOPs law."""
    if model.joules_per_token is not None:
        return model.joules_per_token
    measured = model.measured_energy
    if measured is not None:
        return catalogue.measured_joules_per_token(
            measured.model_id, measured.gpu, measured.num_gpus, measured.task, measured.batch
        )
    return capability.joules_per_token(params)


def _batch_curve(model: ModelConfig) -> catalogue.BatchCurve:
    measured = model.measured_energy
    assert measured is not None, "the schema requires measured_energy for task_energy 'batch'"
    return catalogue.batch_curve(measured.model_id, measured.gpu, measured.num_gpus, measured.task)


def _model_params(model: object) -> float:
    params = getattr(model, "params", None)
    flops = getattr(model, "training_flops", None)
    if params is not None:
        return float(params)
    if flops is not None:
        return capability.params_from_training_flops(flops)
    return float("nan")


def _hourly(value: float | list[float]) -> np.ndarray:
    return (
        np.full(HOURS_PER_DAY, float(value)) if isinstance(value, float | int) else np.asarray(value, dtype=np.float64)
    )


def _reference_options(
    config: ScenarioConfig, accuracy: np.ndarray, energy_mean: np.ndarray, n_budgets: int
) -> np.ndarray:
    """Option index of the reference policy for every (class, difficulty index)."""
    ref = config.reference_policy
    if ref.kind == "fixed":
        assert ref.option is not None
        model = [m.name for m in config.models].index(ref.option.model)
        budget = [b.name for b in config.budgets].index(ref.option.budget)
        return np.full(accuracy.shape[:2], model * n_budgets + budget)
    return accuracy_target_options(accuracy, energy_mean, ref.target)


def accuracy_target_options(accuracy: np.ndarray, energy_mean: np.ndarray, target: float) -> np.ndarray:
    """Cheapest option with ``accuracy >= target`` along the last axis; the most accurate when none is.

    Ties in accuracy among the fallbacks go to the cheaper option.
    """
    meets = accuracy >= target
    cheapest_meeting = np.argmin(np.where(meets, energy_mean, np.inf), axis=-1)
    # lexicographic: highest accuracy, then lowest energy
    order = np.lexsort((energy_mean, -accuracy), axis=-1)
    most_accurate = order[..., 0]
    return np.where(meets.any(-1), cheapest_meeting, most_accurate)


def _supply_params(config: ScenarioConfig, critical_slot_energy: float) -> SupplyParams:
    s = config.supply
    mean_j = s.mean_w * config.slot_seconds if s.mean_w is not None else s.provisioning * critical_slot_energy  # type: ignore[operator]
    trace = load_trace(s.trace) if s.trace is not None else None
    std_j = s.std_w * config.slot_seconds
    return SupplyParams(
        kind=s.kind,
        mean_j=float(mean_j),
        std_j=std_j,
        phi=s.phi,
        cloud_mean=s.cloud_mean,
        cloud_std=s.cloud_std,
        trace=None if trace is None else _frozen(trace),
        trace_seconds_per_row=s.trace_seconds_per_row,
        trace_starts=_frozen(supply_trace_starts(config, 0 if trace is None else trace.size)),
        forecast_horizon=s.forecast.horizon,
        forecast_noise=s.forecast.noise,
        max_j=supply_max(s.kind, float(mean_j), std_j, s.cloud_mean, s.cloud_std, trace),
    )


def _kernel_tables(params: Params) -> KernelTables:
    """Lay out ``params`` for the kernels (called once per scenario through ``params.kernel``)."""
    supply, storage = params.supply, params.storage
    scalar_values = {
        Scalar.HORIZON_SLOTS: params.horizon_slots,
        Scalar.IDLE_J: params.idle_j,
        Scalar.REWARD_AUXILIARY_PER_KWH: params.reward_auxiliary_per_kwh,
        Scalar.REWARD_WASTE_PER_KWH: params.reward_waste_per_kwh,
        Scalar.REWARD_WAITING_PER_TASK: params.reward_waiting_per_task,
        Scalar.REWARD_DROP: params.reward_drop,
        Scalar.EXPECTED_QUALITY: params.reward_expected_quality,
        Scalar.ARRIVAL_KIND: ARRIVAL_KINDS.index(params.arrival_kind),
        Scalar.ARRIVAL_DISPERSION: params.arrival_dispersion,
        Scalar.DIFFICULTY_VISIBLE: params.difficulty_visible,
        Scalar.DIFFICULTY_NOISE: params.difficulty_noise,
        Scalar.MAX_DIFFICULTY: params.max_difficulty,
        Scalar.STORAGE_CAPACITY_J: storage.capacity_j,
        Scalar.STORAGE_INITIAL_J: storage.initial_j,
        Scalar.CHARGE_EFFICIENCY: storage.charge_efficiency,
        Scalar.DISCHARGE_EFFICIENCY: storage.discharge_efficiency,
        Scalar.MAX_CHARGE_J: storage.max_charge_j,
        Scalar.MAX_DISCHARGE_J: storage.max_discharge_j,
        Scalar.SUPPLY_KIND: SUPPLY_KINDS.index(supply.kind),
        Scalar.SUPPLY_MEAN_J: supply.mean_j,
        Scalar.SUPPLY_STD_J: supply.std_j,
        Scalar.SUPPLY_PHI: supply.phi,
        Scalar.SUPPLY_MAX_J: supply.max_j,
        Scalar.CLOUD_MEAN: supply.cloud_mean,
        Scalar.CLOUD_STD: supply.cloud_std,
        Scalar.SOLAR_SCALE_J: supply.max_j if supply.kind == "solar" else 0.0,  # a solar supply peaks at its scale
        Scalar.FORECAST_NOISE: supply.forecast_noise,
        Scalar.QUEUE_PREVIEW: params.queue_preview,
        Scalar.INVERSE_SLOT_ENERGY_UNIT: 1.0 / params.slot_energy_unit_j,
        Scalar.REWARD_CARBON_PER_KG: params.reward_carbon_per_kg,
        Scalar.REWARD_PRICE_WEIGHT: params.reward_price_weight,
        Scalar.ARRIVAL_KEEP: params.arrival_keep,
        Scalar.BATCH_ENERGY: params.batch_energy,
    }

    length = params.horizon_slots + supply.forecast_horizon
    trace = np.zeros(1)
    shape = np.zeros(length)
    if supply.kind == "solar":
        shape = solar_shape(params.start_hour, params.slot_seconds, length)
    elif supply.kind == "trace":
        assert supply.trace is not None
        trace = supply.trace * (supply.mean_j / supply.trace.mean())
        shape = np.floor(np.arange(length) * params.slot_seconds / supply.trace_seconds_per_row)

    measured = [x for x in params.class_prompt_samples if x is not None]
    sizes = np.array([0 if x is None else x.size for x in params.class_prompt_samples])
    prompt_sample = np.concatenate(measured) if measured else np.zeros(1)
    counts = params.arrival_trace_counts if params.arrival_trace_counts.size else np.zeros(1)
    class_columns = {
        ClassColumn.WEIGHT_CDF: np.cumsum(params.class_weight),
        ClassColumn.DIFFICULTY_LO: params.class_difficulty_lo,
        ClassColumn.DIFFICULTY_HI: params.class_difficulty_hi,
        ClassColumn.PROMPT_TOKENS: params.class_prompt_tokens,
        ClassColumn.SLACK_SLOTS: params.class_slack,
        ClassColumn.VALUE: params.class_value,
        ClassColumn.PROMPT_SAMPLE_START: np.cumsum([0, *sizes[:-1]]),
        ClassColumn.PROMPT_SAMPLE_SIZE: sizes,
    }
    capacity = params.model_capacity_tokens
    model_columns = {
        ModelColumn.TOKENS_PER_STEP: params.model_tokens_per_step,
        ModelColumn.JOULES_PER_TOKEN: params.model_joules_per_token,
        ModelColumn.CAPACITY_TOKENS: capacity,
        ModelColumn.INVERSE_CAPACITY: np.where(np.isfinite(capacity), 1.0 / capacity, 0.0),
        ModelColumn.REPLICAS: params.model_replicas,
    }
    option_columns = {OptionColumn.MODEL: params.option_model, OptionColumn.STEP_CAP: params.option_cap}
    hour = (params.start_hour + np.arange(params.horizon_slots) * (params.slot_seconds / SECONDS_PER_HOUR)) % 24.0
    profile = params.arrival_profile
    slot_columns = {
        SlotColumn.PRICE_PER_KWH: params.price_per_kwh[hour.astype(np.int64)],
        SlotColumn.CARBON_G_PER_KWH: params.carbon_g_per_kwh[hour.astype(np.int64)],
        SlotColumn.SIN_HOUR: np.sin(hour * (2.0 * np.pi / 24.0)),
        SlotColumn.COS_HOUR: np.cos(hour * (2.0 * np.pi / 24.0)),
        SlotColumn.ARRIVAL_RATE: params.arrival_rate
        * profile[(hour * profile.size / 24.0).astype(np.int64) % profile.size],
    }
    d = params.obs_option_table.shape[1]
    task_rows = np.repeat(params.obs_task_table[:, None, :], d, axis=1)
    return KernelTables(
        scalars=np.array(_in_order(scalar_values), dtype=np.float64),
        option_tab=_table(option_columns, np.int64),
        worst_tokens=np.ascontiguousarray(params.worst_tokens, dtype=np.float64),
        step_cdf=np.ascontiguousarray(params.step_cdf, dtype=np.float64),
        gamma_pow=np.ascontiguousarray(params.gamma_pow, dtype=np.float64),
        class_tab=_table(class_columns, np.float64),
        model_tab=_table(model_columns, np.float64),
        accuracy=np.ascontiguousarray(params.accuracy, dtype=np.float64),
        slot_tab=_table(slot_columns, np.float64),
        supply_shape=np.ascontiguousarray(shape, dtype=np.float64),
        trace=np.ascontiguousarray(trace, dtype=np.float64),
        obs_head=np.ascontiguousarray(np.concatenate([task_rows, params.obs_option_table], axis=2), dtype=np.float32),
        **_grid_tables(params),
        arrival_counts=np.ascontiguousarray(counts, dtype=np.float64),
        prompt_sample=np.ascontiguousarray(prompt_sample, dtype=np.float64),
        energy_curve=np.ascontiguousarray(params.energy_curve, dtype=np.float64),
    )


def _grid_tables(params: Params) -> dict[str, np.ndarray]:
    """The measured price and carbon series for the kernels (empty arrays for a flat or hourly value)."""
    carbon, price = params.carbon_series, params.price_series
    carbon_slots = np.zeros((0, 1)) if carbon is None else np.column_stack([carbon.values, carbon.forecasts])
    return {
        "trace_starts": np.ascontiguousarray(params.supply.trace_starts, dtype=np.int64),
        "carbon_slots": np.ascontiguousarray(carbon_slots, dtype=np.float64),
        "carbon_starts": np.zeros(0, np.int64) if carbon is None else np.ascontiguousarray(carbon.starts),
        "price_slots": np.zeros(0) if price is None else np.ascontiguousarray(price.values, dtype=np.float64),
        "price_starts": np.zeros(0, np.int64) if price is None else np.ascontiguousarray(price.starts),
    }


def _table(columns: dict[_Column, Any], dtype: type) -> np.ndarray:
    """A C-contiguous ``(rows, len(columns))`` table whose column ``k`` is ``columns[k]``."""
    return np.ascontiguousarray(np.stack(_in_order(columns), axis=1), dtype=dtype)


def _in_order(values: dict[_Column, Any]) -> list[Any]:
    """The values of a dict keyed by every member of one IntEnum, in the members' order."""
    columns = type(next(iter(values)))
    members = list(columns)
    assert sorted(values) == members, f"{columns.__name__}: set every member once"
    return [values[m] for m in members]
