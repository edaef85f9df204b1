"""The local executor: a process pool on this machine."""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

from agents.benchmark.jobs import R, RunError, S, call_safely, limit_threads


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
                results[i] = call_safely(fn, spec)
                bar.update()
        else:
            # spawn: a fresh interpreter per worker, never a fork of a process that already runs torch threads
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(min(self.workers, len(specs)), context, initializer=limit_threads) as pool:
                futures: dict[Future[Any], int] = {
                    pool.submit(call_safely, fn, spec): i for i, spec in enumerate(specs)
                }
                for future in as_completed(futures):
                    i = futures[future]
                    try:
                        results[i] = future.result()
                    except Exception:  # the worker died (e.g. killed): keep the others
                        results[i] = RunError(specs[i], traceback.format_exc())
                    bar.update()
        bar.close()
        return [r for r in results if r is not None]
