"""Measure the headroom of a benchmark suite's analytic policies (and ``mpc``): run them, solve the hindsight
optimum of every evaluation episode, and write the gaps, a markdown table, a JSON file and the figure.

    python -m agents.headroom.measure --suite full --out docs/results/headroom --part policies
    python -m agents.headroom.measure --suite full --out docs/results/headroom --part optima --time-limit 30
    python -m agents.headroom.measure --suite full --out docs/results/headroom --part report

The two first parts are independent (run them in parallel); ``report`` reads what they wrote.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from agents.benchmark.runs import RunResult, RunSpec, execute_run, plan
from agents.benchmark.statistics import aggregate, mean_ci
from agents.benchmark.suite import load_suite
from agents.headroom.gap import (
    EpisodeOptimum,
    ScenarioOptimum,
    gap_rows,
    headroom_markdown,
    plot_headroom,
    scenario_optimum,
)
from agents.headroom.milp import DEFAULT_TIME_LIMIT_S, Information


def analytic_specs(suite_name: str, scenarios: list[str] | None = None) -> list[RunSpec]:
    """The suite's analytic runs plus one ``mpc`` run per scenario."""
    suite = load_suite(suite_name)
    specs = [s for s in plan(suite, "unused") if s.kind == "analytic"]
    for scenario in suite.scenarios:
        specs.append(
            RunSpec(
                kind="analytic",
                scenario=scenario.name,
                env_id=scenario.env_id,
                overrides=scenario.overrides,
                label="mpc",
                eval_seeds=suite.eval_seeds,
                policy="mpc",
            )
        )
    return [s for s in specs if scenarios is None or s.scenario in scenarios]


def _result_from_json(d: dict[str, Any]) -> RunResult:
    spec = RunSpec(**{**d["spec"], "eval_seeds": tuple(d["spec"]["eval_seeds"])})
    return RunResult(spec, tuple(d["episodes"]), d["trajectory"], d["wall_seconds"])


def _optimum_from_json(d: dict[str, Any]) -> ScenarioOptimum:
    episodes = tuple(EpisodeOptimum(**e) for e in d["episodes"])
    return ScenarioOptimum(d["scenario"], d["env_id"], d["information"], d["time_limit_s"], episodes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default="full")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--part", choices=["policies", "optima", "report"], required=True)
    parser.add_argument("--scenarios", nargs="*", default=None, help="only these scenarios of the suite")
    parser.add_argument("--labels", nargs="*", default=None, help="only these policy labels (part policies)")
    parser.add_argument(
        "--branch-and-bound",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the relaxation and its fix-and-branch plan, also run branch and bound on the whole program",
    )
    parser.add_argument("--information", choices=["hindsight", "expected"], default="hindsight", help="part optima")
    parser.add_argument("--seeds", nargs="*", type=int, default=None, help="only these evaluation seeds (part optima)")
    parser.add_argument("--merge", nargs="*", type=Path, default=[], help="more folders whose results to report")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S, help="seconds per MILP solve")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    specs = [s for s in analytic_specs(args.suite, args.scenarios) if args.labels is None or s.label in args.labels]
    if not specs:
        raise SystemExit(f"no scenario of suite {args.suite!r} matches {args.scenarios}")
    if args.part == "policies":
        results = []
        for spec in specs:
            result = execute_run(spec)
            results.append(asdict(result))
            print(f"{spec.name}: {result.wall_seconds / len(spec.eval_seeds):.1f} s/episode", flush=True)
            (args.out / "policies.json").write_text(json.dumps(results))
    elif args.part == "optima":
        _optima(specs, args.out, args.time_limit, args.branch_and_bound, args.seeds, args.information)
    else:
        _report(args.out, args.merge)
    return 0


def _optima(
    specs: list[RunSpec],
    out: Path,
    time_limit_s: float,
    branch_and_bound: bool,
    seeds: list[int] | None,
    information: Information = "hindsight",
) -> None:
    """Solve seed by seed across the scenarios (the first evaluation episode of every scenario first), writing
    ``optima.json`` after each episode, so a stopped measurement keeps what it solved."""
    scenarios: dict[str, RunSpec] = {}
    for s in specs:
        scenarios.setdefault(s.scenario, s)
    done: dict[str, ScenarioOptimum] = {}
    n_seeds = max(len(s.eval_seeds) for s in scenarios.values())
    for k in range(n_seeds):
        for name, spec in scenarios.items():
            if k >= len(spec.eval_seeds) or (seeds is not None and spec.eval_seeds[k] not in seeds):
                continue
            one = scenario_optimum(
                name,
                spec.env_id,
                [spec.eval_seeds[k]],
                spec.overrides or None,
                information=information,
                time_limit_s=time_limit_s,
                branch_and_bound=branch_and_bound,
            )
            before = done.get(name)
            done[name] = one if before is None else replace(before, episodes=before.episodes + one.episodes)
            e = one.episodes[0]
            print(f"{name} seed {e.seed}: {e.status}, return {e.optimum:.1f}, bound {e.upper_bound:.1f}, "
                  f"MIP gap {e.mip_gap:.2%}, {e.solve_seconds:.0f} s, {e.n_tasks} tasks", flush=True)  # fmt: skip
            (out / "optima.json").write_text(json.dumps([asdict(o) for o in done.values()]))


def _merge_optima(parts: list[ScenarioOptimum]) -> dict[str, ScenarioOptimum]:
    """One optimum per scenario and episode from several measurements: the best plan and the tightest bound
    (each is valid on its own)."""
    episodes: dict[str, dict[int, EpisodeOptimum]] = {}
    first: dict[str, ScenarioOptimum] = {}
    for part in parts:
        first.setdefault(part.scenario, part)
        mine = episodes.setdefault(part.scenario, {})
        for e in part.episodes:
            old = mine.get(e.seed)
            if old is None:
                mine[e.seed] = e
                continue
            best = max(old.optimum, e.optimum)
            bound = min(old.upper_bound, e.upper_bound)
            mine[e.seed] = replace(
                old if old.optimum >= e.optimum else e,
                optimum=best,
                upper_bound=bound,
                mip_gap=(bound - best) / max(abs(bound), 1e-12),
                status=f"{old.status}; {e.status}",
                solve_seconds=old.solve_seconds + e.solve_seconds,
            )
    return {
        s: replace(first[s], episodes=tuple(sorted(eps.values(), key=lambda e: e.seed))) for s, eps in episodes.items()
    }


def _read(folders: list[Path], name: str) -> list[dict[str, Any]]:
    return [d for folder in folders if (folder / name).is_file() for d in json.loads((folder / name).read_text())]


def _report(out: Path, merge: list[Path]) -> None:
    folders = [out, *merge]
    unique: dict[tuple[str, str, Any], RunResult] = {}
    for d in _read(folders, "policies.json"):  # a run measured in two folders counts once
        r = _result_from_json(d)
        unique.setdefault((r.spec.scenario, r.spec.label, r.spec.train_seed), r)
    optima = _merge_optima([_optimum_from_json(d) for d in _read(folders, "optima.json")])
    # the headroom compares returns and optima on the same episodes: those whose optimum was solved
    solved = {s: {e.seed for e in o.episodes} for s, o in optima.items()}
    results = [
        replace(r, episodes=tuple(e for e in r.episodes if int(e["seed"]) in solved[r.spec.scenario]))
        for r in unique.values()
        if r.spec.scenario in solved
    ]
    rows = aggregate(results)
    gaps = gap_rows(results, optima)
    plot_headroom(rows, optima, out / "headroom.png")
    seconds: dict[tuple[str, str], list[float]] = {}
    for r in results:
        seconds.setdefault((r.spec.scenario, r.spec.label), []).append(r.wall_seconds / max(len(r.episodes), 1))
    payload = {
        "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "optima": {s: {**o.summary(), "episodes": [asdict(e) for e in o.episodes]} for s, o in optima.items()},
        "gaps": [g.as_dict() for g in gaps],
        "returns": [
            {"scenario": r.scenario, "label": r.label, "mean": r.mean["episode_return"], "ci": r.ci["episode_return"]}
            for r in rows
        ],
        "seconds_per_episode": {f"{s}/{label}": mean_ci(v)[0] for (s, label), v in seconds.items()},
    }
    (out / "headroom.json").write_text(json.dumps(payload, indent=1))
    (out / "headroom.md").write_text(headroom_markdown(optima, gaps))


if __name__ == "__main__":
    raise SystemExit(main())
