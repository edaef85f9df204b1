"""Benchmark runs: a :class:`Suite` planned into independent :class:`RunSpec` s, validated before anything
runs, and :func:`execute_run` (evaluate an analytic policy, or train then evaluate a learned one).

Protocol. Every policy is scored by :func:`agents.evaluation.evaluate` on a fresh evaluation env, one
episode per evaluation seed, the same seeds for every policy, deterministic actions. A learned agent is
trained on its own env (training seeds ``s, s+1, ...`` per parallel env) and validated during training on
another env (seed ``s + EVAL_SEED_OFFSET``, for the learning curves); then the final model (or, with
``model: best``, the callback's best checkpoint) is reloaded from disk and evaluated like an analytic policy.
"""

from __future__ import annotations

import csv
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from agents.benchmark.suite import Suite, applies
from agents.evaluation import EpisodeMetrics, evaluate, make_eval_env

TRAJECTORY_KEYS = ("baseline_j", "demand_j", "auxiliary_j", "waste_j", "charge_j", "discharge_j")


@dataclass(frozen=True)
class RunSpec:
    """One independent unit of work: evaluate an analytic policy, train then evaluate a learned one, or solve
    the hindsight optimum of the evaluation episodes (``optimum``, agents/headroom).

    Picklable (plain data only), so any executor can ship it to another process or machine.
    """

    kind: Literal["analytic", "learned", "optimum"]
    scenario: str
    env_id: str
    overrides: dict[str, Any]
    label: str
    eval_seeds: tuple[int, ...]
    policy: str | None = None  # analytic: kebab-case name in agents.policies.analytic.POLICIES
    params: dict[str, Any] = field(default_factory=dict)  # analytic: the policy's; optimum: the solver's
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
    episodes: tuple[dict[str, Any], ...]  # optimum runs: the optimum as episode_return, bound, gap, status, time
    trajectory: dict[str, list[float]]  # per closed slot, of the first evaluation episode
    wall_seconds: float
    curve_timesteps: tuple[int, ...] = ()
    curve_returns: tuple[float, ...] = ()  # mean over the callback's validation episodes
    model_path: str | None = None
    curve_wall_seconds: tuple[float, ...] = ()  # training wall time at each curve point (progress.csv)


def optimum_label(information: str) -> str:
    """``hindsight-optimum`` / ``expected-optimum`` (agents.benchmark.suite.RESERVED_LABELS)."""
    return f"{information}-optimum"


def plan(suite: Suite, out_dir: str | Path) -> list[RunSpec]:
    """Every run of the suite: learned (long) runs first, then the optima, so that the pool ends with short ones."""
    runs: list[RunSpec] = []
    for scenario in suite.scenarios:
        for entry in suite.learned:
            if not applies(entry.scenarios, scenario.name):
                continue
            for seed in entry.seeds:
                runs.append(
                    RunSpec(
                        kind="learned",
                        scenario=scenario.name,
                        env_id=scenario.env_id_for(entry.env),
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
    if suite.headroom is not None:
        for scenario in suite.scenarios:
            if not applies(suite.headroom.scenarios, scenario.name):
                continue
            for information in suite.headroom.information:
                runs.append(
                    RunSpec(
                        kind="optimum",
                        scenario=scenario.name,
                        env_id=scenario.env_id,
                        overrides=scenario.overrides,
                        label=optimum_label(information),
                        eval_seeds=suite.eval_seeds,
                        params={
                            "information": information,
                            "time_limit_s": suite.headroom.time_limit_s,
                            "branch_and_bound": suite.headroom.branch_and_bound,
                        },
                    )
                )
    for scenario in suite.scenarios:
        for a in suite.analytic:
            runs.append(
                RunSpec(
                    kind="analytic",
                    scenario=scenario.name,
                    env_id=scenario.env_id_for(a.env),
                    overrides=scenario.overrides,
                    label=a.label,
                    eval_seeds=suite.eval_seeds,
                    policy=a.policy,
                    params=a.params,
                )
            )
    return runs


def train_spec(spec: RunSpec) -> Any:
    """The :class:`agents.training.sb3.TrainSpec` of a learned run."""
    from agents.training.sb3 import TrainSpec

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
    from agents.training.sb3 import prepare

    checked: set[tuple[Any, ...]] = set()
    for spec in runs:
        if spec.kind == "optimum":
            from agents.headroom.record import check_supported

            try:
                check_supported(spec.env_id, spec.overrides or None)
            except ValueError as err:
                raise ValueError(f"{spec.name}: {err}") from err
            continue
        if spec.kind == "analytic":
            key: tuple[Any, ...] = ("a", spec.env_id, repr(spec.overrides), spec.policy, repr(spec.params))
            if key in checked:
                continue
            try:
                factory = analytic_factory(spec)
                env = make_eval_env(spec.env_id, spec.overrides, getattr(factory, "env_kwargs", None))
            except ValueError as err:
                raise ValueError(f"{spec.name}: {err}") from err
            try:
                factory(env)
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
                    from agents.training.rllib import RLlibTrainConfig, resolve

                    resolve(RLlibTrainConfig.from_train_spec(train_spec(spec)))
                else:
                    prepare(train_spec(spec))
            except ValueError as err:
                raise ValueError(f"{spec.name}: {err}") from err
        checked.add(key)


def execute_run(spec: RunSpec) -> RunResult:
    """Run one :class:`RunSpec` (top-level, so process pools and Ray can call it)."""
    start = time.perf_counter()
    if spec.kind == "optimum":
        return _solve_optimum(spec, start)
    recorder = TrajectoryRecorder(spec.eval_seeds[0])
    if spec.kind == "analytic":
        episodes = evaluate(
            analytic_factory(spec),
            spec.env_id,
            spec.eval_seeds,
            spec.overrides,
            on_step=recorder,
        )
        return RunResult(spec, _rows(episodes), recorder.series, time.perf_counter() - start)

    clear_run_folder(spec)  # an attempt killed earlier may have left a partial folder (checkpoints, logs)
    if spec.backend == "rllib":  # RLlib PPO (agents/training/rllib.py), selected like SB3's best_model
        from agents.policies.rllib import policy_factory as rllib_policy_factory
        from agents.training.rllib import RLlibTrainConfig, train

        trained = train(RLlibTrainConfig.from_train_spec(train_spec(spec)))
        run_dir, model = trained.run_dir, trained.best_dir
        factory: Any = rllib_policy_factory(trained.best_dir)
    else:
        from agents.policies.sb3 import policy_factory
        from agents.training.sb3 import last_model, prepare, run_prepared

        prepared = prepare(train_spec(spec))
        run_dir = run_prepared(prepared)
        best = run_dir / "best_model.zip"
        model = best if spec.model == "best" and best.is_file() else last_model(run_dir)
        factory = policy_factory(
            model, str(spec.algo), prepared.hyperparams.wrappers, evaluation_env_kwargs(prepared.env_kwargs)
        )
    episodes = evaluate(
        factory,
        spec.env_id,
        spec.eval_seeds,
        spec.overrides,
        on_step=recorder,
    )
    steps, returns = learning_curve(run_dir)
    walls = wall_at_steps(Path(run_dir) / "progress.csv", steps)
    return RunResult(
        spec,
        _rows(episodes),
        recorder.series,
        time.perf_counter() - start,
        curve_timesteps=steps,
        curve_returns=returns,
        model_path=str(model),
        curve_wall_seconds=walls,
    )


def analytic_factory(spec: RunSpec) -> Any:
    """``env -> policy`` of an analytic run: the policy itself on a per-task env, its slot form
    (:mod:`agents.policies.slot`, which names the ``action`` mode its env needs) on a slot-level env."""
    from agents.training.hyperparams import slot_level

    name, params = str(spec.policy), spec.params
    if slot_level(spec.env_id):
        from agents.policies.slot import SLOT_FORMS, slot_policy_factory

        if name not in SLOT_FORMS:
            raise ValueError(f"policy {name!r} has no slot-level form; those with one: {sorted(SLOT_FORMS)}")
        return slot_policy_factory(name, **params)
    from agents.policies.analytic import make_policy

    return lambda env: make_policy(name, env, **params)


EVALUATION_ENV_KWARGS = ("action", "cost")
"""Make kwargs of a learned run's training env that its evaluation env shares: the slot-level env's action
mode (the model's action space) and cost kind. ``overrides`` are not among them: training-only settings such as
the expected-quality reward stay out of evaluation, which runs the scenario as the suite gives it."""


def evaluation_env_kwargs(train_env_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The make kwargs of a learned run's evaluation env, from its training env's (:data:`EVALUATION_ENV_KWARGS`)."""
    return {k: v for k, v in train_env_kwargs.items() if k in EVALUATION_ENV_KWARGS}


def _solve_optimum(spec: RunSpec, start: float) -> RunResult:
    """The hindsight optimum of every evaluation episode: one episode dict per seed, the optimum's return as
    ``episode_return`` (so the run reads like a policy's), with its upper bound, MIP gap, status and time."""
    from agents.headroom.optima import scenario_optimum

    opt = scenario_optimum(
        spec.scenario,
        spec.env_id,
        spec.eval_seeds,
        spec.overrides or None,
        information=spec.params["information"],
        time_limit_s=float(spec.params["time_limit_s"]),
        branch_and_bound=bool(spec.params["branch_and_bound"]),
    )
    episodes = tuple({**e.as_dict(), "episode_return": e.optimum} for e in opt.episodes)
    return RunResult(spec, episodes, {}, time.perf_counter() - start)


def clear_run_folder(spec: RunSpec) -> None:
    """Remove a learned run's folder, so that its training starts from nothing (no-op for analytic runs)."""
    if spec.kind == "learned" and spec.run_dir is not None:
        shutil.rmtree(spec.run_dir, ignore_errors=True)


def _rows(episodes: Sequence[EpisodeMetrics]) -> tuple[dict[str, float | int], ...]:
    return tuple(e.as_dict() for e in episodes)


def learning_curve(run_dir: str | Path) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Timesteps and mean validation return from a run's ``evaluations.npz`` (empty without evaluations)."""
    path = Path(run_dir) / "evaluations.npz"
    if not path.is_file():
        return (), ()
    with np.load(path) as data:
        return tuple(int(t) for t in data["timesteps"]), tuple(float(r) for r in data["results"].mean(axis=1))


def wall_at_steps(progress_csv: str | Path, timesteps: Sequence[int]) -> tuple[float, ...]:
    """Training wall seconds at each of ``timesteps``, interpolated linearly in SB3's ``progress.csv``
    (``time/total_timesteps`` against ``time/time_elapsed``, logged every rollout); empty if there is none."""
    path = Path(progress_csv)
    if not path.is_file() or not timesteps:
        return ()
    steps, seconds = [], []
    with path.open(newline="") as f:
        for record in csv.DictReader(f):
            total, elapsed = record.get("time/total_timesteps"), record.get("time/time_elapsed")
            if total and elapsed:
                steps.append(float(total))
                seconds.append(float(elapsed))
    if not steps:
        return ()
    # before the first log line, time grows in proportion from 0 (the first rollout's pace)
    xs, ys = np.asarray([0.0, *steps]), np.asarray([0.0, *seconds])
    order = np.argsort(xs, kind="stable")
    return tuple(float(v) for v in np.interp(np.asarray(timesteps, dtype=float), xs[order], ys[order]))


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
