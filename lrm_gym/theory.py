"""Closed-form theory of energy-aware routing (docs/model.md section 16; arXiv 2601.00823).

The simulator's slot balance is the Lindley recursion of a supply-demand imbalance. Per slot ``t`` the demand
is ``D_t = sum_{j <= A_t} X_j + idle`` (``A_t`` arrivals, ``X_j`` the energy of task ``j`` under the routing
``pi``) and the baseline supply is ``B_t``. Write the imbalance ``Delta_t = D_t - B_t``, its drift
``theta = b - E[D]`` (surplus when positive) and its variance ``sigma^2 = Var(Delta)``. Then:

- without storage, ``aux_t = max(Delta_t, 0)`` and ``waste_t = max(-Delta_t, 0)``;
- with storage of capacity ``C`` (lossless, no power limits), the level follows
  ``S_{t+1} = clip(S_t - Delta_t, 0, C)``; what the lower clip removes is auxiliary energy, what the upper clip
  removes is waste.

Everything here is pure numpy/scipy and takes plain numbers or arrays, except the helpers that read a
scenario's :class:`~lrm_gym.core.params.Params`. Those read the option tables the core computed once
(``Params.accuracy``, ``energy_mean_j``, ``energy_std_j``, from :func:`lrm_gym.core.outcomes.step_moments`):
the theory and the simulator share one copy of the per-option moments.

Assumptions, stated once: arrivals, task energies and supply are independent across slots and of each other;
every task is dispatched in the slot it arrives (no deferral, no capacity masking, no drops); the Gaussian
formulas treat ``Delta`` as normal (exact for Gaussian supply noise that dominates, a central-limit
approximation otherwise); the storage formulas are the reflected-Brownian (diffusion) limit, valid for
``C >> sigma``, with Siegmund's boundary correction available for moderate ``C``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from lrm_gym.core.params import Params

SIEGMUND_BETA = -float(special.zeta(0.5)) / math.sqrt(2.0 * math.pi)
"""``-zeta(1/2) / sqrt(2 pi) ~= 0.5826``: overshoot of a Gaussian random walk over a boundary, in units of its
step std (Siegmund 1979, *Corrected diffusion approximations in certain random walk problems*)."""

_ACCURACY_SLACK = 1e-9
"""Feasibility slack on LP constraints (HiGHS works to ~1e-9 primal feasibility)."""


# --------------------------------------------------------------------------------------------------------------
# Loss rates
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossRates:
    """Long-run auxiliary draw and waste per slot (same unit as ``theta`` and ``sigma``)."""

    auxiliary: np.ndarray | float
    waste: np.ndarray | float

    @property
    def total(self) -> np.ndarray | float:
        return self.auxiliary + self.waste


def _check_sigma(sigma: np.ndarray | float) -> np.ndarray:
    sigma = np.asarray(sigma, dtype=np.float64)
    if np.any(~np.isfinite(sigma)) or np.any(sigma < 0):
        raise ValueError(f"sigma must be finite and >= 0, got {sigma.tolist()}")
    return sigma


def _out(x: np.ndarray) -> np.ndarray | float:
    return float(x) if np.ndim(x) == 0 else x


def unbuffered_loss_rates(theta: np.ndarray | float, sigma: np.ndarray | float) -> LossRates:
    """Loss rates without storage for a Gaussian imbalance ``Delta ~ N(-theta, sigma^2)``.

    With ``z = theta / sigma``, ``phi`` and ``Phi`` the standard normal pdf and cdf, the truncated-normal means
    ``E[max(Delta, 0)]`` and ``E[max(-Delta, 0)]`` are::

        aux   = sigma * phi(z) - theta * Phi(-z)
        waste = sigma * phi(z) + theta * Phi(z)

    so ``waste - aux = theta`` (the balance identity) and at criticality ``theta = 0`` both equal
    ``sigma / sqrt(2 pi)``: the first-order terms cancel and volatility sets the loss. ``sigma = 0`` gives
    the deterministic ramps ``aux = max(-theta, 0)``, ``waste = max(theta, 0)``. Broadcasts over arrays.

    Raises:
        ValueError: if ``sigma`` is negative or not finite.

    >>> r = unbuffered_loss_rates(0.0, 1.0)
    >>> round(r.auxiliary, 6) == round(1 / math.sqrt(2 * math.pi), 6) == round(r.waste, 6)
    True
    """
    sigma = _check_sigma(sigma)
    theta = np.asarray(theta, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, theta / np.where(sigma > 0, sigma, 1.0), 0.0)
    density = sigma * stats.norm.pdf(z)
    aux = np.where(sigma > 0, density - theta * stats.norm.cdf(-z), np.maximum(-theta, 0.0))
    waste = np.where(sigma > 0, density + theta * stats.norm.cdf(z), np.maximum(theta, 0.0))
    return LossRates(_out(aux), _out(waste))


def buffered_loss_rates(
    theta: np.ndarray | float,
    sigma: np.ndarray | float,
    capacity: np.ndarray | float,
    boundary_correction: bool = False,
) -> LossRates:
    """Loss rates with lossless storage of ``capacity`` (reflected-diffusion limit).

    The level is a Brownian motion with drift ``theta`` and variance ``sigma^2`` per slot reflected at ``0`` and
    ``C``. Its stationary density is ``p(x) = a exp(a x) / (exp(a C) - 1)`` with ``a = 2 theta / sigma^2``, and
    the reflection rates (local time) at the boundaries are ``sigma^2 p / 2`` there::

        aux   = theta / (exp(2 theta C / sigma^2) - 1)       (rate of pushing at 0: auxiliary energy)
        waste = aux + theta                                  (rate of pushing at C: waste)

    At criticality both tend to ``sigma^2 / (2 C)``: storage turns the ``sigma / sqrt(2 pi)`` loss into one that
    falls as ``1 / C``. Far from criticality the ramps return (``aux -> max(-theta, 0)``).

    The limit needs ``C >> sigma``. A random walk overshoots each boundary by about ``SIEGMUND_BETA * sigma``;
    ``boundary_correction=True`` uses the corrected capacity ``C + 2 * SIEGMUND_BETA * sigma`` (Siegmund 1979),
    which stays accurate down to ``C ~ sigma`` for Gaussian increments.

    Raises:
        ValueError: if ``sigma`` is negative or ``capacity`` is not positive (use
            :func:`unbuffered_loss_rates` for no storage).

    >>> r = buffered_loss_rates(0.0, 1.0, 10.0)
    >>> (round(r.auxiliary, 6), round(r.waste, 6))
    (0.05, 0.05)
    """
    sigma = _check_sigma(sigma)
    capacity = np.asarray(capacity, dtype=np.float64)
    if np.any(~np.isfinite(capacity)) or np.any(capacity <= 0):
        raise ValueError(f"capacity must be finite and > 0 (no storage: unbuffered_loss_rates), got {capacity}")
    theta = np.asarray(theta, dtype=np.float64)
    effective = capacity + 2.0 * SIEGMUND_BETA * sigma if boundary_correction else capacity
    variance = sigma**2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # theta / expm1(x) with x = 2 theta C / sigma^2, written as (sigma^2 / 2C) / exprel(x) to be exact at 0
        x = np.where(variance > 0, 2.0 * theta * effective / np.where(variance > 0, variance, 1.0), 0.0)
        diffusive = variance / (2.0 * effective) / special.exprel(x)
    aux = np.where(variance > 0, diffusive, np.maximum(-theta, 0.0))
    aux = np.where(np.isfinite(aux), aux, 0.0)  # exprel overflow: no auxiliary draw far above criticality
    return LossRates(_out(aux), _out(aux + theta))


def newsvendor_drift(sigma: float, auxiliary_cost: float, waste_cost: float) -> float:
    """Drift ``theta*`` that minimises ``c_aux E[aux] + c_waste E[waste]`` for a Gaussian imbalance, no storage.

    ``d/dtheta`` of the expected cost is ``-c_aux P(Delta > 0) + c_waste P(Delta < 0)``; setting it to zero gives
    the newsvendor critical ratio ``P(Delta <= 0) = c_aux / (c_aux + c_waste)``, i.e.
    ``theta* = sigma * Phi^{-1}(c_aux / (c_aux + c_waste))``. Equal penalties give the critical point
    ``theta* = 0``; dearer auxiliary energy pays for a surplus margin.

    Raises:
        ValueError: on negative sigma, negative costs, or both costs zero.

    >>> newsvendor_drift(1.0, 1.0, 1.0)
    0.0
    """
    sigma = float(_check_sigma(sigma))
    if auxiliary_cost < 0 or waste_cost < 0 or auxiliary_cost + waste_cost <= 0:
        raise ValueError(
            f"auxiliary_cost and waste_cost must be >= 0 with a positive sum, got {auxiliary_cost}, {waste_cost}"
        )
    ratio = auxiliary_cost / (auxiliary_cost + waste_cost)
    if ratio in (0.0, 1.0):
        raise ValueError(f"a zero {'auxiliary' if ratio == 0 else 'waste'} cost has no finite optimal supply level")
    return sigma * float(stats.norm.ppf(ratio))


def newsvendor_supply(mean_demand: float, sigma: float, auxiliary_cost: float, waste_cost: float) -> float:
    """Mean supply level ``b* = E[D] + theta*`` for unequal penalties (see :func:`newsvendor_drift`)."""
    return mean_demand + newsvendor_drift(sigma, auxiliary_cost, waste_cost)


# --------------------------------------------------------------------------------------------------------------
# Critical point and mixes
# --------------------------------------------------------------------------------------------------------------


def drift(supply_mean: float, mean_demand: float) -> float:
    """``theta = b - E[D]``: positive means systematic surplus (waste), negative systematic deficit."""
    return supply_mean - mean_demand


def critical_supply(arrival_rate: float, mean_task_energy: float, idle: float = 0.0) -> float:
    """The critical supply ``b* = lambda * mu(pi) + idle`` of a routing with mean task energy ``mu(pi)``."""
    return arrival_rate * mean_task_energy + idle


def critical_mix(mean_a: float, mean_b: float, target_mean: float) -> float:
    """Weight ``p`` on option ``a`` such that ``p mu_a + (1 - p) mu_b = target_mean``.

    With ``target_mean = (b - idle) / lambda`` the mix is at the critical point ``theta = 0``.

    Raises:
        ValueError: if the target is not between the two means (no mix of these two options is critical).

    >>> critical_mix(1.0, 3.0, 2.5)
    0.25
    """
    lo, hi = min(mean_a, mean_b), max(mean_a, mean_b)
    if not lo - 1e-12 * max(abs(hi), 1.0) <= target_mean <= hi + 1e-12 * max(abs(hi), 1.0):
        raise ValueError(
            f"target mean task energy {target_mean:.6g} is outside [{lo:.6g}, {hi:.6g}]: "
            "no mix of these two options is critical"
        )
    if mean_a == mean_b:
        return 1.0
    return float(np.clip((target_mean - mean_b) / (mean_a - mean_b), 0.0, 1.0))


@dataclass(frozen=True)
class MixResult:
    """A routing mix ``pi[t, o]`` over decision types ``t`` and options ``o``, with its moments."""

    mix: np.ndarray
    mean: float
    second_moment: float
    accuracy: float


def mix_moments(
    mix: np.ndarray, mean: np.ndarray, std: np.ndarray, accuracy: np.ndarray, weights: np.ndarray | None = None
) -> MixResult:
    """Mean, second moment ``sum w pi (s^2 + mu^2)`` and accuracy of a mix over a catalog (see LP below)."""
    mean, std, accuracy, weights = _as_catalog(mean, std, accuracy, weights)
    mix = np.asarray(mix, dtype=np.float64).reshape(mean.shape)
    wp = weights[:, None] * mix
    return MixResult(
        mix=mix,
        mean=float(np.sum(wp * mean)),
        second_moment=float(np.sum(wp * (std**2 + mean**2))),
        accuracy=float(np.sum(wp * accuracy)),
    )


def _as_catalog(
    mean: np.ndarray, std: np.ndarray, accuracy: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    mean = np.atleast_2d(np.asarray(mean, dtype=np.float64))
    std = np.atleast_2d(np.asarray(std, dtype=np.float64))
    accuracy = np.atleast_2d(np.asarray(accuracy, dtype=np.float64))
    if not mean.shape == std.shape == accuracy.shape:
        raise ValueError(f"mean, std and accuracy must share a shape, got {mean.shape}, {std.shape}, {accuracy.shape}")
    if np.any(std < 0):
        raise ValueError("option energy std must be >= 0")
    if weights is None:
        if mean.shape[0] != 1:
            raise ValueError("weights are required for a catalog with several decision types")
        weights = np.ones(1)
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    if weights.shape[0] != mean.shape[0] or np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
        raise ValueError(f"weights must be {mean.shape[0]} non-negative numbers summing to 1")
    return mean, std, accuracy, weights


def variance_aware_mix(
    mean: np.ndarray,
    std: np.ndarray,
    accuracy: np.ndarray,
    target_mean: float,
    accuracy_floor: float = 0.0,
    weights: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> MixResult:
    """The variance-aware routing LP: the critical mix with least second moment that meets an accuracy floor.

    A router that sees a decision type ``t`` (e.g. task class and difficulty, with probability ``w_t``) picks
    option ``o`` with probability ``pi[t, o]``. The task energy ``X`` then has mean ``sum w pi mu`` and second
    moment ``sum w pi (s^2 + mu^2)``, both linear in ``pi``. Fixing the mean at the critical value fixes
    ``E[X]^2``, so minimising the second moment minimises ``Var(X)`` (docs/model.md section 16)::

        minimise    sum_{t,o} w_t pi[t,o] (s[t,o]^2 + mu[t,o]^2)
        subject to  sum_o pi[t,o] = 1 for every t,    pi >= 0 (and 0 where not ``allowed``)
                    sum_{t,o} w_t pi[t,o] mu[t,o] = target_mean           (critical: lambda E[X] + idle = b)
                    sum_{t,o} w_t pi[t,o] acc[t,o] >= accuracy_floor

    solved with ``scipy.optimize.linprog`` (HiGHS). A vertex solution randomises in at most two decision types.

    Args:
        mean, std, accuracy: option tables, ``(O,)`` for one type or ``(T, O)``.
        target_mean: the critical mean task energy ``(b - idle) / lambda``.
        accuracy_floor: least expected accuracy over the tasks.
        weights: ``(T,)`` type probabilities (omit for one type).
        allowed: ``(T, O)`` bool, options the router may use.

    Raises:
        ValueError: naming the constraint that cannot be met: the target mean outside what the catalog can
            reach, the floor above the best reachable accuracy, or the floor above the best accuracy reachable
            *at* the critical mean.

    >>> r = variance_aware_mix([1.0, 2.0, 4.0], [0.0, 1.5, 0.0], [0.5, 0.7, 0.9], target_mean=2.0)
    >>> np.round(r.mix, 3).tolist()
    [[0.667, 0.0, 0.333]]
    """
    mean, std, accuracy, weights = _as_catalog(mean, std, accuracy, weights)
    n_types, n_options = mean.shape
    allowed = np.ones(mean.shape, bool) if allowed is None else np.asarray(allowed, bool).reshape(mean.shape)
    if not allowed.any(axis=1).all():
        raise ValueError(f"decision types {np.flatnonzero(~allowed.any(axis=1)).tolist()} have no allowed option")
    if not 0.0 <= accuracy_floor <= 1.0:
        raise ValueError(f"accuracy_floor must be in [0, 1], got {accuracy_floor}")

    # The reachable range of each linear functional is attained type by type at the extreme allowed option.
    lo_mean = float(np.sum(weights * np.where(allowed, mean, np.inf).min(axis=1)))
    hi_mean = float(np.sum(weights * np.where(allowed, mean, -np.inf).max(axis=1)))
    best_accuracy = float(np.sum(weights * np.where(allowed, accuracy, -np.inf).max(axis=1)))
    scale = max(abs(hi_mean), 1e-300)
    if not lo_mean - 1e-9 * scale <= target_mean <= hi_mean + 1e-9 * scale:
        raise ValueError(
            f"critical-mean constraint cannot be met: target mean task energy {target_mean:.6g} is outside the "
            f"range [{lo_mean:.6g}, {hi_mean:.6g}] that the allowed options can reach"
        )
    if accuracy_floor > best_accuracy + _ACCURACY_SLACK:
        raise ValueError(
            f"accuracy-floor constraint cannot be met: floor {accuracy_floor:.4f} exceeds the best reachable "
            f"accuracy {best_accuracy:.4f}"
        )

    wide = weights[:, None] * np.ones((1, n_options))
    a_eq = np.zeros((n_types + 1, n_types * n_options))
    for t in range(n_types):
        a_eq[t, t * n_options : (t + 1) * n_options] = 1.0
    a_eq[n_types] = (wide * mean).ravel() / scale  # scaled to O(1) for the solver
    b_eq = np.concatenate([np.ones(n_types), [target_mean / scale]])
    bounds = [(0.0, 1.0 if ok else 0.0) for ok in allowed.ravel()]

    at_critical = optimize.linprog(-(wide * accuracy).ravel(), A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if not at_critical.success:
        raise ValueError(f"critical-mean constraint cannot be met: {at_critical.message}")
    best_critical = -float(at_critical.fun)
    if accuracy_floor > best_critical + _ACCURACY_SLACK:
        raise ValueError(
            f"accuracy-floor constraint cannot be met at the critical point: floor {accuracy_floor:.4f} exceeds "
            f"{best_critical:.4f}, the best accuracy of any mix with mean task energy {target_mean:.6g}"
        )
    cost = (wide * (std**2 + mean**2)).ravel()
    result = optimize.linprog(
        cost / max(cost.max(), 1e-300),
        A_ub=-(wide * accuracy).ravel()[None, :],
        b_ub=[-(min(accuracy_floor, best_critical) - _ACCURACY_SLACK)],
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
    )
    if not result.success:  # pragma: no cover - the two checks above leave a feasible, bounded LP
        raise ValueError(f"variance-aware LP failed: {result.message}")
    mix = np.clip(result.x.reshape(n_types, n_options), 0.0, None)
    mix /= mix.sum(axis=1, keepdims=True)
    return mix_moments(mix, mean, std, accuracy, weights)


# --------------------------------------------------------------------------------------------------------------
# A scenario's routing: moments, demand and imbalance variance
# --------------------------------------------------------------------------------------------------------------


def decision_weights(params: Params) -> np.ndarray:
    """``(C, D)`` probability of each decision type: the (class, difficulty index) the router's tables use.

    With visible difficulty this is ``P(class, difficulty)``; with hidden difficulty all mass of a class sits on
    its class-average column ``Params.hidden_difficulty_index`` (whose moments the core computed by the law of
    total variance). Noisy estimates are treated as exact (an approximation the theory states here).
    """
    if params.difficulty_visible:
        return params.difficulty_distribution()
    weights = np.zeros((params.n_classes, params.max_difficulty + 2))
    weights[:, params.hidden_difficulty_index] = params.class_weight
    return weights


def option_catalog(params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The decision types of a scenario as an LP catalog: ``(mean_j, std_j, accuracy, weights)``.

    ``mean_j``, ``std_j`` and ``accuracy`` are ``(T, O)`` rows of the core's option tables for the ``T`` types
    with positive weight; ``weights`` is ``(T,)``. Use :func:`catalog_types` to map rows back to ``(c, d)``.
    """
    c, d = catalog_types(params)
    weights = decision_weights(params)[c, d]
    return params.energy_mean_j[c, d], params.energy_std_j[c, d], params.accuracy[c, d], weights / weights.sum()


def catalog_types(params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Class and difficulty-index arrays of the decision types with positive weight."""
    cls, index = np.nonzero(decision_weights(params) > 0)
    return cls, index


def _check_routing(params: Params, routing: np.ndarray) -> np.ndarray:
    routing = np.asarray(routing, dtype=np.float64)
    expected = (params.n_classes, params.max_difficulty + 2, params.n_options)
    if routing.shape != expected:
        raise ValueError(f"routing must have shape (classes, difficulty indices, options) = {expected}")
    used = decision_weights(params) > 0
    if np.any(routing < 0) or not np.allclose(routing.sum(axis=-1)[used], 1.0):
        raise ValueError("routing rows must be probability vectors over options")
    return routing


@dataclass(frozen=True)
class RoutingMoments:
    """Task-energy moments (J) and accuracy of a routing, with the two parts of ``Var(X)``."""

    mean_j: float
    within_j2: float  # sum w pi s^2: reasoning-length dispersion inside each option
    between_j2: float  # sum w pi (mu - mean)^2: which option (and task type) a task gets
    accuracy: float

    @property
    def variance_j2(self) -> float:
        return self.within_j2 + self.between_j2


def routing_moments(params: Params, routing: np.ndarray) -> RoutingMoments:
    """Moments of the task energy ``X`` when decision type ``(c, d)`` uses option ``o`` w.p. ``routing[c, d, o]``.

    ``X`` is a mixture over (type, option) pairs with weights ``w_cd pi_cdo``; the law of total variance splits
    ``Var(X) = sum w pi s^2 + sum w pi (mu - E[X])^2`` into within-option and between-option terms.
    """
    routing = _check_routing(params, routing)
    wp = decision_weights(params)[..., None] * routing
    mean = float(np.sum(wp * params.energy_mean_j))
    return RoutingMoments(
        mean_j=mean,
        within_j2=float(np.sum(wp * params.energy_std_j**2)),
        between_j2=float(np.sum(wp * (params.energy_mean_j - mean) ** 2)),
        accuracy=float(np.sum(wp * params.accuracy)),
    )


def mean_slot_demand(params: Params, routing: np.ndarray) -> float:
    """``E[D] = lambda E[X] + idle`` in J per slot (the long-run arrival rate; profiles have mean 1)."""
    return critical_supply(params.arrival_rate, routing_moments(params, routing).mean_j, params.idle_j)


def arrival_variance(params: Params) -> float:
    """``Var(A)`` of the per-slot arrival count, long-run over the daily profile.

    ``constant``: counts are ``floor`` or ``ceil`` of the rate, variance ``f (1 - f)`` with ``f`` its fractional
    part; ``poisson``: the rate; ``negbin``: ``rate + rate^2 / dispersion``. With a daily profile the rate varies
    by hour and the law of total variance adds the variance of the rate across the (equally long) profile
    entries. The constant kind's carry makes successive counts dependent; its long-run variance is still
    ``f (1 - f)`` for a flat profile. ``trace``: ``A = Binomial(c, p)`` with ``c`` the measured count of a
    uniformly random trace slot, so ``p (1 - p) mean(c) + p^2 var(c)`` (successive counts of the trace are
    correlated; this is the marginal variance of one slot).
    """
    if params.arrival_kind == "trace":  # Binomial(c, p) with c uniform over the trace's slots
        counts, keep = params.arrival_trace_counts, params.arrival_keep
        return float(keep * (1.0 - keep) * counts.mean() + keep**2 * counts.var())
    rates = params.arrival_rate * params.arrival_profile
    if params.arrival_kind == "constant":
        frac = rates - np.floor(rates)
        conditional = frac * (1.0 - frac)
    elif params.arrival_kind == "poisson":
        conditional = rates
    else:
        conditional = rates + rates**2 / params.arrival_dispersion
    return float(np.mean(conditional) + np.var(rates))


def supply_variance(params: Params) -> float:
    """Marginal per-slot variance of the baseline supply (J^2).

    ``constant``: 0; ``gaussian`` and ``ar1``: ``std^2`` (the clip at 0 is ignored: negligible when the mean is
    several std above 0). Solar and trace supplies are not stationary and have no closed form here.

    Raises:
        ValueError: for ``solar`` and ``trace`` supplies.
    """
    kind = params.supply.kind
    if kind == "constant":
        return 0.0
    if kind in ("gaussian", "ar1"):
        return params.supply.std_j**2
    raise ValueError(f"supply variance has a closed form for constant, gaussian and ar1 supply, not {kind!r}")


@dataclass(frozen=True)
class VarianceDecomposition:
    """Per-slot variance (J^2) of demand and of the imbalance ``Delta = D - B``, split by source."""

    arrivals: float  # Var(A) E[X]^2
    within_option: float  # E[A] sum w pi s^2
    between_option: float  # E[A] sum w pi (mu - E[X])^2
    supply: float  # Var(B)

    @property
    def demand(self) -> float:
        return self.arrivals + self.within_option + self.between_option

    @property
    def imbalance(self) -> float:
        return self.demand + self.supply

    def as_dict(self) -> dict[str, float]:
        return {
            "arrivals": self.arrivals,
            "within_option": self.within_option,
            "between_option": self.between_option,
            "supply": self.supply,
            "demand": self.demand,
            "imbalance": self.imbalance,
        }


def variance_decomposition(params: Params, routing: np.ndarray) -> VarianceDecomposition:
    """``Var(D) = E[A] Var(X) + Var(A) E[X]^2`` (compound sum) split by source, plus ``Var(B)`` for the imbalance.

    ``D = sum_{j <= A} X_j + idle`` with ``A`` independent of the iid ``X_j``: the law of total variance over
    ``A`` gives ``E[A] Var(X) + Var(A) E[X]^2``, and :func:`routing_moments` splits ``Var(X)`` into the
    within-option (reasoning length) and between-option terms. Supply is independent of demand, so
    ``Var(Delta) = Var(D) + Var(B)``.
    """
    moments = routing_moments(params, routing)
    rate = params.arrival_rate
    return VarianceDecomposition(
        arrivals=arrival_variance(params) * moments.mean_j**2,
        within_option=rate * moments.within_j2,
        between_option=rate * moments.between_j2,
        supply=supply_variance(params),
    )


@dataclass(frozen=True)
class OperatingPoint:
    """Drift, imbalance std and predicted loss rates (J per slot) of a routing in a scenario."""

    mean_demand_j: float
    supply_mean_j: float
    theta_j: float
    sigma_j: float
    auxiliary_j: float
    waste_j: float


def operating_point(params: Params, routing: np.ndarray, boundary_correction: bool = True) -> OperatingPoint:
    """Predicted per-slot loss rates of a static routing in a scenario (unbuffered or buffered by its storage).

    Storage is treated as lossless and unlimited in power; the buffered case uses the Siegmund-corrected
    diffusion by default (see :func:`buffered_loss_rates`).
    """
    demand = mean_slot_demand(params, routing)
    theta = drift(params.supply.mean_j, demand)
    sigma = math.sqrt(variance_decomposition(params, routing).imbalance)
    capacity = params.storage.capacity_j
    rates = (
        buffered_loss_rates(theta, sigma, capacity, boundary_correction)
        if capacity > 0
        else unbuffered_loss_rates(theta, sigma)
    )
    return OperatingPoint(demand, params.supply.mean_j, theta, sigma, float(rates.auxiliary), float(rates.waste))
