"""MaskablePPO on lrm_gym with SB3's DummyVecEnv of single envs against NativeVecEnv, measured in one process.

Prints, for each, the environment steps per second of ``model.learn`` (collection plus updates) and of
collection alone (``predict`` with masks and ``step``, the part the env's speed decides). Same scenario,
number of envs, hyperparameters and seed for both; torch on one thread so the comparison is not about
BLAS threads.

Usage::

    python benchmarks/sb3_training.py                 # 64 envs, volatile, about a minute
    python benchmarks/sb3_training.py --num-envs 256
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

import lrm_gym  # noqa: F401 (registers the ids)
from agents.training.sb3_vec_env import NativeVecEnv


def measure(make: Callable[[], VecEnv], num_envs: int, rollouts: int, seed: int) -> tuple[float, float]:
    """Steps per second of ``learn`` over ``rollouts`` rollouts of 64 steps, and of collection alone."""
    env = make()
    model = MaskablePPO("MultiInputPolicy", env, n_steps=64, batch_size=1024, n_epochs=1, seed=seed)
    steps = num_envs * 64 * rollouts
    start = time.perf_counter()
    model.learn(steps)
    learn_rate = steps / (time.perf_counter() - start)
    obs = env.reset()
    start = time.perf_counter()
    for _ in range(200):
        actions, _ = model.predict(obs, action_masks=get_action_masks(env))
        obs, _, _, _ = env.step(actions)
    return learn_rate, 200 * num_envs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--scenario", default="volatile")
    parser.add_argument("--rollouts", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    makers: dict[str, Callable[[], VecEnv]] = {
        "NativeVecEnv": lambda: VecMonitor(NativeVecEnv(args.num_envs, scenario=args.scenario)),
        "DummyVecEnv of single envs": lambda: make_vec_env(
            "lrm_gym/EnergyRouting-v2", n_envs=args.num_envs, seed=args.seed, env_kwargs={"scenario": args.scenario}
        ),
    }
    print(f"MaskablePPO, {args.num_envs} envs, scenario {args.scenario}, torch threads 1")
    print(f"{'vec env':<28}{'learn steps/s':>16}{'collect steps/s':>18}")
    rates = {name: measure(make, args.num_envs, args.rollouts, args.seed) for name, make in makers.items()}
    for name, (learn, collect) in rates.items():
        print(f"{name:<28}{learn:>16,.0f}{collect:>18,.0f}")
    (native_learn, native_collect), (dummy_learn, dummy_collect) = rates.values()
    print(
        f"ratio native / dummy: learn {native_learn / dummy_learn:.2f}x, collect {native_collect / dummy_collect:.2f}x"
    )


if __name__ == "__main__":
    main()
