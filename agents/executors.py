"""Executors: run independent jobs (the benchmark's runs) and return each job's result or error.

An executor maps a picklable top-level function over picklable specs and returns, in the order of the
specs, either the function's result or a :class:`RunError` carrying the spec and the traceback, so one
failed run never loses the others. :data:`EXECUTORS` maps names (``lrm-gym benchmark --backend``) to
factories ``(workers) -> Executor``; other backends (e.g. Ray) add themselves with
:func:`register_executor`.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

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


def _call(fn: Callable[[S], R], spec: S) -> R | RunError[S]:
    try:
        return fn(spec)
    except Exception:
        return RunError(spec, traceback.format_exc())


class LocalExecutor:
    """A ``concurrent.futures`` process pool on this machine (inline when ``workers == 1``).

    Args:
        workers: worker processes; at most the number of specs is started.
        progress: show a tqdm bar over finished runs.
    """

    def __init__(self, workers: int = 2, progress: bool = True) -> None:
        if workers < 1:
            raise ValueError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.progress = progress

    def map(self, fn: Callable[[S], R], specs: Sequence[S]) -> list[R | RunError[S]]:
        from tqdm.auto import tqdm

        results: list[R | RunError[S] | None] = [None] * len(specs)
        bar = tqdm(total=len(specs), desc="runs", unit="run", disable=not self.progress)
        if self.workers == 1 or len(specs) <= 1:
            limit_threads()
            for i, spec in enumerate(specs):
                results[i] = _call(fn, spec)
                bar.update()
        else:
            # spawn: a fresh interpreter per worker, never a fork of a process that already runs torch threads
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(min(self.workers, len(specs)), context, initializer=limit_threads) as pool:
                futures: dict[Future[Any], int] = {pool.submit(_call, fn, spec): i for i, spec in enumerate(specs)}
                for future in as_completed(futures):
                    i = futures[future]
                    try:
                        results[i] = future.result()
                    except Exception:  # the worker died (e.g. killed): keep the others
                        results[i] = RunError(specs[i], traceback.format_exc())
                    bar.update()
        bar.close()
        return [r for r in results if r is not None]


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": LocalExecutor}
"""Executor name -> factory taking the number of workers (and backend options such as Ray's ``address``)."""


def register_executor(name: str, factory: Callable[..., Executor]) -> None:
    """Make ``factory`` selectable with ``lrm-gym benchmark --backend name``."""
    EXECUTORS[name] = factory


def make_executor(name: str, workers: int, **options: Any) -> Executor:
    """The executor ``name`` for ``workers`` parallel runs; ``options`` go to its factory (e.g. Ray's ``address``)."""
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor backend {name!r}; choose one of {sorted(EXECUTORS)}")
    return EXECUTORS[name](workers, **options)


# --- Ray backend (agents/ray_executor.py) -------------------------------------------------------------------
def _ray_executor(workers: int, **options: Any) -> Executor:
    # Imported when chosen, so the default backend and the quick start never need the `ray` extra.
    from agents.ray_executor import RayExecutor

    return RayExecutor(workers, **options)


register_executor("ray", _ray_executor)
