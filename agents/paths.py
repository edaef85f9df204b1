"""Where the shipped configuration files are: ``configs/`` (rl-zoo3 hyperparameters, benchmark suites).

In the repository ``agents/configs`` is a link to the top-level ``configs/``; a wheel or a non-editable
install carries the files themselves as package data of ``agents``, so the same path works in both.
"""

from __future__ import annotations

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
"""rl-zoo3 hyperparameter files ``<algo>.yml``."""

SUITE_DIR = CONFIG_DIR / "suites"
"""Benchmark suites ``<name>.yaml``."""
