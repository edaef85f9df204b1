"""Jobs and executors' common ground: the :class:`Executor` protocol, :class:`RunError`, worker set-up.

An executor maps a picklable top-level function over picklable specs and returns, in the order of the
specs, either the function's result or a :class:`RunError` carrying the spec and the traceback, so one
failed run never loses the others.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

S = TypeVar("S")
R = TypeVar("R")


@dataclass(frozen=True)
class RunError(Generic[S]):
    """A job that raised: its spec and the formatted exception."""

    spec: S
    error: str

    @property
    def summary(self) -> str:
        """The exception's last line (``Type: message``)."""
        lines = [line for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1] if lines else "unknown error"


class Executor(Protocol):
    """Runs ``fn`` on every spec; returns results (or :class:`RunError`) in the order of ``specs``."""

    def map(self, fn: Callable[[S], R], specs: Sequence[S]) -> list[R | RunError[S]]: ...


def limit_threads() -> None:
    """Worker initializer: one BLAS/torch thread per process, since runs already fill the cores."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # analytic-only installs have no torch
        pass


def call_safely(fn: Callable[[S], R], spec: S) -> R | RunError[S]:
    try:
        return fn(spec)
    except Exception:
        return RunError(spec, traceback.format_exc())
