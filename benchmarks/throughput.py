"""Throughput of lrm_gym's single and vector envs against Gymnasium's CartPole-v1, measured in one process.

Read top to bottom (cleanrl style). Every number printed is measured in this run: steps per second for

- CartPole-v1 through ``gym.make`` (random actions) and its native vector env at 1024 envs;
- the lrm_gym single env through ``gym.make`` (random *valid* actions: ``action_space.sample()`` reads the
  current mask, so the agent-side cost of masking is included, as CartPole's sampling is);
- the lrm_gym native vector env at 1, 64, 1024 and 4096 envs (random valid actions per sub-env);
- the slot-level env (``lrm_gym/EnergyDispatch-*``, one step decides a whole slot) through ``gym.make`` and its
  native vector env at 1, 64 and 1024 envs, in slots per second and in the per-task decisions those slots made
  per second (random ``allowance`` actions: ``action_space.sample()``), next to the per-task env's steps per
  second (one step is one decision there);

the time of one ``reset`` and the memory of the simulator state per sub-env. Ratios are against CartPole
measured in the same process: the timed windows run round-robin over all envs, ``--repeats`` rounds, and
each ratio is the median over rounds of (lrm_gym rate / CartPole rate in the same round), so a change in
the machine's load hits both sides of a ratio. The rates printed are the best window of each env.

Usage::

    python benchmarks/throughput.py                  # default scenario, ~1 minute
    python benchmarks/throughput.py --env-id lrm_gym/EnergyRouting-SolarBattery-v2 --seconds 1
    python benchmarks/throughput.py --sizes 1 64 1024 --slot-sizes 1 64 1024 --repeats 3   # shorter
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial

import gymnasium as gym
import numpy as np

import lrm_gym
from lrm_gym.envs.vector import EnergyRoutingVectorEnv


@dataclass
class Args:
    env_id: str = "lrm_gym/EnergyRouting-v2"
    """the lrm_gym env id to measure"""
    seconds: float = 1.0
    """length of one timed window"""
    repeats: int = 5
    """round-robin rounds of timed windows"""
    sizes: tuple[int, ...] = (1, 64, 1024, 4096)
    """numbers of sub-envs for the vector env"""
    cartpole_vector_size: int = 1024
    """number of sub-envs for CartPole's vector env"""
    slot_sizes: tuple[int, ...] = (1, 64, 1024)
    """numbers of sub-envs for the slot-level vector env (its id: the env id's EnergyDispatch twin)"""
    seed: int = 0


def parse_args() -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for f in fields(Args):
        default = getattr(Args, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(default, tuple):
            parser.add_argument(flag, type=int, nargs="+", default=list(default), help=f.metadata.get("help"))
        else:
            parser.add_argument(flag, type=type(default), default=default)
    values = vars(parser.parse_args())
    values["sizes"] = tuple(values["sizes"])
    values["slot_sizes"] = tuple(values["slot_sizes"])
    return Args(**values)


def dispatch_id(env_id: str) -> str:
    """The slot-level id of the same scenario (``EnergyRouting-X-v2`` -> ``EnergyDispatch-X-v2``)."""
    return lrm_gym.registration.dispatch_env_id(gym.spec(env_id).kwargs["scenario"])


def window_rate(step_batch: Callable[[], int], seconds: float) -> float:
    """Env-steps per second over one window; ``step_batch`` runs some steps and returns how many."""
    steps, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        steps += step_batch()
    return steps / elapsed


def single_env_batch(env_id: str, args: Args) -> Callable[[], int]:
    env = gym.make(env_id)
    env.reset(seed=args.seed)
    env.action_space.seed(args.seed)

    def batch() -> int:
        for _ in range(1000):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        return 1000

    batch()  # warm-up (first-call checks, caches)
    return batch


def vector_env_batch(env_id: str, num_envs: int, args: Args) -> Callable[[], int]:
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    envs.reset(seed=args.seed)
    envs.action_space.seed(args.seed)
    per_batch = max(1, 20_000 // num_envs)

    def batch() -> int:
        for _ in range(per_batch):
            envs.step(envs.action_space.sample())
        return per_batch * num_envs

    batch()
    return batch


class SlotCounter:
    """Per-task decisions made by the slot steps of one env (``info["decisions"]``), to turn slots/s into
    decisions/s."""

    def __init__(self) -> None:
        self.slots = 0
        self.decisions = 0

    def add(self, decisions: object) -> None:
        values = np.asarray(decisions)
        self.slots += values.size
        self.decisions += int(values.sum())

    @property
    def per_slot(self) -> float:
        return self.decisions / max(self.slots, 1)


def slot_env_batch(env_id: str, args: Args, counter: SlotCounter) -> Callable[[], int]:
    env = gym.make(env_id)
    env.reset(seed=args.seed)
    env.action_space.seed(args.seed)

    def batch() -> int:
        for _ in range(100):
            _, _, terminated, truncated, info = env.step(env.action_space.sample())
            counter.add(info["decisions"])
            if terminated or truncated:
                env.reset()
        return 100

    batch()
    return batch


def slot_vector_batch(env_id: str, num_envs: int, args: Args, counter: SlotCounter) -> Callable[[], int]:
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    envs.reset(seed=args.seed)
    envs.action_space.seed(args.seed)
    per_batch = max(1, 2_000 // num_envs)

    def batch() -> int:
        for _ in range(per_batch):
            _, _, _, _, info = envs.step(envs.action_space.sample())
            counter.add(info["decisions"])
        return per_batch * num_envs

    batch()
    return batch


def measure(args: Args) -> tuple[dict[str, float], dict[str, float]]:
    """Best rate of every env, and the median ratio of each lrm_gym env to its CartPole reference.

    The windows run round-robin, ``repeats`` rounds: a reference and the envs compared with it are measured
    seconds apart in every round, so a change in the machine's load hits both sides of a ratio.
    """
    batches = {
        "cartpole": single_env_batch("CartPole-v1", args),
        "cartpole_vector": vector_env_batch("CartPole-v1", args.cartpole_vector_size, args),
        "single": single_env_batch(args.env_id, args),
    } | {f"vector{n}": vector_env_batch(args.env_id, n, args) for n in args.sizes}
    slot_id = dispatch_id(args.env_id)
    counters = {"slot": SlotCounter()} | {f"slot_vector{n}": SlotCounter() for n in args.slot_sizes}
    batches["slot"] = slot_env_batch(slot_id, args, counters["slot"])
    for n in args.slot_sizes:
        batches[f"slot_vector{n}"] = slot_vector_batch(slot_id, n, args, counters[f"slot_vector{n}"])
    rounds: dict[str, list[float]] = {name: [] for name in batches}
    for _ in range(args.repeats):
        for name, batch in batches.items():
            rounds[name].append(window_rate(batch, args.seconds))
    best = {name: max(rates) for name, rates in rounds.items()}
    ratio = {"single": _median_ratio(rounds["single"], rounds["cartpole"])} | {
        f"vector{n}": _median_ratio(rounds[f"vector{n}"], rounds["cartpole_vector"]) for n in args.sizes
    }
    # slot envs: decisions per slot step, and their decision rate over the per-task env's step rate
    ratio |= {f"{name}_per_slot": counter.per_slot for name, counter in counters.items()}
    ratio["slot"] = _median_ratio([r * counters["slot"].per_slot for r in rounds["slot"]], rounds["single"])
    return best, ratio


def _median_ratio(rates: list[float], reference: list[float]) -> float:
    return float(np.median([r / ref for r, ref in zip(rates, reference, strict=True)]))


def reset_seconds(make: Callable[[], gym.Env | gym.vector.VectorEnv], repeats: int = 5) -> float:
    env = make()
    env.reset(seed=0)
    times = []
    for seed in range(1, repeats + 1):
        start = time.perf_counter()
        env.reset(seed=seed)
        times.append(time.perf_counter() - start)
    return min(times)


def state_bytes_per_env(env_id: str, num_envs: int = 64) -> float:
    envs = EnergyRoutingVectorEnv(num_envs, scenario=gym.spec(env_id).kwargs["scenario"])
    state = envs._state
    return sum(getattr(state, f.name).nbytes for f in fields(state)) / num_envs


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs, load average {load:.1f}; Python {platform.python_version()}, "
        f"numpy {np.__version__}, gymnasium {gym.__version__}, lrm_gym {lrm_gym.__version__}"
    )


def main() -> None:
    args = parse_args()
    print(f"machine: {machine()}")
    print(f"env: {args.env_id}; {args.repeats} round-robin rounds of {args.seconds:.1f} s windows\n")

    best, ratio = measure(args)
    rows = [
        ("CartPole-v1, gym.make", best["cartpole"], "reference"),
        (f"CartPole-v1, vector x{args.cartpole_vector_size}", best["cartpole_vector"], "reference"),
        ("lrm_gym single, gym.make", best["single"], f"{ratio['single']:.3f}x CartPole"),
    ]
    for n in args.sizes:
        rows.append((f"lrm_gym vector x{n}", best[f"vector{n}"], f"{ratio[f'vector{n}']:.3f}x CartPole vector"))
    print(f"{'env':<34}{'env-steps/s':>14}  ratio (median over rounds)")
    for name, rate, text in rows:
        print(f"{name:<34}{rate:>14,.0f}  {text}")

    print(f"\nslot-level env {dispatch_id(args.env_id)} (one step decides a slot; random allowance actions)")
    print(f"{'env':<34}{'slots/s':>14}{'decisions/slot':>16}{'decisions/s':>14}")
    slot_rows = [("slot single, gym.make", "slot")]
    slot_rows += [(f"slot vector x{n}", f"slot_vector{n}") for n in args.slot_sizes]
    for name, key in slot_rows:
        per_slot = ratio[f"{key}_per_slot"]
        print(f"{name:<34}{best[key]:>14,.0f}{per_slot:>16.1f}{best[key] * per_slot:>14,.0f}")
    print(
        f"slot single env: {ratio['slot']:.2f}x the per-task single env's decisions/s (median over rounds; "
        f"per-task single env {best['single']:,.0f} steps/s = decisions/s)"
    )

    print("\nreset time (best of 5):")
    scenario = gym.spec(args.env_id).kwargs["scenario"]
    print(f"  single env: {reset_seconds(lambda: gym.make(args.env_id)) * 1e3:.2f} ms")
    for n in args.sizes:
        seconds = reset_seconds(partial(EnergyRoutingVectorEnv, n, scenario=scenario))
        print(f"  vector x{n}: {seconds * 1e3:.2f} ms ({seconds / n * 1e6:.1f} us per sub-env)")
    per_env = state_bytes_per_env(args.env_id)
    print(f"\nsimulator state per sub-env: {per_env / 1024:.1f} KiB (x4096 = {per_env * 4096 / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
