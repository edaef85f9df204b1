"""Does reading the measured grid signal pay? The forecast MPC charging each slot's measured carbon (or price)
against the same MPC charging a flat penalty equal to the signal's mean, on the same seeds.

    python benchmarks/grid_signal_mpc.py --episodes 6

For ``grid-caiso-carbon-*`` the flat MPC plans with ``auxiliary_per_kwh = 400 + 1,250 * 0.24 = 700`` (the
carbon weight at the 2020 mean MOER) and no carbon weight; for ``grid-ercot-price-summer`` with
``auxiliary_per_kwh = 6,400 * 0.110 = 704`` (the price weight at the period's mean price) and no price weight.
Both run in the scenario's own env, so both are scored by the measured signal. Prints, per scenario and policy, the mean
return, auxiliary kWh and carbon kg or cost with 95 % t half-widths, and the paired difference of returns.
"""

from __future__ import annotations

import argparse
from typing import Any

from agents.benchmark.statistics import mean_ci
from agents.evaluation import evaluate
from agents.policies.analytic import SupplyTracking
from agents.policies.mpc import ForecastMPC
from lrm_gym.core.params import build_params
from lrm_gym.registration import env_id
from lrm_gym.scenarios import load_scenario

FLAT: dict[str, dict[str, Any]] = {
    "grid-caiso-carbon-summer": {"reward": {"auxiliary_per_kwh": 400.0 + 1250.0 * 0.24, "carbon_per_kg": 0.0}},
    "grid-caiso-carbon-winter": {"reward": {"auxiliary_per_kwh": 400.0 + 1250.0 * 0.24, "carbon_per_kg": 0.0}},
    "grid-ercot-price-summer": {"reward": {"auxiliary_per_kwh": 6400.0 * 0.110, "price_weight": 0.0}},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--scenarios", nargs="*", default=sorted(FLAT))
    args = parser.parse_args()
    seeds = list(range(args.episodes))
    for scenario in args.scenarios:
        eid = env_id(scenario)
        flat_params = build_params(load_scenario(scenario, FLAT[scenario]))
        runs = {
            "mpc (slot signal)": evaluate(ForecastMPC.from_env, eid, seeds),
            "mpc (flat mean)": evaluate(ForecastMPC(flat_params), eid, seeds),
            "supply-tracking": evaluate(SupplyTracking.from_env, eid, seeds),
        }
        for name, episodes in runs.items():
            parts = []
            for metric in ("episode_return", "accuracy", "auxiliary_kwh", "auxiliary_carbon_kg", "auxiliary_cost"):
                mean, half = mean_ci([getattr(e, metric) for e in episodes])
                parts.append(f"{metric} {mean:.4g} +- {half:.2g}")
            print(f"{scenario} | {name} | " + " | ".join(parts), flush=True)
        gain = [
            a.episode_return - b.episode_return
            for a, b in zip(runs["mpc (slot signal)"], runs["mpc (flat mean)"], strict=True)
        ]
        mean, half = mean_ci(gain)
        print(f"{scenario} | slot signal minus flat mean, paired return: {mean:.4g} +- {half:.2g}", flush=True)


if __name__ == "__main__":
    main()
