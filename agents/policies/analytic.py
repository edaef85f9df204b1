"""Analytic routing policies (docs/model.md section 17): rules that follow from the theory, no learning, no torch.

Every policy implements Stable-Baselines3's ``predict(observation, state=None, episode_start=None,
deterministic=True)`` for one observation or a batch (a dict of ``(n, dim)`` arrays, as a ``VecEnv`` gives), so
``stable_baselines3.common.evaluation.evaluate_policy`` and :func:`agents.evaluation.evaluate` run them
unchanged. ``predict`` also accepts ``action_masks=`` (the env's boolean mask); without it the mask is read off
the observation (the ``feasible`` block of ``options`` and the task's slack), so a policy never picks a masked
action.

Static policies look a task up by its *decision type*, the (class, difficulty index) the env's option tables
use: the class is the one-hot part of ``task``, the index is the rounded difficulty estimate, or the class
average when difficulty is hidden. Their :meth:`StaticPolicy.routing` is the ``(C, D, O)`` table of option
probabilities per type that :mod:`lrm_gym.theory` takes, so theory and simulation describe the same rule.
Randomised mixes draw from their own generator (``seed``); ``deterministic`` is accepted for the signature but
cannot turn a mix into a single option without moving it off the critical point.

>>> import gymnasium as gym, lrm_gym
>>> env = gym.make("lrm_gym/EnergyRouting-v2", overrides={"horizon_slots": 2})
>>> policy = AccuracyTarget.from_env(env, target=0.7)
>>> obs, info = env.reset(seed=0)
>>> action, _ = policy.predict(obs, action_masks=info["action_mask"].astype(bool))
>>> bool(info["action_mask"][int(action)])
True
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from agents.policies.base import AnalyticPolicy
from agents.policies.mpc import ForecastMPC
from lrm_gym import theory
from lrm_gym.core.params import Params, accuracy_target_options


def _most_affordable(energy: np.ndarray, feasible: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The feasible option whose expected energy is closest to ``reference`` (per row)."""
    gap = np.where(feasible, np.abs(energy - reference[:, None]), np.inf)
    return np.argmin(gap, axis=1)


class StaticPolicy(AnalyticPolicy):
    """A policy whose option depends only on the task's decision type: a fixed ``(C, D, O)`` routing table.

    When the table's option is masked, the task goes to the feasible option closest in expected energy (a
    deferral only when no option is feasible, which the env settles without asking).
    """

    def __init__(self, params: Params, seed: int | None = 0) -> None:
        super().__init__(params)
        self._rng = np.random.default_rng(seed)
        self._table: np.ndarray | None = None

    @abstractmethod
    def _build_routing(self) -> np.ndarray:
        """The ``(C, D, O)`` option probabilities per decision type."""

    def routing(self) -> np.ndarray:
        """``routing[c, d, o]``: probability of option ``o`` for decision type ``(c, d)`` (rows sum to 1)."""
        if self._table is None:
            table = np.asarray(self._build_routing(), dtype=np.float64)
            table.flags.writeable = False
            self._table = table
        return self._table

    def _act(self, obs: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
        cls, index = self._decision_type(obs)
        probs = self.routing()[cls, index]
        if np.all(np.count_nonzero(probs, axis=1) <= 1):
            choice = np.argmax(probs, axis=1)
        else:  # inverse-CDF draw, one uniform per task
            u = np.asarray(self._rng.random(size=cls.shape[0]))
            cdf = np.cumsum(probs, axis=1)
            choice = np.minimum(np.sum(cdf < u[:, None] * cdf[:, -1:], axis=1), self._n_options - 1)
        feasible = mask[:, 1:]
        energy = self.params.energy_mean_j[cls, index]
        chosen_energy = energy[np.arange(cls.shape[0]), choice]
        ok = feasible[np.arange(cls.shape[0]), choice]
        choice = np.where(ok, choice, _most_affordable(energy, feasible, chosen_energy))
        # With nothing feasible the env only ever asks when defer is allowed.
        return np.where(feasible.any(axis=1), 1 + choice, 0)

    def moments(self) -> theory.RoutingMoments:
        """Task-energy moments and accuracy of this routing (:func:`lrm_gym.theory.routing_moments`)."""
        return theory.routing_moments(self.params, self.routing())


def _one_hot_routing(params: Params, options: np.ndarray) -> np.ndarray:
    table = np.zeros((*options.shape, params.n_options))
    np.put_along_axis(table, options[..., None], 1.0, axis=-1)
    return table


def _resolve(names: tuple[str, ...], value: str | int, what: str) -> int:
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        if not 0 <= value < len(names):
            raise ValueError(f"{what} index {value} is out of range 0..{len(names) - 1}")
        return int(value)
    if value not in names:
        raise ValueError(f"unknown {what} {value!r}; known: {list(names)}")
    return names.index(str(value))


def _check_target(target: float, what: str = "target") -> float:
    if not isinstance(target, int | float) or not 0.0 <= float(target) <= 1.0 or math.isnan(target):
        raise ValueError(f"{what} must be an accuracy in [0, 1], got {target!r}")
    return float(target)


def _target_table(params: Params, target: float, allowed: np.ndarray) -> np.ndarray:
    """Per decision type, the cheapest allowed option meeting ``target``, else the most accurate allowed one.

    The same rule (:func:`lrm_gym.core.params.accuracy_target_options`) defines the scenarios' reference policy.
    """
    accuracy = np.where(allowed, params.accuracy, -1.0)
    energy = np.where(allowed, params.energy_mean_j, np.inf)
    return accuracy_target_options(accuracy, energy, target)


class FixedOption(StaticPolicy):
    """Every task on one option: ``"cheapest"`` (least mean energy over the task mix), ``"largest"`` (largest
    model, longest budget), or an option name ``"model/budget"`` or index. The baseline of every comparison.
    """

    summary: ClassVar[str] = "every task on one option (cheapest, largest, or named)"

    def __init__(self, params: Params, option: str | int = "cheapest") -> None:
        super().__init__(params)
        if option == "cheapest":
            mean, _, _, weights = theory.option_catalog(params)
            self.option = int(np.argmin(weights @ mean))
        elif option == "largest":
            size = np.where(np.isnan(params.model_params), params.model_joules_per_token, params.model_params)
            model = int(np.argmax(size))
            self.option = model * params.n_budgets + int(np.argmax(params.option_cap[params.option_model == model]))
        else:
            self.option = _resolve(params.option_names, option, "option")

    def _build_routing(self) -> np.ndarray:
        shape = (self.params.n_classes, self.params.max_difficulty + 2)
        return _one_hot_routing(self.params, np.full(shape, self.option))


class AccuracyTarget(StaticPolicy):
    """The inference-compute rule: the cheapest option whose expected accuracy *for this task* meets ``target``,
    else the most accurate option. With the scenario's reference target it is the reference policy that defines
    the critical supply (``provisioning: 1``).

    Raises:
        ValueError: for a target outside ``[0, 1]`` or one no option reaches on any task type.
    """

    summary: ClassVar[str] = "cheapest option whose expected accuracy meets a target (inference-compute rule)"

    def __init__(self, params: Params, target: float = 0.7) -> None:
        super().__init__(params)
        self.target = _check_target(target)
        best = params.accuracy[theory.catalog_types(params)].max()
        if self.target > best:
            raise ValueError(f"accuracy target {self.target} is impossible: the best option reaches {best:.3f}")

    def _build_routing(self) -> np.ndarray:
        allowed = np.ones(self.params.n_options, bool)
        return _one_hot_routing(self.params, _target_table(self.params, self.target, allowed))


class TrainingComputeDispatch(StaticPolicy):
    """The training-compute rule: a fixed reasoning ``budget``; per task the smallest model (least energy per
    token) whose expected accuracy meets ``target``, else the most accurate model. Capability grows with model
    size through the Chinchilla loss (``lrm_gym.core.capability``), so this dispatches along model scale.
    """

    summary: ClassVar[str] = "fixed budget, smallest model meeting a target (training-compute scaling)"

    def __init__(self, params: Params, budget: str | int | None = None, target: float = 0.7) -> None:
        super().__init__(params)
        self.budget = params.n_budgets // 2 if budget is None else _resolve(params.budget_names, budget, "budget")
        self.target = _check_target(target)

    def _build_routing(self) -> np.ndarray:
        allowed = np.arange(self.params.n_options) % self.params.n_budgets == self.budget
        return _one_hot_routing(self.params, _target_table(self.params, self.target, allowed))


class InferenceComputeDispatch(StaticPolicy):
    """The inference-compute rule on one ``model`` (default: the largest): per task the shortest reasoning
    budget whose expected accuracy meets ``target``, else the longest. Dispatches along reasoning length, the
    DS3 law's axis (``P(correct) = gamma^m P(Bin(K, r) >= m)`` grows with the cap ``K``).
    """

    summary: ClassVar[str] = "fixed model, shortest budget meeting a target (inference-compute scaling)"

    def __init__(self, params: Params, model: str | int | None = None, target: float = 0.7) -> None:
        super().__init__(params)
        if model is None:
            size = np.where(np.isnan(params.model_params), params.model_joules_per_token, params.model_params)
            self.model = int(np.argmax(size))
        else:
            self.model = _resolve(params.model_names, model, "model")
        self.target = _check_target(target)

    def _build_routing(self) -> np.ndarray:
        allowed = self.params.option_model == self.model
        return _one_hot_routing(self.params, _target_table(self.params, self.target, allowed))


def _critical_task_energy(params: Params, supply_ratio: float) -> float:
    """Mean task energy that puts the scenario's mean supply times ``supply_ratio`` at the critical point."""
    if supply_ratio <= 0:
        raise ValueError(f"supply_ratio must be > 0, got {supply_ratio}")
    return (supply_ratio * params.supply.mean_j - params.idle_j) / params.arrival_rate


class CriticalMix(StaticPolicy):
    """A static randomised mix at the critical point: each task follows the rich rule with probability ``p``
    and the cheap rule otherwise, with ``p`` solving ``lambda E[X] + idle = b`` (:func:`theory.critical_mix`).

    The two rules are :class:`AccuracyTarget` tables at ``low_target`` (default 0: the cheapest option for every
    task) and ``high_target`` (default 1: the most accurate). ``b`` is the scenario's mean supply times
    ``supply_ratio``.

    Raises:
        ValueError: when ``b`` is below the cheap rule's demand or above the rich rule's.
    """

    summary: ClassVar[str] = "static random mix of a cheap and a rich rule whose mean demand equals the supply"

    def __init__(
        self,
        params: Params,
        low_target: float = 0.0,
        high_target: float = 1.0,
        supply_ratio: float = 1.0,
        seed: int | None = 0,
    ) -> None:
        super().__init__(params, seed)
        allowed = np.ones(params.n_options, bool)
        self.cheap = _one_hot_routing(params, _target_table(params, _check_target(low_target, "low_target"), allowed))
        self.rich = _one_hot_routing(params, _target_table(params, _check_target(high_target, "high_target"), allowed))
        target = _critical_task_energy(params, supply_ratio)
        mean_cheap = theory.routing_moments(params, self.cheap).mean_j
        mean_rich = theory.routing_moments(params, self.rich).mean_j
        try:
            self.p_rich = theory.critical_mix(mean_rich, mean_cheap, target)
        except ValueError as err:
            raise ValueError(f"CriticalMix: {err} (supply {supply_ratio * params.supply.mean_j:.6g} J/slot)") from None

    def _build_routing(self) -> np.ndarray:
        return self.p_rich * self.rich + (1.0 - self.p_rich) * self.cheap


class VarianceAwareLP(StaticPolicy):
    """The variance-aware routing LP (:func:`theory.variance_aware_mix`): among routings at the critical point
    that meet ``accuracy_floor``, the one with least ``sum pi (s^2 + mu^2)``, i.e. least task-energy variance.

    Decision types are the env's (class, difficulty index). The default floor is the accuracy of the default
    :class:`CriticalMix` at the same point, which that mix meets, so the LP is at least as accurate with no
    more variance. Options whose worst case exceeds a model's whole slot capacity are excluded.

    Raises:
        ValueError: naming the constraint (critical mean or accuracy floor) that cannot be met.
    """

    summary: ClassVar[str] = "critical mix of least energy variance that meets an accuracy floor (an LP)"

    def __init__(
        self,
        params: Params,
        accuracy_floor: float | None = None,
        supply_ratio: float = 1.0,
        seed: int | None = 0,
    ) -> None:
        super().__init__(params, seed)
        if accuracy_floor is None:
            try:
                accuracy_floor = CriticalMix(params, supply_ratio=supply_ratio).moments().accuracy
            except ValueError as err:
                raise ValueError(f"VarianceAwareLP: no default accuracy floor; pass accuracy_floor ({err})") from None
        self.accuracy_floor = _check_target(accuracy_floor, "accuracy_floor")
        mean, std, accuracy, weights = theory.option_catalog(params)
        cls, _ = theory.catalog_types(params)
        allowed = params.worst_tokens[cls] <= params.model_capacity_tokens[params.option_model][None, :]
        target = _critical_task_energy(params, supply_ratio)
        self.solution = theory.variance_aware_mix(mean, std, accuracy, target, self.accuracy_floor, weights, allowed)

    def _build_routing(self) -> np.ndarray:
        params = self.params
        table = np.zeros((params.n_classes, params.max_difficulty + 2, params.n_options))
        table[..., 0] = 1.0  # types that never occur; any valid row
        cls, index = theory.catalog_types(params)
        table[cls, index] = self.solution.mix
        return table


class SupplyTracking(AnalyticPolicy):
    """State feedback: spend the slot's surplus on richer options, go cheap (or defer) under deficit.

    Per task it computes an energy allowance from the observation, in joules::

        allowance = (baseline + release - committed) / tasks left to decide this slot
        release   = (storage - reserve * capacity) / rebalance_slots

    ``committed`` includes the idle energy; ``release`` spends storage above the reserve level (or refills
    below it) over ``rebalance_slots`` slots. The task gets the most accurate feasible option whose expected
    energy fits the allowance; if even the cheapest does not fit, it is deferred when it has slack and the
    forecast says the next slot has more supply than this one and at least an average slot's demand (the
    critical slot energy) and the next slot's arrivals cannot overflow the queue; else it gets the cheapest
    feasible option.
    This is the certainty-equivalent of the critical-point rule: match demand to supply slot by slot instead
    of on average, which removes the supply variance from the imbalance.
    """

    summary: ClassVar[str] = "state feedback: richer options in surplus, cheaper ones or deferral in deficit"

    def __init__(self, params: Params, reserve: float = 0.5, rebalance_slots: float = 8.0, defer: bool = True) -> None:
        super().__init__(params)
        if not 0.0 <= reserve <= 1.0:
            raise ValueError(f"reserve must be a fraction of storage capacity in [0, 1], got {reserve}")
        if rebalance_slots < 1:
            raise ValueError(f"rebalance_slots must be >= 1, got {rebalance_slots}")
        self.reserve, self.rebalance_slots, self.defer = reserve, rebalance_slots, defer

    def _act(self, obs: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
        params = self.params
        n = mask.shape[0]
        rows = np.arange(n)
        energy_obs = obs["energy"] * params.slot_energy_unit_j  # back to joules
        parts, queue = self._layout.energy, self._layout.queue
        baseline, committed, storage = (
            energy_obs[:, parts.baseline],
            energy_obs[:, parts.committed],
            energy_obs[:, parts.storage],
        )
        release = (storage - self.reserve * params.storage.capacity_j) / self.rebalance_slots
        left = np.maximum(obs["queue"][:, queue.left], 1.0)
        allowance = (baseline + release - committed) / left

        cls, index = self._decision_type(obs)
        energy = params.energy_mean_j[cls, index]
        accuracy = params.accuracy[cls, index]
        feasible = mask[:, 1:]
        fits = feasible & (energy <= allowance[:, None])
        # most accurate option that fits (ties to the cheaper), else the cheapest feasible
        score = np.where(fits, accuracy - 1e-12 * energy / energy.max(), -np.inf)
        best_fit = np.argmax(score, axis=1)
        cheapest = np.argmin(np.where(feasible, energy, np.inf), axis=1)
        choice = np.where(fits.any(axis=1), best_fit, cheapest)
        action = 1 + choice
        if self.defer and params.supply.forecast_horizon > 0:
            # wait only for a next slot forecast to beat this one and to cover an average slot's demand
            next_supply = energy_obs[rows, parts.forecast.start]
            richer_next = (next_supply > baseline) & (next_supply >= params.slot_energy_unit_j)
            # deferring into a queue that the next slot's arrivals (mean + 3 std at the busiest hour) would overflow
            # drops tasks
            busiest = params.peak_arrival_rate
            room = obs["queue"][:, queue.queued] + busiest + 3.0 * math.sqrt(busiest) <= params.queue_capacity
            wait = ~fits.any(axis=1) & mask[:, 0] & richer_next & room
            action = np.where(wait, 0, action)
        return np.where(feasible.any(axis=1), action, 0)


POLICIES: dict[str, type[AnalyticPolicy]] = {
    "fixed-option": FixedOption,
    "accuracy-target": AccuracyTarget,
    "training-compute": TrainingComputeDispatch,
    "inference-compute": InferenceComputeDispatch,
    "critical-mix": CriticalMix,
    "variance-aware-lp": VarianceAwareLP,
    "supply-tracking": SupplyTracking,
    "mpc": ForecastMPC,
}
"""Kebab-case names (used by the CLI and the benchmark suites) of every analytic policy."""


def policy_class(name: str) -> type[AnalyticPolicy]:
    """The policy class for a kebab-case name; unknown names raise ``ValueError`` listing the known ones."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; known: {sorted(POLICIES)}")
    return POLICIES[name]


def make_policy(name: str, env: gym.Env, **kwargs: Any) -> AnalyticPolicy:
    """``policy_class(name).from_env(env, **kwargs)``, with bad keyword arguments reported by name."""
    cls = policy_class(name)
    try:
        return cls.from_env(env, **kwargs)
    except TypeError as err:
        raise ValueError(f"bad parameters for policy {name!r}: {err}") from None
