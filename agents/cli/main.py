"""The ``lrm-gym`` command. Each sub-command lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from agents.cli import benchmark, dataset, demo, evaluate, experiment, list, rollout, train

COMMANDS = [demo, rollout, list, evaluate, experiment, train, benchmark, dataset]
"""Modules with ``add_parser(subparsers)``; the parser they add sets ``func(args) -> int``."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lrm-gym", description="Energy-aware routing to large reasoning models.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as err:
        print(f"lrm-gym {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
