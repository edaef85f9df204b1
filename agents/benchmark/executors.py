"""Executors by name: ``lrm-gym benchmark --backend <name>``.

:data:`EXECUTORS` maps names to factories ``(workers, **options) -> Executor``; other backends add themselves
with :func:`register_executor`. The Ray backend is imported only when chosen, so the default backend and the
quick start never need the ``ray`` extra.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.benchmark.jobs import Executor, RunError, limit_threads
from agents.benchmark.local_executor import LocalExecutor

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "RunError", "limit_threads", "make_executor", "register_executor"]

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


def _ray_executor(workers: int, **options: Any) -> Executor:
    # Imported when chosen, so the default backend and the quick start never need the `ray` extra.
    from agents.benchmark.ray_executor import RayExecutor

    return RayExecutor(workers, **options)


register_executor("ray", _ray_executor)
