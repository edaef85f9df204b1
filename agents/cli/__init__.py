"""The ``lrm-gym`` command line: one module per sub-command, assembled by :mod:`agents.cli.main`."""

from __future__ import annotations

from agents.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
