"""Pydantic v2 schema of a scenario file (docs/model.md section 15).

Every model is frozen and forbids unknown keys, so a typo in a YAML file or an ``overrides`` dict fails
loudly with the key path instead of being ignored. Range checks live in the field declarations; the few
checks that involve several fields are model validators.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from lrm_gym.core.kinds import ArrivalKind, SupplyKind

HOURS_PER_DAY = 24

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PositiveInt = Annotated[StrictInt, Field(ge=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
HourlySchedule = Annotated[list[NonNegative], Field(min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForecastConfig(_Strict):
    """Forecast of the next ``horizon`` slots of baseline supply.

    ``noise`` is the standard deviation of an additive Gaussian error, relative to the mean supply
    (0 = perfect forecast).
    """

    horizon: Annotated[StrictInt, Field(ge=0, le=256)] = 0
    noise: NonNegative = 0.0


class SupplyConfig(_Strict):
    """Baseline supply process. Exactly one of ``mean_w`` and ``provisioning`` sets its mean."""

    kind: SupplyKind
    mean_w: NonNegative | None = None
    provisioning: NonNegative | None = None
    std_w: NonNegative = 0.0
    phi: Annotated[float, Field(ge=0, lt=1)] = 0.0
    cloud_mean: Probability = 0.75
    cloud_std: NonNegative = 0.2
    trace: str | None = None
    trace_seconds_per_row: Positive = 3600.0
    forecast: ForecastConfig = ForecastConfig()

    @model_validator(mode="after")
    def _one_mean_and_trace_when_needed(self) -> SupplyConfig:
        if (self.mean_w is None) == (self.provisioning is None):
            raise ValueError("set exactly one of 'mean_w' and 'provisioning'")
        if self.kind == "trace" and self.trace is None:
            raise ValueError("kind 'trace' needs 'trace' (a shipped trace name or a CSV path)")
        if self.kind != "trace" and self.trace is not None:
            raise ValueError(f"'trace' is only used by kind 'trace', not {self.kind!r}")
        return self


class AuxiliaryConfig(_Strict):
    """Auxiliary energy: a flat value or a 24-entry hourly (time-of-use) schedule for each field."""

    price_per_kwh: NonNegative | HourlySchedule = 0.30
    carbon_g_per_kwh: NonNegative | HourlySchedule = 400.0


class StorageConfig(_Strict):
    """Energy storage; ``capacity_wh: 0`` means none, ``null`` power limits mean unlimited."""

    capacity_wh: NonNegative = 0.0
    initial_fraction: Probability = 0.5
    charge_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.95
    discharge_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.95
    max_charge_w: NonNegative | None = None
    max_discharge_w: NonNegative | None = None


class ArrivalsConfig(_Strict):
    """Task arrivals per slot; ``profile`` is a relative daily shape, normalised to mean 1."""

    kind: ArrivalKind
    rate_per_slot: Positive
    dispersion: Positive | None = None
    profile: Annotated[list[NonNegative], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _dispersion_iff_negbin(self) -> ArrivalsConfig:
        if self.kind == "negbin" and self.dispersion is None:
            raise ValueError("kind 'negbin' needs 'dispersion' (variance = mean + mean^2 / dispersion)")
        if self.kind != "negbin" and self.dispersion is not None:
            raise ValueError(f"'dispersion' is only used by kind 'negbin', not {self.kind!r}")
        if self.profile is not None and sum(self.profile) <= 0:
            raise ValueError("'profile' must have a positive mean")
        return self


class TaskClassConfig(_Strict):
    """A task class. ``difficulty`` is a fixed number of skills ``m`` or an inclusive range ``[lo, hi]``."""

    name: str
    weight: Positive
    difficulty: PositiveInt | tuple[PositiveInt, PositiveInt]
    prompt_tokens: NonNegativeInt = 0
    slack_slots: NonNegativeInt = 0
    value: NonNegative = 1.0

    @model_validator(mode="after")
    def _ordered_range(self) -> TaskClassConfig:
        if isinstance(self.difficulty, tuple) and self.difficulty[0] > self.difficulty[1]:
            raise ValueError(f"difficulty range {list(self.difficulty)} has lo > hi")
        return self


class TasksConfig(_Strict):
    classes: Annotated[list[TaskClassConfig], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_names(self) -> TasksConfig:
        _require_unique([c.name for c in self.classes], "task class")
        return self


class ModelConfig(_Strict):
    """An LRM. Capability and energy come from scaling laws unless given explicitly."""

    name: str
    params: Positive | None = None
    training_flops: Positive | None = None
    tokens_per_step: PositiveInt
    joules_per_token: Positive | None = None
    idle_w: NonNegative = 0.0
    capacity_tokens_per_slot: PositiveInt | None = None
    step_success: Annotated[float, Field(gt=0, le=1)] | None = None
    skill_coverage: Probability | None = None

    @model_validator(mode="after")
    def _size_or_explicit(self) -> ModelConfig:
        if self.params is not None and self.training_flops is not None:
            raise ValueError("set at most one of 'params' and 'training_flops'")
        explicit = (self.joules_per_token, self.step_success, self.skill_coverage)
        if self.params is None and self.training_flops is None and None in explicit:
            raise ValueError(
                "without 'params' or 'training_flops', give 'joules_per_token', 'step_success' "
                "and 'skill_coverage' explicitly"
            )
        return self


class BudgetConfig(_Strict):
    """An execution choice: a cap ``max_steps`` on reasoning steps."""

    name: str
    max_steps: PositiveInt


class RewardConfig(_Strict):
    """Reward weights. Quality is ``value`` per correct answer (``sampled``) or times P(correct)."""

    auxiliary_per_kwh: NonNegative = 0.0
    waste_per_kwh: NonNegative = 0.0
    waiting_per_task: NonNegative = 0.0
    drop: NonNegative = 0.0
    quality: Literal["sampled", "expected"] = "sampled"


class ObservationConfig(_Strict):
    """What the router sees: ``difficulty_noise`` is the std of the estimate, ``difficulty_visible`` hides it."""

    queue_preview: Annotated[StrictInt, Field(ge=0, le=64)] = 4
    difficulty_noise: NonNegative = 0.0
    difficulty_visible: bool = True


class QueueConfig(_Strict):
    capacity: PositiveInt = 256


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

    description: str = ""
    slot_seconds: Positive
    horizon_slots: PositiveInt
    start_hour: Annotated[float, Field(ge=0, lt=24)] = 0.0
    supply: SupplyConfig
    auxiliary: AuxiliaryConfig = AuxiliaryConfig()
    storage: StorageConfig = StorageConfig()
    arrivals: ArrivalsConfig
    tasks: TasksConfig
    models: Annotated[list[ModelConfig], Field(min_length=1)]
    budgets: Annotated[list[BudgetConfig], Field(min_length=1)]
    reward: RewardConfig = RewardConfig()
    observation: ObservationConfig = ObservationConfig()
    queue: QueueConfig = QueueConfig()
    reference_policy: ReferencePolicyConfig = ReferencePolicyConfig()

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


def _require_unique(names: list[str], what: str) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate {what} names: {duplicates}")
