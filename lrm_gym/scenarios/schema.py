"""Pydantic v2 schema of a scenario file (docs/model.md section 15).

Every model is frozen and forbids unknown keys, so a typo in a YAML file or an ``overrides`` dict fails
loudly with the key path instead of being ignored. Range checks live in the field declarations; the few
checks that involve several fields are model validators.

Every size and magnitude has an upper bound (:data:`LIMITS`, stated in each field's description). Sizes
bound the memory and time a scenario can ask for before anything is allocated; magnitudes (powers,
energies, token counts, rates) are bounded so that every derived energy, and so every observation, stays
finite in float32: with the lower bounds on ``arrivals.rate_per_slot`` and ``joules_per_token`` the
observation's energy unit is at least 1e-12 J, and the largest supply, storage or demand it is divided into
is below 1e35.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from lrm_gym.core.kinds import ArrivalKind, SupplyKind
from lrm_gym.scenarios import catalogue

HOURS_PER_DAY = 24

LIMITS: dict[str, tuple[float, str]] = {
    "horizon_slots": (35_040, "one year of 15-min slots"),
    "slot_seconds": (86_400, "one day"),
    "power_w": (1e12, "a terawatt"),
    "storage.capacity_wh": (1e12, "a terawatt-hour"),
    "supply.provisioning": (1e3, "a thousand times the critical supply"),
    "supply.cloud_std": (10, "ten times the cloud factor's range"),
    "supply.trace_seconds_per_row": (1e8, "three years"),
    "supply.forecast.noise": (1e3, "a thousand times the mean supply"),
    "auxiliary.price_per_kwh": (1e6, "a million per kWh"),
    "auxiliary.carbon_g_per_kwh": (1e7, "ten tonnes per kWh"),
    "arrivals.rate_per_slot": (1e6, "a million tasks per slot"),
    "arrivals.dispersion": (1e6, "practically Poisson"),
    "arrivals.profile": (1_440, "one entry per minute of the day"),
    "weight": (1e6, "a million times another class"),
    "difficulty": (1_000, "skills per task"),
    "prompt_tokens": (1e7, "ten million tokens"),
    "slack_slots": (35_040, "the longest horizon"),
    "value": (1e9, "a billion per correct answer"),
    "tasks.classes": (64, "task classes"),
    "models": (16, "models"),
    "budgets": (16, "budgets"),
    "params": (1e14, "a hundred trillion parameters"),
    "training_flops": (1.2e30, "the compute-optimal budget of 1e14 parameters"),
    "tokens_per_step": (1e6, "a million tokens per step"),
    "joules_per_token": (1e4, "ten kJ per token"),
    "capacity_tokens_per_slot": (1e12, "a trillion tokens per slot"),
    "max_steps": (10_000, "reasoning steps per task"),
    "measured_energy.num_gpus": (1_024, "GPUs serving one model"),
    "measured_energy.batch": (1_000_000, "concurrent requests"),
    "measured_energy.replicas": (1_000_000, "replicas of one configuration"),
    "reward": (1e9, "a billion per unit"),
    "observation.difficulty_noise": (1e3, "the largest difficulty"),
    "queue.capacity": (1_000_000, "a million queued tasks"),
    "name": (128, "characters"),
    "description": (10_000, "characters"),
    "supply.trace": (4_096, "characters"),
    "auxiliary.trace": (4_096, "characters"),
    "trace": (4_096, "characters"),
    "tables": (10_000_000, "cells of one option or step table, about 80 MB"),
}
"""Upper bound and its meaning for every size and magnitude a scenario sets, keyed by the field's key path
(or by its name where several fields share it). :func:`limit_note` finds the note for an error message."""

LOWER_LIMITS: dict[str, tuple[float, str]] = {
    "slot_seconds": (1e-3, "a millisecond"),
    "supply.trace_seconds_per_row": (1e-3, "a millisecond"),
    "arrivals.rate_per_slot": (1e-3, "a task per thousand slots"),
    "arrivals.dispersion": (1e-3, "heavier tails than any real load"),
    "params": (1e6, "a million parameters, where the Chinchilla fit still gives a positive step success"),
    "training_flops": (1.2e14, "the compute-optimal budget of 1e6 parameters"),
    "joules_per_token": (1e-9, "a nanojoule per token"),
    "step_success": (1e-3, "one step in a thousand succeeds"),
}
"""Lower bounds that keep derived quantities (the observation's energy units, step probabilities) from
underflowing; the same keys as :data:`LIMITS`."""


def _max(key: str) -> float:
    return LIMITS[key][0]


def _min(key: str) -> float:
    return LOWER_LIMITS[key][0]


def _describe(key: str, what: str) -> str:
    upper = f"at most {LIMITS[key][0]:g} ({LIMITS[key][1]})" if key in LIMITS else ""
    lower = f"at least {LOWER_LIMITS[key][0]:g} ({LOWER_LIMITS[key][1]})" if key in LOWER_LIMITS else ""
    return f"{what}; " + ", ".join(part for part in (lower, upper) if part)


def limit_note(path: str) -> str | None:
    """The meaning of the bound on ``path`` (dotted, list indices and union tags dropped), if it has one."""
    parts = path.split(".")
    for start in range(len(parts)):
        key = ".".join(parts[start:])
        if key in LIMITS:
            return LIMITS[key][1]
    if parts[0] == "reward":
        return LIMITS["reward"][1]
    if parts[-1] in {"mean_w", "std_w", "idle_w", "max_charge_w", "max_discharge_w"}:
        return LIMITS["power_w"][1]
    return None


def lower_limit_note(path: str) -> str | None:
    """As :func:`limit_note`, for the lower bounds."""
    parts = path.split(".")
    for start in range(len(parts)):
        key = ".".join(parts[start:])
        if key in LOWER_LIMITS:
            return LOWER_LIMITS[key][1]
    return None


NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PositiveInt = Annotated[StrictInt, Field(ge=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
Power = Annotated[float, Field(ge=0, le=_max("power_w"), allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=int(_max("name")))]
Difficulty = Annotated[StrictInt, Field(ge=1, le=int(_max("difficulty")))]
HourlyPrice = Annotated[float, Field(ge=0, le=_max("auxiliary.price_per_kwh"), allow_inf_nan=False)]
HourlyCarbon = Annotated[float, Field(ge=0, le=_max("auxiliary.carbon_g_per_kwh"), allow_inf_nan=False)]
RewardWeight = Annotated[
    float, Field(ge=0, le=_max("reward"), allow_inf_nan=False, description=_describe("reward", "weight"))
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForecastConfig(_Strict):
    """Forecast of the next ``horizon`` slots of baseline supply.

    ``noise`` is the standard deviation of an additive Gaussian error, relative to the mean supply
    (0 = perfect forecast).
    """

    horizon: Annotated[StrictInt, Field(ge=0, le=256)] = 0
    noise: Annotated[
        float,
        Field(
            ge=0,
            le=_max("supply.forecast.noise"),
            allow_inf_nan=False,
            description=_describe("supply.forecast.noise", "error std relative to the mean supply"),
        ),
    ] = 0.0


class TraceStartConfig(_Strict):
    """Where in a time-stamped trace an episode's window may start (docs/model.md section 3.1).

    ``align: day`` starts episodes at ``hour`` (hour and minutes of the trace's own time column: UTC for the
    shipped grid traces) of a day; ``align: any`` at any row (supply) or slot (grid traces). ``dates: [first,
    last]`` (inclusive, dates of the trace's time column) restricts the start to those days, e.g. a season;
    every start it allows must fit the whole episode inside the trace, else the scenario is refused. Without
    ``dates`` every start whose window fits is a candidate. The episode's start is drawn uniformly among the
    candidates from the env's random stream at reset.
    """

    align: Literal["day", "any"] = "day"
    hour: Annotated[float, Field(ge=0, lt=HOURS_PER_DAY, allow_inf_nan=False)] = 0.0
    dates: tuple[datetime.date, datetime.date] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TraceStartConfig:
        if self.align == "any" and "hour" in self.model_fields_set and self.hour != 0.0:
            raise ValueError("'hour' is only used by align 'day'")
        minutes = self.hour * 60.0
        if abs(minutes - round(minutes)) > 1e-9:
            raise ValueError(f"hour {self.hour} is not a whole number of minutes")
        if self.dates is not None and self.dates[0] > self.dates[1]:
            raise ValueError(f"dates [{self.dates[0]}, {self.dates[1]}]: the first date is after the last")
        return self


class SupplyConfig(_Strict):
    """Baseline supply process. Exactly one of ``mean_w`` and ``provisioning`` sets its mean.

    ``trace_start`` (kind ``trace`` only; default none: a uniformly random row, wrapping around the end)
    aligns the replay's start to whole days or a date range of the trace's time column.
    """

    kind: SupplyKind
    mean_w: Annotated[Power, Field(description=_describe("power_w", "mean supply in W"))] | None = None
    provisioning: (
        Annotated[
            float,
            Field(
                ge=0,
                le=_max("supply.provisioning"),
                allow_inf_nan=False,
                description=_describe("supply.provisioning", "mean supply over the critical supply"),
            ),
        ]
        | None
    ) = None
    std_w: Annotated[Power, Field(description=_describe("power_w", "supply std in W"))] = 0.0
    phi: Annotated[float, Field(ge=0, lt=1)] = 0.0
    cloud_mean: Probability = 0.75
    cloud_std: Annotated[
        float,
        Field(
            ge=0,
            le=_max("supply.cloud_std"),
            allow_inf_nan=False,
            description=_describe("supply.cloud_std", "std of the cloud factor"),
        ),
    ] = 0.2
    trace: Annotated[str, Field(min_length=1, max_length=int(_max("supply.trace")))] | None = None
    trace_seconds_per_row: Annotated[
        float,
        Field(
            ge=_min("supply.trace_seconds_per_row"),
            le=_max("supply.trace_seconds_per_row"),
            allow_inf_nan=False,
            description=_describe("supply.trace_seconds_per_row", "seconds each trace row is held"),
        ),
    ] = 3600.0
    trace_start: TraceStartConfig | None = None
    forecast: ForecastConfig = ForecastConfig()

    @model_validator(mode="after")
    def _one_mean_and_trace_when_needed(self) -> SupplyConfig:
        if (self.mean_w is None) == (self.provisioning is None):
            raise ValueError("set exactly one of 'mean_w' and 'provisioning'")
        if self.kind == "trace" and self.trace is None:
            raise ValueError("kind 'trace' needs 'trace' (a shipped trace name or a CSV path)")
        if self.kind != "trace" and self.trace is not None:
            raise ValueError(f"'trace' is only used by kind 'trace', not {self.kind!r}")
        if self.kind != "trace" and self.trace_start is not None:
            raise ValueError(f"'trace_start' is only used by kind 'trace', not {self.kind!r}")
        return self


HourlyPrices = Annotated[list[HourlyPrice], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)]
HourlyCarbons = Annotated[list[HourlyCarbon], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)]


DEFAULT_PRICE_PER_KWH = 0.30
DEFAULT_CARBON_G_PER_KWH = 400.0


class GridTraceConfig(_Strict):
    """A measured series for the auxiliary energy's price or carbon intensity (docs/model.md section 3.1):
    ``trace`` is a shipped name (``lrm_gym/scenarios/data/<name>.csv``) or a CSV path; ``start`` where an
    episode's window may start."""

    trace: Annotated[
        str,
        Field(
            min_length=1,
            max_length=int(_max("auxiliary.trace")),
            description=_describe("auxiliary.trace", "a shipped trace name or a CSV path"),
        ),
    ]
    start: TraceStartConfig = TraceStartConfig()


class AuxiliaryConfig(_Strict):
    """Auxiliary energy: a flat value or a 24-entry hourly (time-of-use) schedule for each field, or a measured
    series per slot (``price_trace``, ``carbon_trace``), which then replaces the field at its default value."""

    price_per_kwh: Annotated[
        HourlyPrice | HourlyPrices,
        Field(description=_describe("auxiliary.price_per_kwh", "price per kWh, flat or 24 hourly values")),
    ] = DEFAULT_PRICE_PER_KWH
    carbon_g_per_kwh: Annotated[
        HourlyCarbon | HourlyCarbons,
        Field(description=_describe("auxiliary.carbon_g_per_kwh", "g CO2 per kWh, flat or 24 hourly values")),
    ] = DEFAULT_CARBON_G_PER_KWH
    price_trace: GridTraceConfig | None = None
    carbon_trace: GridTraceConfig | None = None

    @model_validator(mode="after")
    def _trace_or_schedule(self) -> AuxiliaryConfig:
        # A trace replaces the schedule: a schedule other than the default would be ignored, so it is refused
        # (the default is accepted, so that a dumped config validates again).
        if self.price_trace is not None and self.price_per_kwh != DEFAULT_PRICE_PER_KWH:
            raise ValueError("set either 'price_per_kwh' or 'price_trace', not both")
        if self.carbon_trace is not None and self.carbon_g_per_kwh != DEFAULT_CARBON_G_PER_KWH:
            raise ValueError("set either 'carbon_g_per_kwh' or 'carbon_trace', not both")
        return self


class StorageConfig(_Strict):
    """Energy storage; ``capacity_wh: 0`` means none, ``null`` power limits mean unlimited."""

    capacity_wh: Annotated[
        float,
        Field(
            ge=0,
            le=_max("storage.capacity_wh"),
            allow_inf_nan=False,
            description=_describe("storage.capacity_wh", "capacity in Wh"),
        ),
    ] = 0.0
    initial_fraction: Probability = 0.5
    charge_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.95
    discharge_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.95
    max_charge_w: Annotated[Power, Field(description=_describe("power_w", "charge limit in W"))] | None = None
    max_discharge_w: Annotated[Power, Field(description=_describe("power_w", "discharge limit in W"))] | None = None


class ArrivalsConfig(_Strict):
    """Task arrivals per slot; ``profile`` is a relative daily shape, normalised to mean 1.

    The peak rate, ``rate_per_slot`` times the profile's largest entry over its mean, is bounded like
    ``rate_per_slot``. Kind ``trace`` replays the request trace ``trace`` thinned to the mean ``rate_per_slot``
    (docs/model.md section 5); the trace itself is read and checked when the parameters are built.
    """

    kind: ArrivalKind
    rate_per_slot: Annotated[
        float,
        Field(
            ge=_min("arrivals.rate_per_slot"),
            le=_max("arrivals.rate_per_slot"),
            allow_inf_nan=False,
            description=_describe("arrivals.rate_per_slot", "mean tasks per slot"),
        ),
    ]
    dispersion: (
        Annotated[
            float,
            Field(
                ge=_min("arrivals.dispersion"),
                le=_max("arrivals.dispersion"),
                allow_inf_nan=False,
                description=_describe("arrivals.dispersion", "negative-binomial dispersion"),
            ),
        ]
        | None
    ) = None
    profile: (
        Annotated[
            list[Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]],
            Field(
                min_length=1,
                max_length=int(_max("arrivals.profile")),
                description=_describe("arrivals.profile", "relative daily shape, entries at most 1e6"),
            ),
        ]
        | None
    ) = None

    trace: (
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=int(_max("trace")),
                description=_describe("trace", "request trace: a shipped name or a CSV path (kind 'trace' only)"),
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _dispersion_iff_negbin(self) -> ArrivalsConfig:
        if self.kind == "trace" and self.trace is None:
            raise ValueError(
                "kind 'trace' needs 'trace' (a shipped request trace such as 'azure-llm-2023-conv-requests', "
                "or a CSV path with an 'arrival_s' column)"
            )
        if self.kind != "trace" and self.trace is not None:
            raise ValueError(f"'trace' is only used by kind 'trace', not {self.kind!r}")
        if self.kind == "trace" and self.profile is not None:
            raise ValueError("kind 'trace' takes its shape over time from the trace: remove 'profile'")
        if self.kind == "negbin" and self.dispersion is None:
            raise ValueError("kind 'negbin' needs 'dispersion' (variance = mean + mean^2 / dispersion)")
        if self.kind != "negbin" and self.dispersion is not None:
            raise ValueError(f"'dispersion' is only used by kind 'negbin', not {self.kind!r}")
        if self.profile is not None:
            mean = sum(self.profile) / len(self.profile)
            if mean <= 0:
                raise ValueError("'profile' must have a positive mean")
            peak = self.rate_per_slot * max(self.profile) / mean
            if peak > _max("arrivals.rate_per_slot"):
                raise ValueError(
                    f"the peak rate rate_per_slot * max(profile) / mean(profile) = {peak:.4g} exceeds the limit "
                    f"{_max('arrivals.rate_per_slot'):g} ({LIMITS['arrivals.rate_per_slot'][1]})"
                )
        return self


class PromptTraceConfig(_Strict):
    """Prompt lengths drawn per task from a request trace's ``context_tokens`` column (docs/model.md section 6)."""

    trace: Annotated[
        str,
        Field(
            min_length=1,
            max_length=int(_max("trace")),
            description=_describe("trace", "request trace: a shipped name or a CSV path"),
        ),
    ]


class TaskClassConfig(_Strict):
    """A task class. ``difficulty`` is a fixed number of skills ``m`` or an inclusive range ``[lo, hi]``.

    ``prompt_tokens`` is a fixed prompt length or ``{trace: <request trace>}``: each task's prompt length is
    then drawn from the trace's measured context tokens.
    """

    name: Name
    weight: Annotated[
        float,
        Field(gt=0, le=_max("weight"), allow_inf_nan=False, description=_describe("weight", "relative frequency")),
    ]
    difficulty: Annotated[
        Difficulty | tuple[Difficulty, Difficulty],
        Field(description=_describe("difficulty", "skills m, fixed or an inclusive range [lo, hi]")),
    ]
    prompt_tokens: (
        Annotated[
            StrictInt,
            Field(ge=0, le=int(_max("prompt_tokens")), description=_describe("prompt_tokens", "prompt length")),
        ]
        | PromptTraceConfig
    ) = 0
    slack_slots: Annotated[
        StrictInt,
        Field(ge=0, le=int(_max("slack_slots")), description=_describe("slack_slots", "slots a task may wait")),
    ] = 0
    value: Annotated[
        float,
        Field(ge=0, le=_max("value"), allow_inf_nan=False, description=_describe("value", "reward per correct answer")),
    ] = 1.0

    @model_validator(mode="after")
    def _ordered_range(self) -> TaskClassConfig:
        if isinstance(self.difficulty, tuple) and self.difficulty[0] > self.difficulty[1]:
            raise ValueError(f"difficulty range {list(self.difficulty)} has lo > hi")
        return self


class TasksConfig(_Strict):
    classes: Annotated[
        list[TaskClassConfig],
        Field(
            min_length=1,
            max_length=int(_max("tasks.classes")),
            description=_describe("tasks.classes", "task classes"),
        ),
    ]

    @model_validator(mode="after")
    def _unique_names(self) -> TasksConfig:
        _require_unique([c.name for c in self.classes], "task class")
        return self


class MeasuredEnergyConfig(_Strict):
    """A configuration measured by ML.ENERGY v3 (``lrm_gym/scenarios/data/ml_energy_v3_catalogue.csv``): the
    model's energy per token is the one measured for ``model_id`` on ``num_gpus`` x ``gpu`` on ``task`` at
    batch size limit ``batch`` (``max_num_seqs``), and its batch curve is that configuration's (docs/model.md
    section 7)."""

    model_id: Annotated[str, Field(min_length=1, max_length=int(_max("name")), description="model_id in the catalogue")]
    gpu: Annotated[str, Field(min_length=1, max_length=int(_max("name")), description="gpu_model: B200 or H100")]
    num_gpus: Annotated[
        StrictInt,
        Field(
            ge=1, le=int(_max("measured_energy.num_gpus")), description=_describe("measured_energy.num_gpus", "GPUs")
        ),
    ] = 1
    task: Literal["gpqa", "lm-arena-chat", "sourcegraph-fim"] = "gpqa"
    batch: Annotated[
        StrictInt,
        Field(
            ge=1,
            le=int(_max("measured_energy.batch")),
            description=_describe("measured_energy.batch", "the measured max_num_seqs whose energy per token is used"),
        ),
    ]

    replicas: Annotated[
        StrictInt,
        Field(
            ge=1,
            le=int(_max("measured_energy.replicas")),
            description=_describe(
                "measured_energy.replicas",
                "identical replicas of the configuration serving this model; with task_energy 'batch' a slot's "
                "tasks are spread evenly over them",
            ),
        ),
    ] = 1

    @model_validator(mode="after")
    def _measured(self) -> MeasuredEnergyConfig:
        # read here, so that a configuration or batch that was never measured fails with its key path
        catalogue.measured_joules_per_token(self.model_id, self.gpu, self.num_gpus, self.task, self.batch)
        return self


class ModelConfig(_Strict):
    """An LRM. Capability and energy come from scaling laws unless given explicitly (or, for energy, measured)."""

    name: Name
    params: (
        Annotated[
            float,
            Field(
                ge=_min("params"),
                le=_max("params"),
                allow_inf_nan=False,
                description=_describe("params", "parameter count"),
            ),
        ]
        | None
    ) = None
    training_flops: (
        Annotated[
            float,
            Field(
                ge=_min("training_flops"),
                le=_max("training_flops"),
                allow_inf_nan=False,
                description=_describe("training_flops", "training compute in FLOPs"),
            ),
        ]
        | None
    ) = None
    tokens_per_step: Annotated[
        StrictInt,
        Field(ge=1, le=int(_max("tokens_per_step")), description=_describe("tokens_per_step", "tokens per step")),
    ]
    joules_per_token: (
        Annotated[
            float,
            Field(
                ge=_min("joules_per_token"),
                le=_max("joules_per_token"),
                allow_inf_nan=False,
                description=_describe("joules_per_token", "energy per token in J"),
            ),
        ]
        | None
    ) = None
    measured_energy: MeasuredEnergyConfig | None = None
    idle_w: Annotated[Power, Field(description=_describe("power_w", "idle power in W"))] = 0.0
    capacity_tokens_per_slot: (
        Annotated[
            StrictInt,
            Field(
                ge=1,
                le=int(_max("capacity_tokens_per_slot")),
                description=_describe("capacity_tokens_per_slot", "token capacity per slot"),
            ),
        ]
        | None
    ) = None
    step_success: (
        Annotated[
            float,
            Field(
                ge=_min("step_success"),
                le=1,
                allow_inf_nan=False,
                description=_describe("step_success", "per-step success probability r"),
            ),
        ]
        | None
    ) = None
    skill_coverage: Probability | None = None

    @model_validator(mode="after")
    def _size_or_explicit(self) -> ModelConfig:
        if self.params is not None and self.training_flops is not None:
            raise ValueError("set at most one of 'params' and 'training_flops'")
        if self.joules_per_token is not None and self.measured_energy is not None:
            raise ValueError("set at most one of 'joules_per_token' and 'measured_energy'")
        energy = self.joules_per_token if self.measured_energy is None else self.measured_energy
        explicit = (energy, self.step_success, self.skill_coverage)
        if self.params is None and self.training_flops is None and None in explicit:
            raise ValueError(
                "without 'params' or 'training_flops', give 'joules_per_token' (or 'measured_energy'), "
                "'step_success' and 'skill_coverage' explicitly"
            )
        return self


class BudgetConfig(_Strict):
    """An execution choice: a cap ``max_steps`` on reasoning steps."""

    name: Name
    max_steps: Annotated[
        StrictInt,
        Field(ge=1, le=int(_max("max_steps")), description=_describe("max_steps", "cap on reasoning steps")),
    ]


class RewardConfig(_Strict):
    """Reward weights. Quality is ``value`` per correct answer (``sampled``) or times P(correct).

    ``carbon_per_kg`` (per kg CO2 of auxiliary energy) and ``price_weight`` (per unit of money spent on it,
    ``info["auxiliary_cost"]``) add to the auxiliary penalty at the slot's carbon intensity and price.
    """

    auxiliary_per_kwh: RewardWeight = 0.0
    carbon_per_kg: RewardWeight = 0.0
    price_weight: RewardWeight = 0.0
    waste_per_kwh: RewardWeight = 0.0
    waiting_per_task: RewardWeight = 0.0
    drop: RewardWeight = 0.0
    quality: Literal["sampled", "expected"] = "sampled"


class ObservationConfig(_Strict):
    """What the router sees: ``difficulty_noise`` is the std of the estimate, ``difficulty_visible`` hides it."""

    queue_preview: Annotated[StrictInt, Field(ge=0, le=64)] = 4
    difficulty_noise: Annotated[
        float,
        Field(
            ge=0,
            le=_max("observation.difficulty_noise"),
            allow_inf_nan=False,
            description=_describe("observation.difficulty_noise", "std of the difficulty estimate"),
        ),
    ] = 0.0
    difficulty_visible: bool = True


class QueueConfig(_Strict):
    capacity: Annotated[
        StrictInt,
        Field(ge=1, le=int(_max("queue.capacity")), description=_describe("queue.capacity", "tasks the queue holds")),
    ] = 256


class OptionRef(_Strict):
    model: str
    budget: str


class ReferencePolicyConfig(_Strict):
    """Static rule that defines the critical supply used by ``provisioning``.

    ``accuracy_target``: per task class and difficulty, the cheapest option whose P(correct) meets
    ``target`` (the most accurate option when none does). ``fixed``: always ``option``.
    """

    kind: Literal["accuracy_target", "fixed"] = "accuracy_target"
    target: Annotated[float, Field(gt=0, le=1)] = 0.7
    option: OptionRef | None = None

    @model_validator(mode="after")
    def _option_iff_fixed(self) -> ReferencePolicyConfig:
        if self.kind == "fixed" and self.option is None:
            raise ValueError("kind 'fixed' needs 'option: {model, budget}'")
        return self


class ScenarioConfig(_Strict):
    """A whole scenario file."""

    description: Annotated[str, Field(max_length=int(_max("description")))] = ""
    slot_seconds: Annotated[
        float,
        Field(
            ge=_min("slot_seconds"),
            le=_max("slot_seconds"),
            allow_inf_nan=False,
            description=_describe("slot_seconds", "slot length in seconds"),
        ),
    ]
    horizon_slots: Annotated[
        StrictInt,
        Field(ge=1, le=int(_max("horizon_slots")), description=_describe("horizon_slots", "slots per episode")),
    ]
    start_hour: Annotated[float, Field(ge=0, lt=24)] = 0.0
    supply: SupplyConfig
    auxiliary: AuxiliaryConfig = AuxiliaryConfig()
    storage: StorageConfig = StorageConfig()
    arrivals: ArrivalsConfig
    tasks: TasksConfig
    models: Annotated[
        list[ModelConfig],
        Field(min_length=1, max_length=int(_max("models")), description=_describe("models", "the model catalog")),
    ]
    budgets: Annotated[
        list[BudgetConfig],
        Field(min_length=1, max_length=int(_max("budgets")), description=_describe("budgets", "execution choices")),
    ]
    reward: RewardConfig = RewardConfig()
    observation: ObservationConfig = ObservationConfig()
    queue: QueueConfig = QueueConfig()
    reference_policy: ReferencePolicyConfig = ReferencePolicyConfig()
    task_energy: Literal["additive", "batch"] = "additive"
    """How a slot's task energy is accounted (docs/model.md section 10): ``additive`` (default) sums each
    task's tokens times its model's fixed J/token; ``batch`` charges each model, at the slot's close, the tokens
    it served times the J/token of its measured batch curve at the number of tasks it served in the slot."""

    @model_validator(mode="after")
    def _batch_energy_is_measured(self) -> ScenarioConfig:
        if self.task_energy == "batch":
            unmeasured = [m.name for m in self.models if m.measured_energy is None]
            if unmeasured:
                raise ValueError(
                    f"task_energy 'batch' needs a batch curve for every model: give 'measured_energy' (a "
                    f"configuration of the ML.ENERGY catalogue) to the models {unmeasured}"
                )
        return self

    @model_validator(mode="after")
    def _names_resolve(self) -> ScenarioConfig:
        _require_unique([m.name for m in self.models], "model")
        _require_unique([b.name for b in self.budgets], "budget")
        option = self.reference_policy.option
        if option is not None:
            if option.model not in {m.name for m in self.models}:
                raise ValueError(f"reference_policy.option.model {option.model!r} is not a model name")
            if option.budget not in {b.name for b in self.budgets}:
                raise ValueError(f"reference_policy.option.budget {option.budget!r} is not a budget name")
        return self

    @model_validator(mode="after")
    def _tables_fit(self) -> ScenarioConfig:
        """The per-scenario tables grow with products of sizes that are each bounded: bound the products too."""
        limit = int(_max("tables"))
        n_models, n_budgets, n_classes = len(self.models), len(self.budgets), len(self.tasks.classes)
        max_difficulty = max(
            c.difficulty if isinstance(c.difficulty, int) else c.difficulty[1] for c in self.tasks.classes
        )
        max_steps = max(b.max_steps for b in self.budgets)
        step_cells = n_models * n_budgets * (max_difficulty + 1) * (max_steps + 1)
        if step_cells > limit:
            raise ValueError(
                f"budgets.max_steps, tasks.classes.difficulty: the step table ({n_models} models x {n_budgets} "
                f"budgets x difficulty 0..{max_difficulty} x steps 0..{max_steps} = {step_cells:.3g} cells) "
                f"exceeds the limit {limit:g} ({LIMITS['tables'][1]})"
            )
        n_options = n_models * n_budgets
        option_cells = n_classes * (max_difficulty + 2) * (n_classes + 4 + 5 * n_options)
        if option_cells > limit:
            raise ValueError(
                f"tasks.classes, tasks.classes.difficulty, models, budgets: the option tables ({n_classes} classes x "
                f"difficulty 0..{max_difficulty + 1} x {n_options} options = {option_cells:.3g} cells) exceed the "
                f"limit {limit:g} ({LIMITS['tables'][1]})"
            )
        return self


def _require_unique(names: list[str], what: str) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate {what} names: {duplicates}")
