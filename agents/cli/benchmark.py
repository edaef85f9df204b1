"""``lrm-gym benchmark``: run a suite (analytic and learned routers under one protocol) and write the results.

Outputs in ``--out``: ``results.md`` (protocol, table, verdicts, the reproducing command), ``results.csv``,
``episodes.csv``, ``results.json``, ``bars.png``, ``learning_curves.png``, ``energy_balance_<scenario>.png``
and the learned agents' run folders under ``runs/``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from agents.benchmark.executors import EXECUTORS, RunError, make_executor
from agents.benchmark.report import Report, describe_machine, markdown, update_readme, write_all
from agents.benchmark.runs import RunResult, execute_run, plan, validate
from agents.benchmark.statistics import aggregate, verdicts
from agents.benchmark.suite import available_suites, load_suite


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    suite = load_suite(args.suite)
    if args.backend not in EXECUTORS:
        raise ValueError(f"unknown backend {args.backend!r}; choose one of {sorted(EXECUTORS)}")
    if args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    executor = make_executor(args.backend, args.workers, **_executor_options(args))  # a bad --address fails here
    if args.readme is not None and not Path(args.readme).is_file():
        raise ValueError(f"--readme {args.readme} does not exist")
    out = Path(args.out) if args.out else Path("results") / suite.name
    runs = plan(suite, out)
    validate(runs)  # every bad policy, parameter, algorithm or hyperparameter fails here, before training
    print(f"Suite {suite.name}: {len(runs)} runs on {args.workers} worker(s), backend {args.backend}", flush=True)
    outcomes = executor.map(execute_run, runs)
    results = tuple(o for o in outcomes if isinstance(o, RunResult))
    errors = tuple(o for o in outcomes if isinstance(o, RunError))
    rows = tuple(aggregate(results)) if results else ()
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
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="parallel runs")
    parser.add_argument("--readme", default=None, help="also replace the suite's block in this README")
    parser.add_argument(
        "--address",
        default=None,
        help="--backend ray: the Ray cluster to join (host:port, ray://host:port or auto; default RAY_ADDRESS, "
        "else a local Ray runtime with --workers CPUs)",
    )
    parser.set_defaults(func=run)


def main_job(out: str, workers: int) -> int:
    """``lrm-gym demo``: the quick suite into ``out``, every other option at its default."""
    parser = argparse.ArgumentParser(prog="lrm-gym")
    add_parser(parser.add_subparsers())
    return int(run(parser.parse_args(["benchmark", "--suite", "quick", "--out", out, "--workers", str(workers)])))
