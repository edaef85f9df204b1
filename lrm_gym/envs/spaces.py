"""An action space whose unmasked ``sample()`` returns an action valid for the current task."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces


def preferred_actions(valid: np.ndarray) -> np.ndarray:
    """Actions an unmasked ``sample()`` draws from: the valid options, and defer (0) only when none is valid.

    Works on one mask ``(A,)`` or a batch ``(n, A)``.
    """
    preferred = np.array(valid, dtype=bool)
    preferred[..., 0] &= ~preferred[..., 1:].any(axis=-1)
    return preferred


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
            return super().sample(mask=preferred_actions(source()).astype(np.int8))
        return super().sample(mask=mask, probability=probability)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_mask_source"] = None
        return state

    def __repr__(self) -> str:
        return f"RoutingActions({self.n})"
