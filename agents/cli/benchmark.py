"""``lrm-gym benchmark``: run a suite (analytic and learned routers under one protocol) and write the results.

Outputs in ``--out``: ``results.md`` (protocol, table, verdicts, headroom, the reproducing command),
``results.csv``, ``episodes.csv``, ``results.json``, ``bars.png``, ``learning_curves.png``,
``energy_balance_<scenario>.png``, the learned agents' run folders under ``runs/``, and, for a suite with a
``headroom:`` entry, ``optima.csv`` (every episode's hindsight optimum) and ``headroom.png``.

Every finished run is kept in ``runs/results/`` (:mod:`agents.benchmark.store`) as soon as it finishes, so
running the same command again resumes: finished runs are read back, not redone, and the tables come out
the same as from an uninterrupted run. ``--restart`` forgets them; ``--report-only`` runs nothing and
writes the tables from the runs finished so far.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.benchmark.executors import EXECUTORS, RunError, make_executor
from agents.benchmark.headroom import gap_rows, optima_by_information
from agents.benchmark.report import Report, describe_machine, markdown, update_readme, write_all
from agents.benchmark.runs import RunResult, RunSpec, clear_run_folder, execute_run, plan, validate
from agents.benchmark.statistics import aggregate, verdicts
from agents.benchmark.store import load_finished, results_dir, save_result
from agents.benchmark.suite import available_suites, load_suite
from agents.cli.checks import positive_int, writable_folder


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    suite = load_suite(args.suite)
    if args.backend not in EXECUTORS:
        raise ValueError(f"unknown backend {args.backend!r}; choose one of {sorted(EXECUTORS)}")
    options = _executor_options(args)
    if args.readme is not None and not Path(args.readme).is_file():
        raise ValueError(f"--readme {args.readme} does not exist")
    out = Path(args.out) if args.out else Path("results") / suite.name
    runs = plan(suite, out)
    if not args.report_only:
        validate(runs)  # every bad policy, parameter, algorithm or hyperparameter fails here, before training
    # a bad --address fails here, and an --out that cannot be written, before any run
    executor = None if args.report_only else make_executor(args.backend, args.workers, **options)
    writable_folder(out, "--out")
    if args.restart:
        forget_results(out, runs)
    finished = load_finished(out, runs)
    pending = [i for i in range(len(runs)) if i not in finished]
    todo = "not finished, --report-only" if args.report_only else "to run"
    print(
        f"Suite {suite.name}: {len(runs)} runs ({len(finished)} finished earlier, {len(pending)} {todo}) on "
        f"{args.workers} worker(s), backend {args.backend}",
        flush=True,
    )
    outcomes: dict[int, RunResult | RunError[RunSpec]] = dict(finished)
    if executor is not None and pending:

        def save(_index: int, outcome: RunResult | RunError[RunSpec]) -> None:
            if isinstance(outcome, RunResult):
                save_result(out, outcome)  # at once: a later invocation resumes from here

        new = executor.map(execute_run, [runs[i] for i in pending], on_result=save)
        outcomes.update(zip(pending, new, strict=True))
    ordered = [outcomes[i] for i in range(len(runs)) if i in outcomes]  # plan order, as without resuming
    results = tuple(o for o in ordered if isinstance(o, RunResult))
    errors = tuple(o for o in ordered if isinstance(o, RunError))
    policies = tuple(r for r in results if r.spec.kind != "optimum")
    rows = tuple(aggregate(policies)) if policies else ()
    optima = optima_by_information(results)
    command = f"lrm-gym benchmark --suite {args.suite} --out {out} --workers {args.workers}"
    if args.readme is not None:
        command += f" --readme {args.readme}"
    report = Report(
        suite=suite,
        results=results,
        errors=errors,
        rows=rows,
        verdicts=tuple(verdicts(rows)),
        wall_seconds=time.perf_counter() - started,
        workers=args.workers,
        backend=args.backend,
        machine=describe_machine(),
        command=command,
        missing=tuple(runs[i] for i in range(len(runs)) if i not in outcomes),
        reused=len(finished),
        optima=optima.get("hindsight", {}),
        expected_optima=optima.get("expected", {}),
        gaps=tuple(gap_rows(policies, optima.get("hindsight", {}))),
    )
    paths = write_all(report, out)
    text = markdown(report)
    if args.readme is not None:
        update_readme(Path(args.readme), f"benchmark:{suite.name}", _relative_images(text, out, Path(args.readme)))
    print(text)
    print("Wrote " + ", ".join(str(p) for p in paths))
    for error in errors:
        print(f"run failed: {error.spec.name}\n{error.error}", file=sys.stderr)
    return 1 if errors else 0


def forget_results(out: Path, runs: Sequence[RunSpec]) -> None:
    """``--restart``: remove the finished runs kept in ``out`` and the learned run folders the plan rewrites."""
    shutil.rmtree(results_dir(out), ignore_errors=True)
    for spec in runs:
        clear_run_folder(spec)


def _executor_options(args: argparse.Namespace) -> dict[str, Any]:
    """Backend options: the Ray cluster to join (``--address``, else ``RAY_ADDRESS`` as Ray itself reads it)."""
    if args.backend != "ray":
        if args.address is not None:
            raise ValueError(f"--address joins a Ray cluster: use it with --backend ray, not {args.backend!r}")
        return {}
    return {"address": args.address or os.environ.get("RAY_ADDRESS") or None}


def _relative_images(text: str, out: Path, readme: Path) -> str:
    """The README block: the table plus the figures, linked relative to the README."""
    rel = os.path.relpath(out, readme.parent)
    figures = [f"![per-scenario bars]({rel}/bars.png)"]
    if (out / "headroom.png").is_file():
        figures.append(f"![returns against the hindsight optimum]({rel}/headroom.png)")
    if (out / "learning_curves.png").is_file():
        figures.append(f"![learning curves]({rel}/learning_curves.png)")
    balance = sorted(out.glob("energy_balance_*.png"))
    if balance:  # one figure per scenario: linked, not inlined, to keep the README readable
        links = ", ".join(f"[{p.stem.removeprefix('energy_balance_')}]({rel}/{p.name})" for p in balance)
        figures.append(f"\nOne evaluation episode slot by slot, best analytic vs best learned policy: {links}.")
    return text + "\n" + "\n".join(figures) + "\n"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "benchmark",
        help="compare analytic and learned routers under one protocol",
        description="Run a benchmark suite and write tables (Markdown, CSV, JSON) and plots.",
    )
    parser.add_argument("--suite", default="quick", help=f"one of {available_suites()} or a path to a suite YAML")
    parser.add_argument("--out", default=None, help="output folder (default results/<suite name>)")
    parser.add_argument("--backend", default="local", help=f"executor, one of {sorted(EXECUTORS)}")
    parser.add_argument("--workers", type=positive_int, default=min(2, os.cpu_count() or 1), help="parallel runs")
    parser.add_argument("--readme", default=None, help="also replace the suite's block in this README")
    parser.add_argument(
        "--address",
        default=None,
        help="--backend ray: the Ray cluster to join (host:port, ray://host:port or auto; default RAY_ADDRESS, "
        "else a local Ray runtime with --workers CPUs)",
    )
    again = parser.add_mutually_exclusive_group()
    again.add_argument(
        "--restart",
        action="store_true",
        help="run everything again: forget the finished runs kept in --out (by default they are reused)",
    )
    again.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: write the tables from the runs finished so far, listing the missing ones",
    )
    parser.set_defaults(func=run)


def main_job(out: str, workers: int, restart: bool = False) -> int:
    """``lrm-gym demo``: the quick suite into ``out``, every other option at its default."""
    parser = argparse.ArgumentParser(prog="lrm-gym")
    add_parser(parser.add_subparsers())
    argv = ["benchmark", "--suite", "quick", "--out", out, "--workers", str(workers)]
    return int(run(parser.parse_args([*argv, "--restart"] if restart else argv)))
