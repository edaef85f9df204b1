"""One evaluation protocol for every policy: analytic, learned, or anything with SB3's ``predict``.

The benchmark, ``lrm-gym evaluate`` and the tests all call :func:`evaluate`, so an analytic policy and a
learned one are scored by exactly the same code on exactly the same seeds. It runs the per-task
(``EnergyRouting``) and the slot-level (``EnergyDispatch``) envs alike: the episode totals are the same
counters, and a step is a routing decision in one and a slot in the other.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

import lrm_gym  # noqa: F401  (registers the env ids)
from lrm_gym.core.units import JOULES_PER_KWH


class Policy(Protocol):
    """Anything with Stable-Baselines3's ``predict`` signature (an ``action_masks`` keyword is optional)."""

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[Any, Any]: ...


class MaskedPolicy(Protocol):
    """A :class:`Policy` whose ``predict`` takes the ``action_masks`` keyword (analytic and learned policies)."""

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[Any, Any]: ...


@dataclass(frozen=True)
class EpisodeMetrics:
    """Totals of one evaluation episode. Energies in kWh, carbon in kg, waits in slots."""

    seed: int
    steps: int
    episode_return: float
    accuracy: float  # correct / dispatched
    tasks_arrived: int
    tasks_dispatched: int
    tasks_correct: int
    tasks_dropped: int
    baseline_kwh: float
    demand_kwh: float
    auxiliary_kwh: float
    waste_kwh: float
    auxiliary_cost: float
    auxiliary_carbon_kg: float
    energy_per_correct_kj: float  # all demand (idle included) per correct answer
    mean_wait_slots: float  # slots a dispatched task waited

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


METRICS: tuple[str, ...] = tuple(name for name in EpisodeMetrics.__dataclass_fields__ if name not in ("seed", "steps"))


def _accepts_action_masks(policy: Policy) -> bool:
    try:
        return "action_masks" in inspect.signature(policy.predict).parameters
    except (TypeError, ValueError):
        return False


StepCallback = Callable[[Mapping[str, Any]], None]
"""Called with each step's ``info`` (e.g. to record an episode's energy balance slot by slot)."""


def run_episode(
    env: gym.Env, policy: Policy, seed: int, deterministic: bool = True, on_step: StepCallback | None = None
) -> EpisodeMetrics:
    """Play one episode from ``env.reset(seed=seed)`` and summarise it (``on_step`` sees every step's info)."""
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    masks = discrete and _accepts_action_masks(policy)
    obs, info = env.reset(seed=seed)
    state: Any = None
    episode_start = np.ones((1,), dtype=bool)
    total, steps = 0.0, 0
    while True:
        kwargs = {"action_masks": info["action_mask"].astype(bool)} if masks else {}
        action, state = policy.predict(
            obs, state=state, episode_start=episode_start, deterministic=deterministic, **kwargs
        )
        # a routing decision is one integer; a slot action (EnergyDispatch envs) a vector
        step_action = int(np.asarray(action).reshape(-1)[0]) if discrete else np.asarray(action)
        obs, reward, terminated, truncated, info = env.step(step_action)
        episode_start = np.zeros((1,), dtype=bool)
        if on_step is not None:
            on_step(info)
        total += float(reward)
        steps += 1
        if terminated or truncated:
            return summarise(info["totals"], seed=seed, steps=steps, episode_return=total)


def summarise(totals: Mapping[str, Any], seed: int, steps: int, episode_return: float) -> EpisodeMetrics:
    """Episode metrics from the env's ``info["totals"]``."""
    dispatched, correct = int(totals["tasks_dispatched"]), int(totals["tasks_correct"])
    return EpisodeMetrics(
        seed=seed,
        steps=steps,
        episode_return=float(episode_return),
        accuracy=correct / dispatched if dispatched else 0.0,
        tasks_arrived=int(totals["tasks_arrived"]),
        tasks_dispatched=dispatched,
        tasks_correct=correct,
        tasks_dropped=int(totals["tasks_dropped"]),
        baseline_kwh=totals["baseline_j"] / JOULES_PER_KWH,
        demand_kwh=totals["demand_j"] / JOULES_PER_KWH,
        auxiliary_kwh=totals["auxiliary_j"] / JOULES_PER_KWH,
        waste_kwh=totals["waste_j"] / JOULES_PER_KWH,
        auxiliary_cost=float(totals["auxiliary_cost"]),
        auxiliary_carbon_kg=totals["auxiliary_carbon_g"] / 1000.0,
        energy_per_correct_kj=totals["demand_j"] / 1000.0 / correct if correct else float("nan"),
        mean_wait_slots=totals["wait_slots"] / dispatched if dispatched else 0.0,
    )


def make_eval_env(
    env_id: str, overrides: Mapping[str, Any] | None = None, env_kwargs: Mapping[str, Any] | None = None
) -> gym.Env:
    """A fresh evaluation env (never the training env), with optional make kwargs (e.g. a slot env's ``action``)."""
    kwargs: dict[str, Any] = dict(env_kwargs or {})
    if overrides:
        kwargs["overrides"] = dict(overrides)
    return gym.make(env_id, **kwargs)


def evaluate(
    policy: Policy | Callable[[gym.Env], Policy],
    env_id: str,
    seeds: Iterable[int],
    overrides: Mapping[str, Any] | None = None,
    deterministic: bool = True,
    progress: bool = False,
    on_step: Callable[[int, Mapping[str, Any]], None] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
) -> list[EpisodeMetrics]:
    """Evaluate ``policy`` on one episode per seed of a fresh env.

    Args:
        policy: a policy, or a factory ``env -> policy`` (e.g. ``AccuracyTarget.from_env``) called once on
            the evaluation env.
        env_id: a registered id.
        seeds: the evaluation seeds (the same list for every policy in a comparison).
        overrides: scenario overrides for the evaluation env.
        deterministic: passed to ``predict``.
        progress: show a progress bar over episodes.
        on_step: called as ``on_step(seed, info)`` after every step.
        env_kwargs: make kwargs of the evaluation env; by default the policy's (or factory's) own
            ``env_kwargs`` attribute if it has one (the slot-level forms name their ``action`` mode there,
            :mod:`agents.policies.slot`), else none.
    """
    if env_kwargs is None:
        env_kwargs = getattr(policy, "env_kwargs", None)
    env = make_eval_env(env_id, overrides, env_kwargs)
    if not hasattr(policy, "predict"):
        policy = policy(env)  # type: ignore[operator]
    seeds = list(seeds)
    iterator: Iterable[int] = seeds
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(seeds, desc=f"evaluate {env_id}", unit="episode")
    try:
        return [
            run_episode(env, policy, seed, deterministic, None if on_step is None else partial(on_step, seed))  # type: ignore[arg-type]
            for seed in iterator
        ]
    finally:
        env.close()


def mean_metrics(episodes: Sequence[EpisodeMetrics]) -> dict[str, float]:
    """Mean of every metric over episodes (NaN-aware for energy per correct answer)."""
    return {name: float(np.nanmean([getattr(e, name) for e in episodes])) for name in METRICS}
