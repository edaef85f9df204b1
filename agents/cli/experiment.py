"""``lrm-gym experiment <name>``: reproduce a claim of the paper as a figure and a CSV, theory on top."""

from __future__ import annotations

import argparse
from typing import Any

from agents.cli.checks import seed, writable_folder
from agents.experiments import EXPERIMENTS, run_experiment


def run(args: argparse.Namespace) -> int:
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    writable_folder(args.out, "--out")  # before the simulations, not after
    for name in names:
        png, table = run_experiment(name, args.out, args.quick, args.seed)
        print(f"{name}: wrote {png} and {table}")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("experiment", help="reproduce a claim of the paper: figure + CSV, theory on top")
    parser.add_argument("name", choices=[*EXPERIMENTS, "all"], help="which experiment")
    parser.add_argument("--out", default="runs/experiments", help="output directory (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="fewer points and shorter runs (under a minute)")
    parser.add_argument("--seed", type=seed, default=0, help="simulation seed (default: %(default)s)")
    parser.set_defaults(func=run)
