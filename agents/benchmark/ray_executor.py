"""Run the benchmark's independent runs as Ray tasks, on this machine or on a Ray cluster.

:class:`RayExecutor` has the interface of :class:`agents.benchmark.executors.LocalExecutor`: ``map(fn, specs)`` runs
the picklable top-level ``fn`` on every spec and returns, in the order of ``specs``, either the result or
an :class:`agents.benchmark.executors.RunError` naming the spec. Each run is one Ray task asking for one CPU, so Ray's
scheduler spreads them over every core of every node. The runs are pure functions of their specs (seeded
envs and policies), so the results are the same numbers as the local process pool's.

With no address a local Ray runtime is started and shut down afterwards; with an address an existing
cluster is joined (an unreachable one fails within seconds, not after Ray's minutes of retries). Every
node must have ``lrm-gym[ray]`` installed, or the command is submitted with ``ray job submit --working-dir``.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from agents.benchmark.jobs import OnResult, RunError, limit_threads
from agents.ray_runtime import DEFAULT_CONNECT_TIMEOUT_S, check_reachable, ray_runtime, require_ray

S = TypeVar("S")
R = TypeVar("R")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
TASK_MAX_RETRIES = 1
"""Retries of a run whose worker process or node died; an exception raised by the run is never retried."""


def _run_in_worker(fn: Callable[[S], R], spec: S) -> R:
    limit_threads()  # one task = one CPU: no BLAS/torch thread pools competing inside it
    return fn(spec)


class RayExecutor:
    """Benchmark runs as Ray tasks.

    Args:
        workers: CPUs of a local runtime (capped at this machine's cores); a cluster's size is set by its
            nodes, so this is ignored when ``address`` is given.
        address: ``None`` starts a local runtime; ``host:port``, ``ray://host:port`` or ``"auto"`` joins a
            running cluster.
        connect_timeout_s: how long to wait for ``address``.
        progress: show a tqdm bar over finished runs.

    Raises:
        agents.ray_runtime.RayUnavailableError: Ray is not installed (the ``ray`` extra), or nothing answers
            at ``address`` within ``connect_timeout_s``.
        ValueError: ``workers`` below 1 or a malformed ``address``.
    """

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        progress: bool = True,
    ) -> None:
        require_ray()
        if workers is not None and workers < 1:
            raise ValueError(f"--workers must be at least 1, got {workers}")
        if connect_timeout_s <= 0:
            raise ValueError(f"connect timeout must be positive, got {connect_timeout_s}")
        if address is not None:
            check_reachable(address, connect_timeout_s)  # fail before any run is planned, not after
        self.workers = workers
        self.address = address
        self.connect_timeout_s = connect_timeout_s
        self.progress = progress

    def map(
        self,
        fn: Callable[[S], R],
        specs: Sequence[S],
        on_result: OnResult[R, S] | None = None,
    ) -> list[R | RunError[S]]:
        """Run ``fn(spec)`` for every spec as a Ray task; a failed run becomes a :class:`RunError`.

        ``on_result(i, outcome)`` is called in this (driver) process as each task finishes."""
        from tqdm.auto import tqdm

        if not specs:
            return []
        with ray_runtime(self.address, self.workers, self.connect_timeout_s) as ray:
            task = ray.remote(num_cpus=1, max_retries=TASK_MAX_RETRIES)(_run_in_worker)
            fn_ref = ray.put(fn)
            refs = [task.remote(fn_ref, spec) for spec in specs]
            index = {ref: i for i, ref in enumerate(refs)}
            results: list[Any] = [None] * len(specs)
            pending = list(refs)
            with tqdm(total=len(specs), desc="runs (ray)", unit="run", disable=not self.progress) as bar:
                while pending:
                    done, pending = ray.wait(pending, num_returns=1)
                    for ref in done:
                        i = index[ref]
                        results[i] = _get(ray, ref, specs[i])
                        if on_result is not None:
                            on_result(i, results[i])
                        bar.update()
        return results


def _get(ray: Any, ref: Any, spec: S) -> Any:
    """The task's result, or a :class:`RunError` whose text is Ray's report (the remote traceback)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        # str(err) carries the traceback raised inside the worker, which is what the user needs to see.
        return RunError(spec, _ANSI.sub("", str(err)))
    except ray.exceptions.RayError:  # worker or node died, object lost, ...
        return RunError(spec, traceback.format_exc())
