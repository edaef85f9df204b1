"""Benchmark suites: the YAML files under ``configs/suites/`` parsed and validated into a :class:`Suite`.

The file's shape is the pydantic model :class:`SuiteFile`; every model forbids unknown keys, so a typo fails
with its key path (``suite x.yaml: learned[0].n_timesteps: ...``) instead of being ignored. What needs a
policy, an algorithm or an env (policy names, hyperparameters, env overrides) is checked afterwards by
:func:`agents.benchmark.runs.validate`, still before any run starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictInt, StrictStr, Tag, computed_field

from agents.paths import SUITE_DIR

SEED_LIMIT = 2**32
"""Seeds are non-negative integers below this (what numpy's and the env's seeding accept)."""

Seed = Annotated[StrictInt, Field(ge=0, lt=SEED_LIMIT)]
PositiveInt = Annotated[StrictInt, Field(ge=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
Label = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
EnvLevel = Literal["task", "dispatch"]
"""Which env of a scenario a policy acts on: ``task``, the per-task ``lrm_gym/EnergyRouting`` env (one decision
per task), or ``dispatch``, the slot-level ``lrm_gym/EnergyDispatch`` env (one action per slot, docs/model.md
section 18). Both play the same exogenous episode for the same seed, so their returns compare."""
"""Policy labels name learned runs' folders (``<out>/runs/<label>/...``): letters, digits, ``.``, ``_``, ``-``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _shorthand(data: Any, key: str) -> Any:
    """A bare string entry means ``{key: string}``; a mapping without ``label`` is labelled by ``key``."""
    if isinstance(data, str):
        return {key: data, "label": data}
    if isinstance(data, dict) and "label" not in data and isinstance(data.get(key), str):
        return {**data, "label": data[key]}
    return data


def applies(subset: tuple[str, ...] | None, scenario: str) -> bool:
    """Whether an entry restricted to ``subset`` (``None``: every scenario) runs on ``scenario``."""
    return subset is None or scenario in subset


class ScenarioEntry(_Strict):
    """A shipped scenario, by name, with optional env overrides (for training and evaluation)."""

    name: StrictStr
    overrides: dict[str, Any] = {}

    @pydantic.model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    @pydantic.field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        from lrm_gym.registration import SCENARIO_IDS

        if name not in SCENARIO_IDS:
            raise ValueError(f"unknown scenario {name!r}; known: {sorted(SCENARIO_IDS)}")
        return name

    @computed_field  # type: ignore[prop-decorator]
    @property
    def env_id(self) -> str:
        from lrm_gym.registration import env_id

        return env_id(self.name)

    def env_id_for(self, env: EnvLevel) -> str:
        """The scenario's per-task id (``task``) or slot-level id (``dispatch``)."""
        from lrm_gym.registration import dispatch_env_id

        return self.env_id if env == "task" else dispatch_env_id(self.name)


class AnalyticEntry(_Strict):
    """An analytic policy (``agents.policies.analytic.POLICIES``) with its parameters."""

    label: Label
    policy: StrictStr
    params: dict[str, Any] = {}
    env: EnvLevel = "task"  # dispatch: the policy's slot form (agents.policies.slot) on the slot-level env

    @pydantic.model_validator(mode="before")
    @classmethod
    def _from_policy(cls, data: Any) -> Any:
        return _shorthand(data, "policy")


class LearnedEntry(_Strict):
    """A learned agent: one training run per seed, then evaluated like the analytic policies."""

    label: Label
    algo: StrictStr
    n_timesteps: PositiveInt
    seeds: tuple[Seed, ...] = (0,)
    eval_freq: NonNegativeInt = 10_000  # validation every this many steps; 0: none (no learning curve)
    eval_episodes: PositiveInt = 3
    hyperparams: dict[str, Any] = {}
    conf_file: StrictStr | None = None
    scenarios: tuple[StrictStr, ...] | None = None  # only these of the suite's scenarios (default: all)
    backend: Literal["sb3", "rllib"] = "sb3"  # training library (agents/training/rllib.py for rllib)
    model: Literal["last", "best"] = "last"  # sb3: evaluate the final model or the callback's best_model.zip
    env: EnvLevel = "task"  # dispatch: train and evaluate on the slot-level env (configs/<algo>.yml's entry)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _label(cls, data: Any) -> Any:
        return data if isinstance(data, str) else _shorthand(data, "algo")

    @pydantic.field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: tuple[int, ...]) -> tuple[int, ...]:
        return _seed_list(seeds, "training seeds")

    @pydantic.model_validator(mode="after")
    def _dispatch_with_sb3(self) -> LearnedEntry:
        if self.env == "dispatch" and self.backend != "sb3":
            raise ValueError("env: dispatch trains with backend sb3 (the RLlib backend runs the per-task envs)")
        return self


class HeadroomEntry(_Strict):
    """The hindsight optimum of every scenario's evaluation episodes (agents/headroom, docs/headroom.md): one
    ``optimum`` run per scenario and information line, and each policy's gap to it in the report."""

    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 60.0  # per HiGHS solve
    branch_and_bound: bool = False  # after relaxation, rounding and fix-and-branch, a full branch and bound
    information: tuple[Literal["hindsight", "expected"], ...] = ("hindsight",)
    scenarios: tuple[StrictStr, ...] | None = None  # only these of the suite's scenarios (default: all)

    @pydantic.field_validator("information")
    @classmethod
    def _hindsight_first(cls, lines: tuple[str, ...]) -> tuple[str, ...]:
        _distinct(lines, "information lines")
        if "hindsight" not in lines:
            raise ValueError("the gaps are to the hindsight optimum: 'hindsight' must be one of the lines")
        return lines


RESERVED_LABELS = ("hindsight-optimum", "expected-optimum")
"""Labels of the optimum runs; no policy may take them."""


class SeedRange(_Strict):
    """``{start, count}``: the seeds ``start, start + 1, ..., start + count - 1``."""

    start: Seed
    count: PositiveInt

    @pydantic.model_validator(mode="after")
    def _below_limit(self) -> SeedRange:
        if self.start + self.count > SEED_LIMIT:
            raise ValueError(f"start + count must be at most 2**32 = {SEED_LIMIT}, got {self.start + self.count}")
        return self

    def seeds(self) -> tuple[int, ...]:
        return tuple(range(self.start, self.start + self.count))


_RANGE, _LIST = "seed range", "seed list"
"""The two forms of ``eval.seeds`` (pydantic tags, left out of key paths)."""


def _seeds_form(value: Any) -> str:
    return _RANGE if isinstance(value, dict) else _LIST


class EvalConfig(_Strict):
    """The evaluation episodes' seeds, the same for every policy: a list or a ``{start, count}`` range."""

    seeds: Annotated[
        Annotated[SeedRange, Tag(_RANGE)] | Annotated[tuple[Seed, ...], Tag(_LIST)],
        Discriminator(_seeds_form),
    ] = SeedRange(start=1_000_000, count=10)

    @pydantic.field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: SeedRange | tuple[int, ...]) -> SeedRange | tuple[int, ...]:
        return seeds if isinstance(seeds, SeedRange) else _seed_list(seeds, "evaluation seeds")

    def seed_tuple(self) -> tuple[int, ...]:
        return self.seeds.seeds() if isinstance(self.seeds, SeedRange) else self.seeds


class SuiteFile(_Strict):
    """The keys of a suite file."""

    name: StrictStr | None = None  # default: the file's stem
    description: StrictStr = ""
    eval: EvalConfig = EvalConfig()
    scenarios: Annotated[list[ScenarioEntry], Field(min_length=1)]
    analytic: list[AnalyticEntry] = []
    learned: list[LearnedEntry] = []
    headroom: HeadroomEntry | None = None  # absent: no optimum, no gap columns

    @pydantic.model_validator(mode="after")
    def _distinct_names(self) -> SuiteFile:
        _distinct([s.name for s in self.scenarios], "scenario names (merge their overrides into one entry)")
        labels = [e.label for e in self.analytic] + [e.label for e in self.learned]
        if not labels:
            raise ValueError("no analytic or learned policies")
        _distinct(labels, "policy labels; give entries a distinct 'label'")
        names = {s.name for s in self.scenarios}
        subsets = [(f"learned[{i}]", e.scenarios) for i, e in enumerate(self.learned)]
        subsets.append(("headroom", self.headroom.scenarios if self.headroom else None))
        for where, subset in subsets:
            unknown = sorted(set(subset or ()) - names)
            if unknown:
                raise ValueError(f"{where}.scenarios: {unknown} are not scenarios of this suite {sorted(names)}")
        reserved = sorted(set(labels) & set(RESERVED_LABELS))
        if reserved:
            raise ValueError(f"labels {reserved} are reserved for the optimum runs; choose another 'label'")
        return self


class Suite(_Strict):
    """A parsed suite file."""

    name: str
    description: str
    eval_seeds: tuple[int, ...]
    scenarios: tuple[ScenarioEntry, ...]
    analytic: tuple[AnalyticEntry, ...]
    learned: tuple[LearnedEntry, ...]
    source: str
    headroom: HeadroomEntry | None = None


def suite_path(suite: str | Path) -> Path:
    """``quick`` / ``full`` -> ``configs/suites/<name>.yaml``; anything else is a path."""
    candidate = SUITE_DIR / f"{suite}.yaml"
    return candidate if candidate.is_file() and "/" not in str(suite) else Path(suite)


def load_suite(suite: str | Path) -> Suite:
    """Read and validate a suite; every problem is a ``ValueError`` naming the file and the key path."""
    path = suite_path(suite)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"cannot read suite file {path} (suites: {available_suites()}): {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"suite {path} must be a mapping with scenarios, analytic, learned and eval")
    try:
        parsed = SuiteFile.model_validate(data)
    except pydantic.ValidationError as err:
        raise ValueError(f"suite {path}: {format_errors(err)}") from None
    return Suite(
        name=parsed.name if parsed.name is not None else path.stem,
        description=parsed.description.strip(),
        eval_seeds=parsed.eval.seed_tuple(),
        scenarios=tuple(parsed.scenarios),
        analytic=tuple(parsed.analytic),
        learned=tuple(parsed.learned),
        source=str(path),
        headroom=parsed.headroom,
    )


def format_errors(err: pydantic.ValidationError) -> str:
    """Every problem as ``key.path[index].key: message (got value)``, separated by ``; ``."""
    return "; ".join(f"{key_path(problem['loc'])}: {_message(problem)}" for problem in err.errors())


def key_path(loc: tuple[int | str, ...]) -> str:
    """``("learned", 0, "n_timesteps")`` -> ``learned[0].n_timesteps`` (the top level is ``<top level>``)."""
    text = ""
    for part in loc:
        if part in (_RANGE, _LIST):
            continue
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "<top level>"


def _message(problem: Any) -> str:
    message = str(problem["msg"]).removeprefix("Value error, ")
    if problem["type"] == "tuple_type":  # YAML has lists, not tuples
        message = message.replace("tuple", "list")
    if problem["type"] in ("missing", "extra_forbidden"):
        return message.lower()
    return f"{message[:1].lower()}{message[1:]} (got {problem.get('input')!r})"


def available_suites() -> list[str]:
    return sorted(p.stem for p in SUITE_DIR.glob("*.yaml"))


def _seed_list(seeds: tuple[int, ...], what: str) -> tuple[int, ...]:
    """``seeds`` if there is at least one and none twice (the same episode twice would count double)."""
    if not seeds:
        raise ValueError(f"no {what}: give at least one")
    return _distinct(seeds, what)


def _distinct(values: Any, what: str) -> Any:
    """``values`` if none is repeated, else a ``ValueError`` naming ``what`` and the repeated ones."""
    duplicates = sorted({v for v in values if list(values).count(v) > 1})
    if duplicates:
        raise ValueError(f"duplicate {what}: {duplicates}")
    return values
