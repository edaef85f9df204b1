"""Where the simulator's random numbers come from, row by row.

Every draw of the core names the rows (environments) it is for. :class:`Draws` serves a whole batch from one
generator in row order, which is what both envs use. :class:`PerRowDraws` gives each row its own generator,
so row ``r`` of a batch consumes exactly what a single env driven by ``generators[r]`` consumes: that makes
the draws injectable and lets tests compare a vector env row by row with independent single envs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Draws:
    """Batched draws for rows of a batch from one generator (the rows only fix the output shape)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def standard_normal(self, rows: np.ndarray, size: int) -> np.ndarray:
        """Standard normals, shape ``(len(rows), size)``."""
        return self.rng.standard_normal((rows.size, size))

    def integers(self, rows: np.ndarray, high: int) -> np.ndarray:
        """One integer in ``[0, high)`` per row."""
        return self.rng.integers(0, high, size=rows.size)

    def poisson(self, rows: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """One Poisson count per row with mean ``lam[k]`` for ``rows[k]``."""
        return self.rng.poisson(lam)

    def negative_binomial(self, rows: np.ndarray, n: float, p: np.ndarray) -> np.ndarray:
        """One negative-binomial count per row with parameters ``(n, p[k])`` for ``rows[k]``."""
        return self.rng.negative_binomial(n, p)

    def task_uniforms(self, rows: np.ndarray, counts: np.ndarray, total: int, size: int) -> np.ndarray:
        """Uniforms for ``counts[k]`` new tasks of ``rows[k]``, stacked in row order: ``(total, size)``."""
        return self.rng.random((total, size))

    def task_normals(self, rows: np.ndarray, counts: np.ndarray, total: int) -> np.ndarray:
        """One standard normal per new task, stacked in row order: ``(total,)``."""
        return self.rng.standard_normal(total)


class PerRowDraws(Draws):
    """Row ``r`` draws from ``generators[r]`` (loops over rows: for tests and replay, not for speed)."""

    def __init__(self, generators: Sequence[np.random.Generator]) -> None:
        super().__init__(generators[0])
        self.generators = list(generators)

    def standard_normal(self, rows: np.ndarray, size: int) -> np.ndarray:
        return np.stack([self.generators[r].standard_normal((1, size))[0] for r in rows]).reshape(rows.size, size)

    def integers(self, rows: np.ndarray, high: int) -> np.ndarray:
        return np.array([self.generators[r].integers(0, high, size=1)[0] for r in rows], dtype=np.int64)

    def poisson(self, rows: np.ndarray, lam: np.ndarray) -> np.ndarray:
        lam = np.broadcast_to(lam, rows.shape)
        return np.array([self.generators[r].poisson(lam[k : k + 1])[0] for k, r in enumerate(rows)], dtype=np.int64)

    def negative_binomial(self, rows: np.ndarray, n: float, p: np.ndarray) -> np.ndarray:
        p = np.broadcast_to(p, rows.shape)
        return np.array(
            [self.generators[r].negative_binomial(n, p[k : k + 1])[0] for k, r in enumerate(rows)], dtype=np.int64
        )

    def task_uniforms(self, rows: np.ndarray, counts: np.ndarray, total: int, size: int) -> np.ndarray:
        parts = [self.generators[r].random((int(c), size)) for r, c in zip(rows, counts, strict=True) if c > 0]
        return np.concatenate(parts) if parts else np.zeros((0, size))

    def task_normals(self, rows: np.ndarray, counts: np.ndarray, total: int) -> np.ndarray:
        parts = [self.generators[r].standard_normal(int(c)) for r, c in zip(rows, counts, strict=True) if c > 0]
        return np.concatenate(parts) if parts else np.zeros(0)


def as_draws(rng: np.random.Generator | Draws) -> Draws:
    """Wrap a generator; pass :class:`Draws` through."""
    return rng if isinstance(rng, Draws) else Draws(rng)
