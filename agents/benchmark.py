"""The benchmark protocol: analytic and learned routers, one evaluation code path, statistics with CIs.

A suite file (``configs/suites/*.yaml``) lists scenarios (with env overrides applied to training *and*
evaluation envs), analytic policies with parameters, learned algorithms with budgets and training seeds,
and the evaluation seeds. :func:`plan` turns it into independent :class:`RunSpec` s (scenario x policy x
training seed), validated before anything runs; an executor (:mod:`agents.executors`) maps
:func:`execute_run` over them; :func:`aggregate` computes per (scenario, policy) the mean and a 95%
Student-t confidence interval of each metric, and :mod:`agents.report` writes tables and plots.

Protocol. Every policy is scored by :func:`agents.evaluation.evaluate` on a fresh evaluation env, one
episode per evaluation seed, the same seeds for every policy, deterministic actions. A learned agent is
trained on its own env (training seeds ``s, s+1, ...`` per parallel env) and validated during training on
another env (seed ``s + 10_000``, for the learning curves); then the final model (or, with ``model: best``,
the callback's best checkpoint) is reloaded from disk and evaluated like an analytic policy. The spread of a
learned policy is across training seeds (each seed's value is its mean over the evaluation episodes); of an
analytic policy, across evaluation episodes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from agents.evaluation import METRICS, EpisodeMetrics, evaluate, make_eval_env

SUITE_DIR = Path(__file__).resolve().parent.parent / "configs" / "suites"
CONFIDENCE = 0.95
TRAJECTORY_KEYS = ("baseline_j", "demand_j", "auxiliary_j", "waste_j", "charge_j", "discharge_j")


# --------------------------------------------------------------------------------------------------------
# Suites


@dataclass(frozen=True)
class ScenarioEntry:
    name: str
    env_id: str
    overrides: dict[str, Any]


@dataclass(frozen=True)
class AnalyticEntry:
    label: str
    policy: str
    params: dict[str, Any]


@dataclass(frozen=True)
class LearnedEntry:
    label: str
    algo: str
    n_timesteps: int
    seeds: tuple[int, ...]
    eval_freq: int
    eval_episodes: int
    hyperparams: dict[str, Any]
    conf_file: str | None
    backend: str = "sb3"  # training library: "sb3" or "rllib" (agents/rllib_backend.py)
    model: Literal["last", "best"] = "last"  # sb3: evaluate the final model or the callback's best_model.zip


LEARNED_BACKENDS = ("sb3", "rllib")


@dataclass(frozen=True)
class Suite:
    """A parsed suite file."""

    name: str
    description: str
    eval_seeds: tuple[int, ...]
    scenarios: tuple[ScenarioEntry, ...]
    analytic: tuple[AnalyticEntry, ...]
    learned: tuple[LearnedEntry, ...]
    source: str


def suite_path(suite: str | Path) -> Path:
    """``quick`` / ``full`` -> ``configs/suites/<name>.yaml``; anything else is a path."""
    candidate = SUITE_DIR / f"{suite}.yaml"
    return candidate if candidate.is_file() and "/" not in str(suite) else Path(suite)


def load_suite(suite: str | Path) -> Suite:
    """Read and validate a suite; every problem is a ``ValueError`` naming the file and the entry."""
    from lrm_gym.registration import SCENARIO_IDS, env_id

    path = suite_path(suite)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"cannot read suite file {path} (suites: {available_suites()}): {err}") from err
    where = str(path)
    if not isinstance(data, dict):
        raise ValueError(f"suite {where} must be a mapping with scenarios, analytic, learned and eval")
    unknown = sorted(set(data) - {"name", "description", "eval", "scenarios", "analytic", "learned"})
    if unknown:
        raise ValueError(f"suite {where}: unknown top-level keys {unknown}")

    eval_cfg = _mapping(data.get("eval", {}), f"{where}: eval")
    seeds = eval_cfg.get("seeds", {"start": 1_000_000, "count": 10})
    if isinstance(seeds, dict):
        eval_seeds = tuple(range(int(seeds["start"]), int(seeds["start"]) + int(seeds["count"])))
    else:
        eval_seeds = tuple(int(s) for s in seeds)
    if not eval_seeds:
        raise ValueError(f"suite {where}: eval.seeds is empty")

    scenarios = []
    for item in _list(data.get("scenarios"), f"{where}: scenarios"):
        item = {"name": item} if isinstance(item, str) else _mapping(item, f"{where}: scenarios entry")
        name = str(item.get("name"))
        if name not in SCENARIO_IDS:
            raise ValueError(f"suite {where}: unknown scenario {name!r}; known: {sorted(SCENARIO_IDS)}")
        scenarios.append(ScenarioEntry(name, env_id(name), dict(item.get("overrides") or {})))
    if not scenarios:
        raise ValueError(f"suite {where}: no scenarios")

    analytic = []
    for item in _list(data.get("analytic", []), f"{where}: analytic"):
        item = {"policy": item} if isinstance(item, str) else _mapping(item, f"{where}: analytic entry")
        policy = str(item.get("policy"))
        params = dict(item.get("params") or {})
        analytic.append(AnalyticEntry(str(item.get("label", policy)), policy, params))

    learned = []
    for item in _list(data.get("learned", []), f"{where}: learned"):
        item = _mapping(item, f"{where}: learned entry")
        algo = str(item.get("algo"))
        model = item.get("model", "last")
        if model not in ("last", "best"):
            raise ValueError(f"suite {where}: learned entry {algo}: model must be 'last' or 'best', got {model!r}")
        try:
            learned.append(
                LearnedEntry(
                    label=str(item.get("label", algo)),
                    algo=algo,
                    n_timesteps=int(item["n_timesteps"]),
                    seeds=tuple(int(s) for s in item.get("seeds", [0])),
                    eval_freq=int(item.get("eval_freq", 10_000)),
                    eval_episodes=int(item.get("eval_episodes", 3)),
                    hyperparams=dict(item.get("hyperparams") or {}),
                    conf_file=item.get("conf_file"),
                    backend=str(item.get("backend", "sb3")),
                    model=model,
                )
            )
            if learned[-1].backend not in LEARNED_BACKENDS:
                raise ValueError(f"backend must be one of {list(LEARNED_BACKENDS)}")
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"suite {where}: learned entry {item}: {err!r}") from err
    labels = [e.label for e in analytic] + [e.label for e in learned]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ValueError(f"suite {where}: duplicate policy labels {duplicates}; give entries a distinct 'label'")
    if not labels:
        raise ValueError(f"suite {where}: no analytic or learned policies")
    return Suite(
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", "")).strip(),
        eval_seeds=eval_seeds,
        scenarios=tuple(scenarios),
        analytic=tuple(analytic),
        learned=tuple(learned),
        source=where,
    )


def available_suites() -> list[str]:
    return sorted(p.stem for p in SUITE_DIR.glob("*.yaml"))


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a mapping, got {value!r}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list, got {value!r}")
    return value


# --------------------------------------------------------------------------------------------------------
# Runs


@dataclass(frozen=True)
class RunSpec:
    """One independent unit of work: evaluate an analytic policy, or train then evaluate a learned one.

    Picklable (plain data only), so any executor can ship it to another process or machine.
    """

    kind: Literal["analytic", "learned"]
    scenario: str
    env_id: str
    overrides: dict[str, Any]
    label: str
    eval_seeds: tuple[int, ...]
    policy: str | None = None  # analytic: kebab-case name in agents.analytic.POLICIES
    params: dict[str, Any] = field(default_factory=dict)
    algo: str | None = None  # learned
    train_seed: int | None = None
    n_timesteps: int = 0
    eval_freq: int = 0
    eval_episodes: int = 0
    hyperparams: dict[str, Any] = field(default_factory=dict)
    conf_file: str | None = None
    run_dir: str | None = None  # learned: where the training run folder goes
    backend: str = "sb3"  # learned: training library, "sb3" or "rllib"
    model: Literal["last", "best"] = "last"  # learned (sb3): evaluate the final model or the callback's best

    @property
    def name(self) -> str:
        seed = "" if self.train_seed is None else f" seed {self.train_seed}"
        return f"{self.scenario} / {self.label}{seed}"


@dataclass(frozen=True)
class RunResult:
    """What a run returns: its episodes, and for learned runs the training curve and model folder."""

    spec: RunSpec
    episodes: tuple[dict[str, float | int], ...]
    trajectory: dict[str, list[float]]  # per closed slot, of the first evaluation episode
    wall_seconds: float
    curve_timesteps: tuple[int, ...] = ()
    curve_returns: tuple[float, ...] = ()  # mean over the callback's validation episodes
    model_path: str | None = None


def plan(suite: Suite, out_dir: str | Path) -> list[RunSpec]:
    """Every run of the suite, learned (long) runs first so that the pool ends with short ones."""
    runs: list[RunSpec] = []
    for scenario in suite.scenarios:
        for entry in suite.learned:
            for seed in entry.seeds:
                runs.append(
                    RunSpec(
                        kind="learned",
                        scenario=scenario.name,
                        env_id=scenario.env_id,
                        overrides=scenario.overrides,
                        label=entry.label,
                        eval_seeds=suite.eval_seeds,
                        algo=entry.algo,
                        train_seed=seed,
                        n_timesteps=entry.n_timesteps,
                        eval_freq=entry.eval_freq,
                        eval_episodes=entry.eval_episodes,
                        hyperparams=entry.hyperparams,
                        conf_file=entry.conf_file,
                        run_dir=str(Path(out_dir) / "runs" / entry.label / scenario.name / f"seed_{seed}"),
                        backend=entry.backend,
                        model=entry.model,
                    )
                )
    for scenario in suite.scenarios:
        for a in suite.analytic:
            runs.append(
                RunSpec(
                    kind="analytic",
                    scenario=scenario.name,
                    env_id=scenario.env_id,
                    overrides=scenario.overrides,
                    label=a.label,
                    eval_seeds=suite.eval_seeds,
                    policy=a.policy,
                    params=a.params,
                )
            )
    return runs


def train_spec(spec: RunSpec) -> Any:
    """The :class:`agents.learned.TrainSpec` of a learned run."""
    from agents.learned import TrainSpec

    assert spec.algo is not None and spec.train_seed is not None
    return TrainSpec(
        algo=spec.algo,
        env_id=spec.env_id,
        seed=spec.train_seed,
        n_timesteps=spec.n_timesteps,
        eval_freq=spec.eval_freq,
        eval_episodes=spec.eval_episodes,
        conf_file=spec.conf_file,
        hyperparams=spec.hyperparams,
        env_kwargs={"overrides": spec.overrides} if spec.overrides else None,
        run_dir=spec.run_dir,
    )


def validate(runs: Sequence[RunSpec]) -> None:
    """Check every run can start (policies, parameters, algorithms, hyperparameters, env overrides), so that
    bad input fails with a clear message before any training."""
    from agents.analytic import make_policy
    from agents.learned import prepare

    checked: set[tuple[Any, ...]] = set()
    for spec in runs:
        if spec.kind == "analytic":
            key: tuple[Any, ...] = ("a", spec.env_id, repr(spec.overrides), spec.policy, repr(spec.params))
            if key in checked:
                continue
            env = make_eval_env(spec.env_id, spec.overrides)
            try:
                make_policy(str(spec.policy), env, **spec.params)
            except ValueError as err:
                raise ValueError(f"{spec.name}: {err}") from err
            finally:
                env.close()
        else:
            key = (
                "l",
                spec.env_id,
                repr(spec.overrides),
                spec.algo,
                repr(spec.hyperparams),
                spec.conf_file,
                spec.backend,
            )
            if key in checked:
                continue
            try:
                if spec.backend == "rllib":
                    from agents.rllib_backend import RLlibTrainConfig, resolve

                    resolve(RLlibTrainConfig.from_train_spec(train_spec(spec)))
                else:
                    prepare(train_spec(spec))
            except ValueError as err:
                raise ValueError(f"{spec.name}: {err}") from err
        checked.add(key)


def execute_run(spec: RunSpec) -> RunResult:
    """Run one :class:`RunSpec` (top-level, so process pools and Ray can call it)."""
    start = time.perf_counter()
    recorder = TrajectoryRecorder(spec.eval_seeds[0])
    if spec.kind == "analytic":
        from agents.analytic import make_policy

        episodes = evaluate(
            lambda env: make_policy(str(spec.policy), env, **spec.params),
            spec.env_id,
            spec.eval_seeds,
            spec.overrides,
            on_step=recorder,
        )
        return RunResult(spec, _rows(episodes), recorder.series, time.perf_counter() - start)

    if spec.backend == "rllib":  # RLlib PPO (agents/rllib_backend.py), selected like SB3's best_model
        from agents.rllib_backend import RLlibTrainConfig, train
        from agents.rllib_backend import policy_factory as rllib_policy_factory

        trained = train(RLlibTrainConfig.from_train_spec(train_spec(spec)))
        run_dir, model = trained.run_dir, trained.best_dir
        factory: Any = rllib_policy_factory(trained.best_dir)
    else:
        from agents.learned import last_model, policy_factory, prepare, run_prepared

        prepared = prepare(train_spec(spec))
        run_dir = run_prepared(prepared)
        best = run_dir / "best_model.zip"
        model = best if spec.model == "best" and best.is_file() else last_model(run_dir)
        factory = policy_factory(model, str(spec.algo), prepared.hyperparams.wrappers)
    episodes = evaluate(
        factory,
        spec.env_id,
        spec.eval_seeds,
        spec.overrides,
        on_step=recorder,
    )
    steps, returns = learning_curve(run_dir)
    return RunResult(
        spec,
        _rows(episodes),
        recorder.series,
        time.perf_counter() - start,
        curve_timesteps=steps,
        curve_returns=returns,
        model_path=str(model),
    )


def _rows(episodes: Sequence[EpisodeMetrics]) -> tuple[dict[str, float | int], ...]:
    return tuple(e.as_dict() for e in episodes)


def learning_curve(run_dir: str | Path) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Timesteps and mean validation return from a run's ``evaluations.npz`` (empty without evaluations)."""
    path = Path(run_dir) / "evaluations.npz"
    if not path.is_file():
        return (), ()
    with np.load(path) as data:
        return tuple(int(t) for t in data["timesteps"]), tuple(float(r) for r in data["results"].mean(axis=1))


class TrajectoryRecorder:
    """An ``on_step`` callback keeping the slot-level energy balance of one evaluation episode."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.series: dict[str, list[float]] = {k: [] for k in ("slot", "storage_j", *TRAJECTORY_KEYS)}

    def __call__(self, seed: int, info: Mapping[str, Any]) -> None:
        if seed != self.seed or not info["slots_closed"]:
            return
        self.series["slot"].append(float(info["slot"]))
        self.series["storage_j"].append(float(info["storage_j"]))
        for key in TRAJECTORY_KEYS:
            self.series[key].append(float(info[key]))


# --------------------------------------------------------------------------------------------------------
# Statistics


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Mean and half-width of the Student-t confidence interval of the mean (NaN half-width for n < 2).

    NaN values (e.g. energy per correct answer with no correct answer) are left out.
    """
    from scipy import stats

    x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if x.size == 0:
        return float("nan"), float("nan")
    mean = float(x.mean())
    if x.size < 2:
        return mean, float("nan")
    sem = float(x.std(ddof=1)) / math.sqrt(x.size)
    return mean, float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * sem)


def welch_difference(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Mean of ``a`` minus mean of ``b`` and the half-width of its Welch-t confidence interval."""
    from scipy import stats

    x, y = np.asarray(a, float), np.asarray(b, float)
    diff = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return diff, float("nan")
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(vx + vy)
    if se == 0:
        return diff, 0.0
    dof = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    return diff, float(stats.t.ppf(0.5 + confidence / 2, dof) * se)


@dataclass(frozen=True)
class Row:
    """One (scenario, policy) line of the results: per metric the mean and CI half-width across units.

    ``units`` are training seeds for learned policies (each the mean over the evaluation episodes) and
    evaluation episodes for analytic ones.
    """

    scenario: str
    label: str
    kind: str
    n_units: int
    n_episodes: int
    mean: dict[str, float]
    ci: dict[str, float]
    unit_returns: tuple[float, ...]


def unit_values(results: Sequence[RunResult], metric: str) -> list[float]:
    """The values the spread is computed over (see :class:`Row`)."""
    if results[0].spec.kind == "analytic":
        return [float(e[metric]) for r in results for e in r.episodes]
    return [float(np.nanmean([float(e[metric]) for e in r.episodes])) for r in results]


def aggregate(results: Sequence[RunResult]) -> list[Row]:
    """Rows in suite order (scenario, then policy as first seen)."""
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.spec.scenario, r.spec.label), []).append(r)
    rows = []
    for (scenario, label), group in groups.items():
        means, cis = {}, {}
        for metric in METRICS:
            means[metric], cis[metric] = mean_ci(unit_values(group, metric))
        returns = tuple(unit_values(group, "episode_return"))
        rows.append(
            Row(
                scenario,
                label,
                group[0].spec.kind,
                len(returns),
                sum(len(r.episodes) for r in group),
                means,
                cis,
                returns,
            )
        )
    return rows


@dataclass(frozen=True)
class Verdict:
    """Best learned vs best analytic policy (by mean return) in one scenario."""

    scenario: str
    best_analytic: str
    best_learned: str
    difference: float  # learned minus analytic mean return
    half_width: float  # Welch 95% CI half-width of the difference
    outcome: Literal["beats", "ties", "loses"]


def verdicts(rows: Sequence[Row]) -> list[Verdict]:
    """Per scenario: does the best learned agent beat, tie or lose to the best analytic policy?

    "Beats" / "loses" when the Welch 95% confidence interval of the difference of mean returns excludes 0
    (learned units: training seeds; analytic units: evaluation episodes), "ties" otherwise.
    """
    out = []
    for scenario in dict.fromkeys(r.scenario for r in rows):
        here = [r for r in rows if r.scenario == scenario]
        analytic = [r for r in here if r.kind == "analytic"]
        learned = [r for r in here if r.kind == "learned"]
        if not analytic or not learned:
            continue
        a = max(analytic, key=lambda r: r.mean["episode_return"])
        b = max(learned, key=lambda r: r.mean["episode_return"])
        diff, hw = welch_difference(b.unit_returns, a.unit_returns)
        if math.isnan(hw) or abs(diff) <= hw:
            outcome: Literal["beats", "ties", "loses"] = "ties"
        else:
            outcome = "beats" if diff > 0 else "loses"
        out.append(Verdict(scenario, a.label, b.label, diff, hw, outcome))
    return out


def as_jsonable(value: Any) -> Any:
    """Dataclasses and tuples to plain JSON types (NaN becomes ``null``)."""
    if hasattr(value, "__dataclass_fields__"):
        return as_jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): as_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_jsonable(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
