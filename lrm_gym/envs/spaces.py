"""An action space whose unmasked ``sample()`` returns an action valid for the current task."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces

from lrm_gym.core import rng
from lrm_gym.core.compiled import compiled, inlined


@inlined
def _preferred(masks: np.ndarray, k: int, u: float) -> int:
    """Row ``k``'s action for the uniform ``u``: uniform among valid options, defer only if none is valid."""
    valid = 0
    for a in range(1, masks.shape[1]):
        valid += masks[k, a]
    if valid == 0:
        return 0
    pick = min(int(u * valid), valid - 1)
    for a in range(1, masks.shape[1]):
        if masks[k, a]:
            if pick == 0:
                return a
            pick -= 1
    return 0  # not reached


@compiled
def sample_preferred(masks: np.ndarray, uniforms: np.ndarray, out: np.ndarray) -> None:
    """The action an unmasked ``sample()`` draws for each row of ``masks`` (``(n, A)`` bool), into ``out``.

    Uniform among the valid options (actions ``1..A-1``), picked by ``uniforms[k]`` in ``[0, 1)``; defer
    (0) only when no option is valid. Compiled, because an unmasked ``sample()`` runs once per step in random
    baselines and throughput benchmarks, where numpy's per-call overheads would cost more than the step.
    """
    for k in range(masks.shape[0]):
        out[k] = _preferred(masks, k, uniforms[k])


@compiled
def sample_preferred_from(masks: np.ndarray, stream: np.ndarray, out: np.ndarray) -> None:
    """:func:`sample_preferred` with the uniforms drawn from a compiled random stream (:mod:`lrm_gym.core.rng`)."""
    for k in range(masks.shape[0]):
        out[k] = _preferred(masks, k, rng.uniform(stream))


class RoutingActions(spaces.Discrete):
    """``Discrete(1 + M * B)`` that knows the env's current action mask.

    ``sample()`` with no ``mask`` draws uniformly among the options that can run the current task, and
    returns defer (0) only when none can. Generic tools that sample actions (Gymnasium's and SB3's env
    checkers, random baselines, ``gym.make_vec`` smoke runs) thereby exercise the env without tripping its
    masks, and the env can still reject a masked action with an error instead of remapping it. Pass an
    explicit ``mask`` to sample from any set, e.g. ``space.sample(mask=info["action_mask"])``.

    The link to the env is a weak reference and is not pickled, so saved agents do not carry the env.
    """

    def __init__(self, n: int, mask_source: Callable[[], np.ndarray] | None = None, seed: int | None = None) -> None:
        super().__init__(n, seed=seed)
        self._mask_source: weakref.WeakMethod | None = None
        if mask_source is not None:
            self._mask_source = weakref.WeakMethod(mask_source)  # type: ignore[arg-type]

    def sample(self, mask: np.ndarray | None = None, probability: np.ndarray | None = None) -> np.int64:
        source = self._mask_source() if self._mask_source is not None else None
        if mask is None and probability is None and source is not None:
            out = np.empty(1, np.int64)
            sample_preferred(source()[None], self.np_random.random(1), out)
            return np.int64(out[0])
        return super().sample(mask=mask, probability=probability)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_mask_source"] = None
        return state

    def __repr__(self) -> str:
        return f"RoutingActions({self.n})"
