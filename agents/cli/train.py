"""``lrm-gym train``: train one agent into an rl-zoo3-style run folder ``<log-folder>/<algo>/<env>_<n>/``.

Flags follow rl-zoo3's ``train.py`` (``--algo --env --seed -n --eval-freq --eval-episodes -f -i -conf
-params --save-freq --progress``). ``--backend`` picks the training library from :data:`TRAIN_BACKENDS`
(``sb3`` here; other backends register themselves with :func:`register_backend`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from agents.training.sb3 import ALGOS, TrainSpec, prepare, run_prepared

TrainBackend = Callable[[TrainSpec], Path]
"""A function that validates a spec (``ValueError`` before any training), trains, and returns the run folder."""


def _train_sb3(spec: TrainSpec) -> Path:
    run = prepare(spec)
    print(
        f"Training {spec.algo} on {spec.env_id} for {run.n_timesteps} steps (hyperparameters {run.hyperparams.source})"
    )
    print(f"Log path: {run.run_dir}")
    return run_prepared(run)


TRAIN_BACKENDS: dict[str, TrainBackend] = {"sb3": _train_sb3}


def register_backend(name: str, backend: TrainBackend) -> None:
    """Make ``backend`` selectable with ``lrm-gym train --backend name``."""
    TRAIN_BACKENDS[name] = backend


# --- RLlib backend (agents/training/rllib.py) ------------------------------------------------------------------
def _train_rllib(spec: TrainSpec) -> Path:
    # Imported when chosen, so the default backend and the quick start never need the `ray` extra.
    from agents.training.rllib import train_spec

    # RAY_ADDRESS (set by `ray job submit`) joins that cluster, as Ray's own tools do; else a local runtime.
    return train_spec(spec, address=os.environ.get("RAY_ADDRESS") or None)


register_backend("rllib", _train_rllib)


def parse_key_values(items: list[str] | None, flag: str) -> dict[str, Any]:
    """``["gamma:0.99", "policy_kwargs:{net_arch: [64]}"]`` -> ``{"gamma": 0.99, ...}`` (values are YAML)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise ValueError(f"{flag} expects key:value pairs, got {item!r}")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise ValueError(f"{flag} {key}: value {value!r} is not valid YAML ({err})") from err
        out[key] = _number(parsed) if isinstance(parsed, str) else parsed
    return out


def _number(text: str) -> float | str:
    """YAML 1.1 reads ``1e-3`` (no dot) as a string; command lines mean the number."""
    try:
        return float(text)
    except ValueError:
        return text


def spec_from_args(args: argparse.Namespace) -> TrainSpec:
    return TrainSpec(
        algo=args.algo,
        env_id=args.env,
        seed=args.seed,
        n_timesteps=args.n_timesteps,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
        log_folder=args.log_folder,
        conf_file=args.conf_file,
        hyperparams=parse_key_values(args.hyperparams, "--hyperparams"),
        env_kwargs=parse_key_values(args.env_kwargs, "--env-kwargs"),
        trained_agent=args.trained_agent or None,
        save_freq=args.save_freq,
        progress=args.progress,
        verbose=args.verbose,
    )


def run(args: argparse.Namespace) -> int:
    if args.backend not in TRAIN_BACKENDS:
        raise ValueError(f"unknown backend {args.backend!r}; choose one of {sorted(TRAIN_BACKENDS)}")
    try:
        run_dir = TRAIN_BACKENDS[args.backend](spec_from_args(args))
    except (ValueError, OSError) as err:
        # one line, as argparse's own errors (library messages, e.g. pydantic's, span several lines)
        raise ValueError(" ".join(str(err).split())) from err
    print(f"Saved run to {run_dir}")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an RL router (SB3 / sb3-contrib) into logs/<algo>/<env>_<n>/",
        description="Train an RL router; flags as in rl-zoo3's train.py.",
    )
    # choices are checked in run() so that an unknown value gets the same clear error as other bad input
    parser.add_argument("--algo", required=True, help=f"one of {sorted(ALGOS)}")
    parser.add_argument("--env", default="lrm_gym/EnergyRouting-v2", help="a registered env id")
    parser.add_argument("--backend", default="sb3", help=f"training library, one of {sorted(TRAIN_BACKENDS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-n", "--n-timesteps", type=int, default=None, help="overwrite the hyperparameter file's")
    parser.add_argument("--eval-freq", type=int, default=10_000, help="evaluate every n env steps (<=0: never)")
    parser.add_argument("--eval-episodes", type=int, default=5)
    parser.add_argument("--save-freq", type=int, default=-1, help="checkpoint every n env steps (<=0: never)")
    parser.add_argument("-f", "--log-folder", default="logs")
    parser.add_argument("-conf", "--conf-file", default=None, help="hyperparameter YAML (default configs/<algo>.yml)")
    parser.add_argument("-i", "--trained-agent", default="", help="a saved model (.zip) to continue training")
    parser.add_argument("-params", "--hyperparams", nargs="+", help="overwrite hyperparameters, key:value")
    parser.add_argument("--env-kwargs", nargs="+", help="gym.make keyword arguments, key:value (e.g. overrides:...)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bar")
    parser.add_argument("-v", "--verbose", type=int, default=0)
    parser.set_defaults(func=run)
