"""A digest of full-length episodes of every shipped scenario: proves a change leaves existing ids' episodes
(observations, rewards, terminations, infos) identical, or shows that it does not (then bump ``-vN``).

    python benchmarks/episode_digest.py            # one sha256 per scenario
    python benchmarks/episode_digest.py --slots 24 # shorter episodes (horizon override), faster

Run it before and after a change to ``lrm_gym`` and compare the lines. Two policies per scenario: random
valid actions from a seeded generator (they defer, so queues fill) and ``supply-tracking`` (state feedback).
"""

from __future__ import annotations

import argparse
import hashlib

import gymnasium as gym
import numpy as np

import lrm_gym  # noqa: F401  (registers the ids)
from lrm_gym.registration import SCENARIO_IDS, env_id


def _feed(h: hashlib._Hash, value: object) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            h.update(str(key).encode())
            _feed(h, value[key])
    elif isinstance(value, np.ndarray):
        h.update(str(value.dtype).encode() + repr(value.shape).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    else:
        h.update(repr(value).encode())


def digest(scenario: str, slots: int | None, seed: int = 7) -> str:
    from agents.policies.analytic import make_policy

    h = hashlib.sha256()
    kwargs = {"overrides": {"horizon_slots": slots}} if slots else {}
    for which in ("random", "supply-tracking"):
        env = gym.make(env_id(scenario), **kwargs)
        rng = np.random.default_rng(seed)
        policy = make_policy("supply-tracking", env) if which == "supply-tracking" else None
        obs, info = env.reset(seed=seed)
        _feed(h, obs)
        _feed(h, info)
        done = False
        while not done:
            mask = info["action_mask"]
            if policy is None:
                action = int(rng.choice(np.flatnonzero(mask)))
            else:
                action = int(policy.predict(obs, action_masks=mask)[0])
            obs, reward, terminated, truncated, info = env.step(action)
            for part in (obs, reward, terminated, truncated, info):
                _feed(h, part)
            done = terminated or truncated
        env.close()
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=None, help="horizon override (default: full length)")
    parser.add_argument("--scenarios", nargs="*", default=sorted(SCENARIO_IDS))
    args = parser.parse_args()
    for scenario in args.scenarios:
        print(scenario, digest(scenario, args.slots), flush=True)


if __name__ == "__main__":
    main()
