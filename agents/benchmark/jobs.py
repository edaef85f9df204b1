"""Jobs and executors' common ground: the :class:`Executor` protocol, :class:`RunError`, worker set-up.

An executor maps a picklable top-level function over picklable specs and returns, in the order of the
specs, either the function's result or a :class:`RunError` carrying the spec and the traceback, so one
failed run never loses the others.
"""

from __future__ import annotations

import os
import threading
import time
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


OnResult = Callable[[int, R | RunError[S]], None]
"""``on_result(index, outcome)``, called as soon as ``specs[index]`` is done (see :class:`Executor`)."""


class Executor(Protocol):
    """Runs ``fn`` on every spec; returns results (or :class:`RunError`) in the order of ``specs``.

    ``on_result(i, outcome)``, when given, is called in this process as soon as ``specs[i]`` is done, so the
    caller can save each result before the others finish.
    """

    def map(
        self,
        fn: Callable[[S], R],
        specs: Sequence[S],
        on_result: OnResult[R, S] | None = None,
    ) -> list[R | RunError[S]]: ...


def limit_threads() -> None:
    """Worker initializer: one BLAS/torch thread per process, since runs already fill the cores."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # analytic-only installs have no torch
        pass


PARENT_POLL_SECONDS = 0.5
"""How often a pool worker checks that the process that started it is still alive."""


def init_pool_worker(parent_pid: int) -> None:
    """Process-pool initializer: :func:`limit_threads`, and exit as soon as the parent process is gone.

    A pool worker waits on a queue that it also holds open, so it would otherwise outlive a parent killed
    with SIGKILL and keep training. A daemon thread notices the parent's death (the worker is re-parented,
    so ``os.getppid()`` changes) and ends the worker. Portable, unlike Linux's ``PR_SET_PDEATHSIG``, which
    also fires when the (pool manager) thread that started the worker exits.
    """
    limit_threads()
    watch = threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), name="parent-watch", daemon=True)
    watch.start()


def _exit_when_orphaned(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)  # no clean-up: the parent that would receive the result is gone


def call_safely(fn: Callable[[S], R], spec: S) -> R | RunError[S]:
    try:
        return fn(spec)
    except Exception:
        return RunError(spec, traceback.format_exc())
