"""``lrm-gym demo``: the main job, the ``quick`` benchmark suite (what ``make demo`` runs).

Every analytic policy and a small-budget learned agent on the scenarios where state matters most, with
tables and plots written to ``--out``. It is ``lrm-gym benchmark --suite quick`` with the demo's defaults;
use ``lrm-gym benchmark`` for other suites and options. Like it, a second ``lrm-gym demo`` into the same
``--out`` reuses the runs already finished there (``--restart`` runs everything again).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from agents.cli.benchmark import main_job
from agents.cli.checks import positive_int


def run(args: argparse.Namespace) -> int:
    return main_job(out=args.out, workers=args.workers, restart=args.restart)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="the main job: the quick benchmark suite (what `make demo` runs)")
    parser.add_argument("--out", default="results/quick", help="output folder (default: %(default)s)")
    parser.add_argument("--workers", type=positive_int, default=min(2, os.cpu_count() or 1), help="parallel runs")
    parser.add_argument("--restart", action="store_true", help="rerun every run instead of reusing finished ones")
    parser.set_defaults(func=run)
