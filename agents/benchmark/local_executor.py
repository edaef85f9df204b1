"""The local executor: a process pool on this machine."""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

from agents.benchmark.jobs import OnResult, R, RunError, S, call_safely, init_pool_worker, limit_threads


class LocalExecutor:
    """A ``concurrent.futures`` process pool on this machine (inline when ``workers == 1``).

    The workers are fresh (spawned) interpreters that exit when this process dies, even by SIGKILL
    (:func:`agents.benchmark.jobs.init_pool_worker`).

    Args:
        workers: worker processes; at most the number of specs is started.
        progress: show a tqdm bar over finished runs.
    """

    def __init__(self, workers: int = 2, progress: bool = True) -> None:
        if workers < 1:
            raise ValueError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.progress = progress

    def map(
        self,
        fn: Callable[[S], R],
        specs: Sequence[S],
        on_result: OnResult[R, S] | None = None,
    ) -> list[R | RunError[S]]:
        from tqdm.auto import tqdm

        results: list[R | RunError[S] | None] = [None] * len(specs)

        def finish(i: int, outcome: R | RunError[S]) -> None:
            results[i] = outcome
            if on_result is not None:
                on_result(i, outcome)
            bar.update()

        bar = tqdm(total=len(specs), desc="runs", unit="run", disable=not self.progress)
        if self.workers == 1 or len(specs) <= 1:
            limit_threads()
            for i, spec in enumerate(specs):
                finish(i, call_safely(fn, spec))
        else:
            # spawn: a fresh interpreter per worker, never a fork of a process that already runs torch threads
            context = multiprocessing.get_context("spawn")
            workers = min(self.workers, len(specs))
            with ProcessPoolExecutor(workers, context, initializer=init_pool_worker, initargs=(os.getpid(),)) as pool:
                futures: dict[Future[Any], int] = {
                    pool.submit(call_safely, fn, spec): i for i, spec in enumerate(specs)
                }
                for future in as_completed(futures):
                    i = futures[future]
                    try:
                        outcome = future.result()
                    except Exception:  # the worker died (e.g. killed): keep the others
                        outcome = RunError(specs[i], traceback.format_exc())
                    finish(i, outcome)
        bar.close()
        return [r for r in results if r is not None]
