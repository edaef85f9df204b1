"""Every analytic policy on the per-task env and, as its slot form, on the slot-level env: same scenario, same
evaluation seeds, same evaluation code (:func:`agents.evaluation.evaluate`), so the two families are compared on
the same episodes.

    python benchmarks/slot_policies.py                                  # volatile, 6 seeds, full length
    python benchmarks/slot_policies.py --scenario solar-battery --seeds 6

Prints, per policy, the mean episode return of each family with the half-width of its 95% Student-t interval
across episodes, the paired difference (per-task minus slot) with its interval, whether every episode's
totals-based metrics (accuracy, energies, counts) are identical, and the wall time of each evaluation.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import gymnasium as gym
import numpy as np
from scipy import stats

from agents.evaluation import EpisodeMetrics, evaluate
from agents.policies.analytic import POLICIES, AnalyticPolicy, make_policy
from agents.policies.slot import slot_policy_factory
from lrm_gym.registration import dispatch_env_id, env_id


def half_width(values: np.ndarray) -> float:
    """Half-width of the 95% Student-t confidence interval of the mean (0 for fewer than two values)."""
    if values.size < 2:
        return 0.0
    return float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))


def same_totals(a: list[EpisodeMetrics], b: list[EpisodeMetrics]) -> bool:
    """Whether every episode's metrics other than steps and return (summed in another order) are equal."""

    def kept(episode: EpisodeMetrics) -> dict[str, float | int]:
        return {k: v for k, v in episode.as_dict().items() if k not in ("steps", "episode_return")}

    return all(kept(x) == kept(y) for x, y in zip(a, b, strict=True))


def _per_task_policy(name: str, env: gym.Env) -> AnalyticPolicy:
    return make_policy(name, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="volatile")
    parser.add_argument("--seeds", type=int, default=6, help="evaluation episodes (seeds 1000000, 1000001, ...)")
    parser.add_argument("--slots", type=int, default=None, help="horizon override (default: full length)")
    args = parser.parse_args()
    seeds = range(1_000_000, 1_000_000 + args.seeds)
    overrides = {"horizon_slots": args.slots} if args.slots else None
    print(f"scenario {args.scenario}, seeds {seeds.start}..{seeds.stop - 1}, {env_id(args.scenario)} against "
          f"{dispatch_env_id(args.scenario)}")  # fmt: skip
    print(f"{'policy':<18}{'per-task return':>20}{'slot return':>20}{'difference':>18}  same totals  time (s)")
    for name in POLICIES:
        start = time.perf_counter()
        per_task = evaluate(partial(_per_task_policy, name), env_id(args.scenario), seeds, overrides)
        middle = time.perf_counter()
        slot = evaluate(slot_policy_factory(name), dispatch_env_id(args.scenario), seeds, overrides)
        end = time.perf_counter()
        a = np.array([e.episode_return for e in per_task])
        b = np.array([e.episode_return for e in slot])
        print(
            f"{name:<18}{a.mean():>11.1f} ± {half_width(a):<6.1f}{b.mean():>11.1f} ± {half_width(b):<6.1f}"
            f"{(a - b).mean():>9.1f} ± {half_width(a - b):<6.1f}  {same_totals(per_task, slot)!s:<11}"
            f"  {middle - start:.1f} / {end - middle:.1f}"
        )


if __name__ == "__main__":
    main()
