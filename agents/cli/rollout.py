"""``lrm-gym rollout``: one seeded episode of every shipped scenario under a simple rule, summarised.

The rule is :class:`agents.policies.analytic.AccuracyTarget`, the inference-compute reference rule: the cheapest
option whose expected accuracy for the task meets a target, else the most accurate option.
"""

from __future__ import annotations

import argparse
from typing import Any

import gymnasium as gym
from rich.console import Console
from rich.table import Table

import lrm_gym
from agents.policies.analytic import AccuracyTarget
from lrm_gym.core.units import JOULES_PER_KWH
from lrm_gym.registration import SCENARIO_IDS, env_id


def run_episode(scenario: str, seed: int, target: float) -> dict[str, Any]:
    env = gym.make(env_id(scenario))
    policy = AccuracyTarget.from_env(env, target=target)
    obs, info = env.reset(seed=seed)
    episode_return, steps = 0.0, 0
    while True:
        action, _ = policy.predict(obs, action_masks=info["action_mask"].astype(bool))
        obs, reward, terminated, truncated, info = env.step(int(action))
        episode_return += float(reward)
        steps += 1
        if terminated or truncated:
            break
    totals = info["totals"]
    kwh = JOULES_PER_KWH
    return {
        "scenario": scenario,
        "steps": steps,
        "return": episode_return,
        "accuracy": totals["tasks_correct"] / max(totals["tasks_dispatched"], 1),
        "baseline_kwh": totals["baseline_j"] / kwh,
        "demand_kwh": totals["demand_j"] / kwh,
        "auxiliary_kwh": totals["auxiliary_j"] / kwh,
        "waste_kwh": totals["waste_j"] / kwh,
        "balance_error_j": totals["baseline_j"]
        + totals["discharge_j"]
        + totals["auxiliary_j"]
        - totals["demand_j"]
        - totals["charge_j"]
        - totals["waste_j"],
        "dropped": totals["tasks_dropped"],
    }


def run(args: argparse.Namespace) -> int:
    table = Table(
        title=f"One seeded episode per scenario (seed {args.seed}), rule: cheapest option with "
        f"expected accuracy >= {args.target}"
    )
    columns = [
        "scenario",
        "steps",
        "return",
        "accuracy",
        "baseline kWh",
        "demand kWh",
        "auxiliary kWh",
        "waste kWh",
        "balance error J",
        "dropped",
    ]
    for column in columns:
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for scenario in SCENARIO_IDS:
        r = run_episode(scenario, args.seed, args.target)
        table.add_row(
            scenario,
            str(r["steps"]),
            f"{r['return']:.1f}",
            f"{r['accuracy']:.3f}",
            f"{r['baseline_kwh']:.3f}",
            f"{r['demand_kwh']:.3f}",
            f"{r['auxiliary_kwh']:.4f}",
            f"{r['waste_kwh']:.4f}",
            f"{r['balance_error_j']:.1e}",
            str(r["dropped"]),
        )
    console = Console()
    if not console.is_terminal:  # keep the table readable in logs and CI (rich assumes 80 columns there)
        console = Console(width=160)
    console.print(table)
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rollout", help="run one seeded episode of every scenario under a simple rule and summarise it"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=0.7, help="expected-accuracy target of the rule")
    parser.set_defaults(func=run)


__all__ = ["add_parser", "lrm_gym", "run_episode"]
