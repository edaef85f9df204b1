"""Train learned routers on the slot-level envs and score them against the analytic policies and the optimum.

For each scenario: train ``--algo`` (seed 0, ``configs/<algo>.yml``'s entry for the slot-level id) through
``agents.training.sb3``, evaluate the final model on the benchmark's evaluation seeds (1000000..1000005 by
default) with ``agents.evaluation.evaluate``, and append one JSON line (curve, evaluation returns, training wall
time) to ``--out``. ``--plot`` draws every recorded run's learning curve (validation episodes, another env seed) and its
final model's evaluation mean and 95% CI (a square) against the best non-learned policy and the hindsight
optimum on the evaluation seeds (``docs/results/headroom/headroom.json``).

    python benchmarks/slot_training.py --algo ppo -n 60000 --scenarios solar-battery volatile --out runs.jsonl
    python benchmarks/slot_training.py --plot runs.jsonl --figure learning_curves.png
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

HEADROOM = Path(__file__).resolve().parents[1] / "docs" / "results" / "headroom" / "headroom.json"


def train_and_score(algo: str, scenario: str, n: int, log_folder: str, seeds: list[int]) -> dict[str, Any]:
    import torch

    from agents.evaluation import evaluate
    from agents.policies.sb3 import policy_factory
    from agents.training.hyperparams import load_hyperparams
    from agents.training.sb3 import TrainSpec, last_model, train
    from lrm_gym import dispatch_env_id

    torch.set_num_threads(1)  # as the benchmark's workers run
    env_id = dispatch_env_id(scenario)
    start = time.perf_counter()
    run = train(TrainSpec(algo, env_id, 0, n, eval_freq=max(n // 10, 1000), eval_episodes=3, log_folder=log_folder))
    wall = time.perf_counter() - start
    with np.load(run / "evaluations.npz") as data:
        curve = [(int(t), float(r)) for t, r in zip(data["timesteps"], data["results"].mean(axis=1), strict=True)]
    hp = load_hyperparams(algo, env_id)
    factory = policy_factory(last_model(run), algo, hp.wrappers, {"action": hp.env_kwargs.get("action", "allowance")})
    returns = [e.episode_return for e in evaluate(factory, env_id, seeds)]
    return {"algo": algo, "scenario": scenario, "n": n, "run": str(run), "train_wall_s": wall, "curve": curve,
            "eval_seeds": seeds, "eval_last": returns}  # fmt: skip


def plot(records: list[dict[str, Any]], figure: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats

    headroom = json.loads(HEADROOM.read_text())
    scenarios = list(dict.fromkeys(r["scenario"] for r in records))
    fig, axes = plt.subplots(1, len(scenarios), figsize=(4.2 * len(scenarios), 3.3), squeeze=False)
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        for r in (r for r in records if r["scenario"] == scenario):
            steps, values = zip(*r["curve"], strict=True)
            line = ax.plot(steps, values, marker=".", label=f"{r['algo']} {r['n'] // 1000}k (validation)")[0]
            # the final model on the evaluation seeds (the episodes the lines are on): mean and 95% CI
            final = np.asarray(r["eval_last"], dtype=float)
            half = stats.t.ppf(0.975, final.size - 1) * final.std(ddof=1) / np.sqrt(final.size)
            ax.errorbar([r["n"]], [final.mean()], yerr=[half], color=line.get_color(), marker="s", capsize=3)
        analytic = [x for x in headroom["returns"] if x["scenario"] == scenario and x["label"] != "optimum"]
        best = max(analytic, key=lambda x: x["mean"])
        ax.axhline(best["mean"], color="black", linestyle="--", label=f"best analytic: {best['label']}")
        ax.axhline(headroom["optima"][scenario]["optimum"], color="black", label="hindsight optimum")
        ax.set_title(scenario)
        ax.set_xlabel("training steps (slots)")
        ax.set_ylabel("episode return")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(figure, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("-n", type=int, default=60_000, help="training steps (slots) per scenario")
    parser.add_argument("--scenarios", nargs="+", default=["solar-battery", "solar", "volatile", "wind-trace"])
    parser.add_argument("--seeds", type=int, nargs=2, default=[1_000_000, 6], metavar=("START", "COUNT"))
    parser.add_argument("--log-folder", default="logs")
    parser.add_argument("--out", type=Path, help="append one JSON line per scenario here")
    parser.add_argument("--plot", type=Path, help="draw the learning curves of this JSON-lines file")
    parser.add_argument("--figure", type=Path, default=Path("slot_learning_curves.png"))
    args = parser.parse_args()
    if args.plot is not None:
        plot([json.loads(line) for line in args.plot.read_text().splitlines() if line.strip()], args.figure)
        return
    seeds = list(range(args.seeds[0], args.seeds[0] + args.seeds[1]))
    for scenario in args.scenarios:
        record = train_and_score(args.algo, scenario, args.n, args.log_folder, seeds)
        print(json.dumps(record), flush=True)
        if args.out is not None:
            with args.out.open("a") as f:
                f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
