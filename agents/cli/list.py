"""``lrm-gym list``: the registered env ids, the shipped scenarios and the analytic policies, one line each."""

from __future__ import annotations

import argparse
from typing import Any

import gymnasium as gym

import lrm_gym
from agents.policies.analytic import POLICIES
from lrm_gym.registration import NAMESPACE, SCENARIO_IDS, env_id
from lrm_gym.scenarios.loader import load_scenario


def rows() -> dict[str, list[tuple[str, str]]]:
    """``{"ids": [(id, scenario: description)], "policies": [(name, summary)]}``."""
    ids = []
    for spec_id in sorted(i for i in gym.registry if i.startswith(f"{NAMESPACE}/")):
        scenario = gym.registry[spec_id].kwargs.get("scenario", "")
        ids.append((spec_id, f"{scenario}: {load_scenario(scenario).description}"))
    policies = [(name, cls.summary) for name, cls in POLICIES.items()]
    return {"ids": ids, "policies": policies}


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    listing = rows()
    console = Console() if Console().is_terminal else Console(width=160)
    for title, key, head in (
        ("Environment ids", "ids", "scenario: description"),
        ("Analytic policies", "policies", ""),
    ):
        table = Table(title=title)
        table.add_column("id" if key == "ids" else "--policy")
        table.add_column(head or "rule")
        for name, text in listing[key]:
            table.add_row(name, text)
        console.print(table)
    console.print(f"Default id {env_id()} runs the critical scenario; scenarios: {', '.join(SCENARIO_IDS)}.")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("list", help="list env ids, scenarios and analytic policies")
    parser.set_defaults(func=run)


__all__ = ["add_parser", "lrm_gym", "rows"]
