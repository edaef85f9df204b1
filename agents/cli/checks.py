"""Checks of command-line input that run before any work: argparse types for numbers, output locations.

Argparse types turn a bad number into ``lrm-gym <cmd>: error: argument --flag: ...`` (exit code 2); the
location checks raise ``ValueError``, which :func:`agents.cli.main.main` prints the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from agents.benchmark.suite import SEED_LIMIT


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def positive_int(text: str) -> int:
    """Argparse type: an integer of at least 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seed(text: str) -> int:
    """Argparse type: a seed, a non-negative integer below 2**32."""
    value = _int(text)
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"must be a seed, a non-negative integer below 2**32, got {value}")
    return value


def writable_folder(path: str | Path, flag: str) -> Path:
    """Create ``path`` if needed and check a file can be written in it, else a ``ValueError`` naming ``flag``."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{flag} {folder}: is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ValueError(f"{flag} {folder}: cannot write there ({err.strerror or err})") from None
    return folder


def writable_file(path: str | Path, flag: str) -> Path:
    """Check ``path`` can be written as a file (its folder is created), else a ``ValueError`` naming ``flag``."""
    file = Path(path)
    if file.is_dir():
        raise ValueError(f"{flag} {file}: is a folder, not a file")
    writable_folder(file.parent, flag)
    if file.exists() and not os.access(file, os.W_OK):
        raise ValueError(f"{flag} {file}: cannot write there (permission denied)")
    return file


def json_object(text: str | None, flag: str) -> dict[str, Any]:
    """A command-line JSON object (``--overrides``, ``--policy-kwargs``); absent means ``{}``."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{flag} is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{flag} must be a JSON object, got {type(value).__name__}")
    return value
