"""``lrm-gym evaluate``: score one analytic policy on one env with the shared evaluation protocol.

On a slot-level id (``lrm_gym/EnergyDispatch-*``) the policy's slot form runs (:mod:`agents.policies.slot`).

Episodes use seeds ``seed, seed + 1, ...`` through :func:`agents.evaluation.evaluate`, the same loop the
benchmark uses. Prints a table of each metric's mean with a 95% confidence interval across episodes (Student
t, :func:`agents.benchmark.statistics.mean_ci`) and writes the per-episode metrics and the summary as JSON.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym

import lrm_gym
from agents.benchmark.intervals import mean_ci
from agents.benchmark.suite import SEED_LIMIT
from agents.cli.checks import json_object, seed, writable_file
from agents.evaluation import EpisodeMetrics, evaluate
from agents.policies.analytic import POLICIES, make_policy
from agents.policies.slot import slot_policy_factory
from lrm_gym.registration import DISPATCH_FAMILY, NAMESPACE, env_id, resolve_env_id

SHOWN = {
    "episode_return": "return",
    "accuracy": "accuracy",
    "auxiliary_kwh": "auxiliary kWh",
    "waste_kwh": "waste kWh",
    "energy_per_correct_kj": "energy per correct (kJ)",
    "tasks_dropped": "dropped tasks",
    "mean_wait_slots": "mean wait (slots)",
}
"""Metrics in the printed table (the JSON holds every metric)."""


def summary(episodes: Sequence[EpisodeMetrics]) -> dict[str, dict[str, float]]:
    """``{metric: {"mean": m, "ci95": half_width}}`` for every metric."""
    names = [n for n in EpisodeMetrics.__dataclass_fields__ if n not in ("seed", "steps")]
    out = {}
    for name in names:
        mean, half = mean_ci([float(getattr(e, name)) for e in episodes])
        out[name] = {"mean": mean, "ci95": half}
    return out


def _per_task(name: str, kwargs: dict[str, Any], env: gym.Env) -> Any:
    return make_policy(name, env, **kwargs)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    if args.episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {args.episodes}")
    if args.seed + args.episodes > SEED_LIMIT:
        raise ValueError(f"--seed {args.seed} + --episodes {args.episodes} go past the last seed 2**32 - 1")
    env = resolve_env_id(args.env)
    overrides = json_object(args.overrides, "--overrides")
    kwargs = json_object(args.policy_kwargs, "--policy-kwargs")
    out = Path(args.out) if args.out else Path("runs", "evaluate", f"{args.policy}_{env.split('/')[-1]}.json")
    writable_file(out, "--out")  # before the episodes, not after
    seeds = list(range(args.seed, args.seed + args.episodes))
    # a slot-level id (lrm_gym/EnergyDispatch-*) runs the policy's slot form, on an env made with its action mode
    slot_level = env.startswith(f"{NAMESPACE}/{DISPATCH_FAMILY}-")
    policy: Any = slot_policy_factory(args.policy, **kwargs) if slot_level else partial(_per_task, args.policy, kwargs)
    episodes = evaluate(policy, env, seeds, overrides=overrides or None, progress=True)
    result = summary(episodes)

    table = Table(title=f"{args.policy} on {env}: {args.episodes} episodes, seeds {seeds[0]}..{seeds[-1]}")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("95% CI (+/-)", justify="right")
    for name, label in SHOWN.items():
        table.add_row(label, f"{result[name]['mean']:.4g}", f"{result[name]['ci95']:.2g}")
    console = Console() if Console().is_terminal else Console(width=120)
    console.print(table)

    payload = {
        "policy": args.policy,
        "policy_kwargs": kwargs,
        "env": env,
        "overrides": overrides,
        "seeds": seeds,
        "summary": result,
        "episodes": [e.as_dict() for e in episodes],
    }
    out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {out}")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("evaluate", help="evaluate an analytic policy on an env (table + JSON)")
    parser.add_argument("--policy", required=True, choices=sorted(POLICIES), help="analytic policy name")
    parser.add_argument("--env", default=env_id(), help="env id or scenario name (default: %(default)s)")
    parser.add_argument("--episodes", type=int, default=10, help="evaluation episodes (default: %(default)s)")
    parser.add_argument("--seed", type=seed, default=0, help="first evaluation seed (default: %(default)s)")
    parser.add_argument("--overrides", help='scenario overrides as JSON, e.g. \'{"supply": {"provisioning": 1.2}}\'')
    parser.add_argument("--policy-kwargs", help="policy parameters as JSON, e.g. '{\"target\": 0.8}'")
    parser.add_argument("--out", help="JSON output path (default: runs/evaluate/<policy>_<env>.json)")
    parser.set_defaults(func=run)


__all__ = ["add_parser", "lrm_gym", "resolve_env_id", "summary"]
