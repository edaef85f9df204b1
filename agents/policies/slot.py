"""Slot-level forms of the analytic policies, for the ``lrm_gym/EnergyDispatch-*`` envs (docs/model.md section 18).

Each form gives a slot action from a slot observation, with SB3's ``predict`` signature, so
:func:`agents.evaluation.evaluate` scores it exactly as it scores a per-task policy or a learned agent:

- static policies (``fixed-option``, ``accuracy-target``, ``training-compute``, ``inference-compute``,
  ``critical-mix``, ``variance-aware-lp``): their ``(C, D, O)`` routing table as a fixed ``type-routing``
  action (:class:`SlotStaticRouting`). A deterministic table makes the per-task policy's choices exactly; a
  mix draws from the same distribution with the env's policy stream instead of the policy's own generator.
- ``supply-tracking``: the ``allowance`` action ``(0, 2 reserve - 1, 2 / rebalance_slots - 1)``
  (:class:`SlotSupplyTracking`), which makes the per-task policy's choices exactly.
- ``mpc``: each slot, the forecast-MPC program's mix for the slot as a ``type-routing`` action
  (:class:`SlotForecastMPC`); the per-task form splits a mix by a low-discrepancy sequence, the slot form by
  the env's policy stream, so the two agree in distribution, not draw for draw.

Each form names the env's ``action`` kwarg it needs (``action_mode``); :func:`slot_policy_factory` returns a
factory that carries it, and :func:`agents.evaluation.evaluate` makes its env with it::

    from agents.evaluation import evaluate
    from agents.policies.slot import slot_policy_factory

    episodes = evaluate(slot_policy_factory("supply-tracking"), "lrm_gym/EnergyDispatch-Volatile-v2", seeds=range(3))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from agents.headroom.mpc import (
    arrival_rate_per_slot,
    check_horizons,
    expected_supply_ahead,
    fluid_tables,
    plan_slots,
    planning_horizon,
)
from agents.policies.analytic import POLICIES, StaticPolicy, SupplyTracking
from lrm_gym.core.params import Params
from lrm_gym.core.slot_dynamics import allowance_action, routing_action, routing_rows
from lrm_gym.core.slot_layout import slot_observation_slices


class SlotPolicy(ABC):
    """A slot-level policy: ``predict`` maps a slot observation (or a batch) to a slot action (or a batch)."""

    action_mode: ClassVar[str]
    """The ``action`` make kwarg of the env this policy acts on."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self._slices = slot_observation_slices(params)

    @classmethod
    def check_env(cls, env: gym.Env | gym.vector.VectorEnv) -> Params:
        """The env's params, after checking that it is a slot-level env with this policy's action mode."""
        unwrapped = getattr(env, "unwrapped", env)
        mode = getattr(unwrapped, "action_mode", None)
        params = getattr(unwrapped, "params", None)
        if mode is None or not isinstance(params, Params):
            raise ValueError(f"{cls.__name__} acts on a slot-level lrm_gym/EnergyDispatch env, got {env!r}")
        if mode != cls.action_mode:
            raise ValueError(
                f"{cls.__name__} needs an env made with action={cls.action_mode!r}; this one has action={mode!r}"
            )
        return params

    def predict(
        self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ) -> tuple[np.ndarray, Any]:
        """The action for one observation ``(size,)``, or a batch ``(n, size)`` of them; ``state`` passes through."""
        obs = np.asarray(observation, dtype=np.float64)
        if obs.ndim not in (1, 2) or obs.shape[-1] != self._slices["queue"].stop:
            raise ValueError(
                f"{type(self).__name__} reads the slot-level observation ({self._slices['queue'].stop} values), "
                f"got shape {obs.shape}"
            )
        batch = np.atleast_2d(obs)
        actions = np.stack([self._act(row) for row in batch]).astype(np.float32)
        return (actions[0] if obs.ndim == 1 else actions), state

    @abstractmethod
    def _act(self, obs: np.ndarray) -> np.ndarray:
        """The action for one slot observation."""


class SlotStaticRouting(SlotPolicy):
    """A static per-task policy's routing table as a fixed ``type-routing`` action (defer weight 0)."""

    action_mode: ClassVar[str] = "type-routing"

    def __init__(self, policy: StaticPolicy) -> None:
        super().__init__(policy.params)
        self.policy = policy
        rows = routing_rows(policy.params, self.action_mode)
        table = policy.routing()[rows.cls, rows.difficulty]  # (R, O)
        self.action = routing_action(np.concatenate([np.zeros((table.shape[0], 1)), table], axis=1))

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self.action


class SlotSupplyTracking(SlotPolicy):
    """:class:`~agents.policies.analytic.SupplyTracking` as a constant ``allowance`` action: the env's rule with
    ``offset = 0``, the policy's ``reserve`` and ``gain = 1 / rebalance_slots`` is the policy's rule."""

    action_mode: ClassVar[str] = "allowance"

    def __init__(self, params: Params, reserve: float = 0.5, rebalance_slots: float = 8.0, defer: bool = True) -> None:
        super().__init__(params)
        SupplyTracking(params, reserve, rebalance_slots, defer)  # the per-task policy's own argument checks
        if not defer:
            raise ValueError("SlotSupplyTracking: the allowance rule always may defer; defer=False has no slot form")
        self.action = allowance_action(0.0, reserve, 1.0 / rebalance_slots)

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self.action


class SlotForecastMPC(SlotPolicy):
    """:class:`~agents.policies.mpc.ForecastMPC` at the slot level: each slot, the program over the next
    ``horizon`` slots (default: to the episode's end with storage, one slot without, at most ``max_horizon``)
    from the slot observation; the current slot's option mix per decision type is the ``type-routing`` action.
    The slot index is read off the observation's episode progress, so episodes may be of any length."""

    action_mode: ClassVar[str] = "type-routing"

    def __init__(self, params: Params, horizon: int | None = None, max_horizon: int = 96) -> None:
        super().__init__(params)
        check_horizons(horizon, max_horizon)
        self.horizon, self.max_horizon = horizon, max_horizon
        self.tables = fluid_tables(params)
        self._arrivals = arrival_rate_per_slot(params)
        rows = routing_rows(params, self.action_mode)
        # each routing row's program type: the row's own, else (noisy estimates) the class's nearest difficulty
        kind = np.full((params.n_classes, params.max_difficulty + 2), -1)
        kind[self.tables.cls, self.tables.index] = np.arange(self.tables.cls.size)
        self._row_type = np.empty(rows.cls.size, np.int64)
        for k, (c, d) in enumerate(zip(rows.cls, rows.difficulty, strict=True)):
            if kind[c, d] < 0:
                d = int(np.clip(d, params.class_difficulty_lo[c], params.class_difficulty_hi[c]))
            self._row_type[k] = kind[c, d]

    def _act(self, obs: np.ndarray) -> np.ndarray:
        params, at = self.params, self._slices
        unit = params.slot_energy_unit_j
        slot = min(round(float(obs[at["energy/progress"]][0]) * params.horizon_slots), params.horizon_slots - 1)
        horizon = planning_horizon(params, slot, self.horizon, self.max_horizon)
        supply = expected_supply_ahead(
            params, slot, obs[at["energy/baseline"]][0] * unit, obs[at["energy/forecast"]] * unit, horizon
        )
        plan = plan_slots(
            params,
            self.tables,
            tasks_now=float(obs[at["queue/to_decide"]].sum()),
            committed_j=params.idle_j,  # nothing dispatched yet at the slot's start
            supply_j=supply,
            storage_j=float(obs[at["energy/storage"]][0]) * unit,
            arrivals=self._arrivals[slot + 1 : slot + horizon],
        )
        mix = plan.mix[self._row_type]
        return routing_action(np.concatenate([np.zeros((mix.shape[0], 1)), np.clip(mix, 0.0, 1.0)], axis=1))


SLOT_FORMS: dict[str, str] = {name: "static" for name, cls in POLICIES.items() if issubclass(cls, StaticPolicy)} | {
    "supply-tracking": "allowance",
    "mpc": "mpc",
}
"""Every analytic policy name (:data:`agents.policies.analytic.POLICIES`) with a slot-level form, and its kind."""


def make_slot_policy(name: str, env: gym.Env | gym.vector.VectorEnv, **kwargs: Any) -> SlotPolicy:
    """The slot-level form of analytic policy ``name`` for ``env`` (made with :func:`slot_action_mode`)."""
    kind = _form(name)
    try:
        if kind == "static":
            params = SlotStaticRouting.check_env(env)
            base = POLICIES[name](params, **kwargs)
            assert isinstance(base, StaticPolicy)
            return SlotStaticRouting(base)
        if kind == "allowance":
            return SlotSupplyTracking(SlotSupplyTracking.check_env(env), **kwargs)
        return SlotForecastMPC(SlotForecastMPC.check_env(env), **kwargs)
    except TypeError as err:
        raise ValueError(f"bad parameters for policy {name!r}: {err}") from None


def slot_action_mode(name: str) -> str:
    """The ``action`` make kwarg the slot form of policy ``name`` needs."""
    return "allowance" if _form(name) == "allowance" else "type-routing"


def _form(name: str) -> str:
    if name not in SLOT_FORMS:
        raise ValueError(f"no slot-level form of policy {name!r}; known: {sorted(SLOT_FORMS)}")
    return SLOT_FORMS[name]


class SlotPolicyFactory:
    """``env -> make_slot_policy(name, env, **kwargs)``, carrying the ``env_kwargs`` (``action``) its env needs:
    :func:`agents.evaluation.evaluate` makes its evaluation env with them."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name, self.kwargs = name, kwargs
        self.env_kwargs: dict[str, Any] = {"action": slot_action_mode(name)}

    def __call__(self, env: gym.Env) -> SlotPolicy:
        return make_slot_policy(self.name, env, **self.kwargs)


def slot_policy_factory(name: str, **kwargs: Any) -> SlotPolicyFactory:
    """A factory for :func:`agents.evaluation.evaluate`: the slot form of ``name`` with ``kwargs``."""
    return SlotPolicyFactory(name, **kwargs)


__all__ = [
    "SLOT_FORMS",
    "SlotForecastMPC",
    "SlotPolicy",
    "SlotPolicyFactory",
    "SlotStaticRouting",
    "SlotSupplyTracking",
    "make_slot_policy",
    "slot_action_mode",
    "slot_policy_factory",
]
