"""``lrm-gym dataset``: record seeded episodes of a policy into a local Minari dataset (offline RL)."""

from __future__ import annotations

import argparse
from typing import Any

from agents.cli.checks import json_object
from agents.datasets import dataset_path, record_dataset
from agents.policies.analytic import POLICIES
from lrm_gym.registration import env_id


def run(args: argparse.Namespace) -> int:
    try:
        import minari  # noqa: F401
    except ImportError:
        raise ValueError("lrm-gym dataset needs Minari: pip install -e '.[clients]' (or pip install minari)") from None
    dataset = record_dataset(
        dataset_id=args.name,
        env_name=args.env,
        policy=args.policy,
        episodes=args.episodes,
        seed=args.seed,
        algo=args.algo,
        policy_kwargs=json_object(args.policy_kwargs, "--policy-kwargs"),
        overrides=json_object(args.overrides, "--overrides"),
    )
    print(
        f"{args.name}: {dataset.total_episodes} episodes, {dataset.total_steps} steps in {dataset_path(args.name)}"
        f" (load with minari.load_dataset({args.name!r}))"
    )
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("dataset", help="record episodes of a policy into a local Minari dataset")
    parser.add_argument(
        "--policy", required=True, help=f"analytic policy ({', '.join(sorted(POLICIES))}) or a saved SB3 model .zip"
    )
    parser.add_argument("--algo", help="the saved model's algorithm (ppo, a2c, dqn, maskable-ppo)")
    parser.add_argument("--env", default=env_id(), help="env id or scenario name (default: %(default)s)")
    parser.add_argument("--episodes", type=int, default=10, help="episodes to record (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="episode i is reset with seed + i (default: %(default)s)")
    parser.add_argument("--name", required=True, help="Minari dataset id, e.g. lrm_gym/critical-accuracy-target-v0")
    parser.add_argument("--overrides", help="scenario overrides as JSON, e.g. '{\"horizon_slots\": 24}'")
    parser.add_argument("--policy-kwargs", help="analytic policy parameters as JSON, e.g. '{\"target\": 0.8}'")
    parser.set_defaults(func=run)
