"""Write the ML.ENERGY benchmark v3 measurements used by lrm_gym into a small cited table.

Source: the per-configuration results of the ML.ENERGY leaderboard v3 (github.com/ml-energy/leaderboard,
``public/data/tasks/{gpqa,lm-arena-chat,sourcegraph-fim}.json``, updated 2026-02-16), read from a local copy
given as the only argument. The source repository has no licence file, so its files are NOT shipped: this
script copies the measured numbers below as facts, with the citation Chung et al., "The ML.ENERGY Benchmark:
Toward Automated Inference Energy Measurement and Optimization", NeurIPS 2025 Datasets and Benchmarks.

Each source configuration is one model served by vLLM on ``num_gpus`` GPUs of one type (B200 or H100) with
``max_num_seqs`` (the batch size limit) on one task: ``gpqa`` (GPQA Diamond, reasoning on), ``lm-arena-chat``
(chat), ``sourcegraph-fim`` (code fill-in-the-middle).

Transformations: none to the numbers (no unit conversion, no rounding beyond 6 significant digits); only
these fields are kept, renamed to carry their unit: task, model_id, architecture, total and activated
parameters (billions), weight precision, gpu_model, num_gpus, tensor/expert/data parallel degrees,
max_num_seqs, avg_batch_size, energy_per_token_joules, energy_per_request_joules, avg_output_len (tokens),
avg_power_watts (all GPUs of the configuration), output_throughput_tokens_per_sec, median_itl_ms. Rows are
sorted by task, model, GPU, number of GPUs and batch size.

Output: ``lrm_gym/scenarios/data/ml_energy_v3_catalogue.csv``.

Run: ``/tmp/extract-venv/bin/pip install pandas`` then
``/tmp/extract-venv/bin/python scripts/extract_ml_energy_v3.py /path/to/ml-energy-leaderboard-v3``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
from extract_common import command_line, write_csv

TASKS = ("gpqa", "lm-arena-chat", "sourcegraph-fim")
FIELDS = {
    "model_id": "model_id",
    "architecture": "architecture",
    "total_params_billions": "total_params_billions",
    "activated_params_billions": "activated_params_billions",
    "weight_precision": "weight_precision",
    "gpu_model": "gpu_model",
    "num_gpus": "num_gpus",
    "tensor_parallel": "tensor_parallel",
    "expert_parallel": "expert_parallel",
    "data_parallel": "data_parallel",
    "max_num_seqs": "max_num_seqs",
    "avg_batch_size": "avg_batch_size",
    "energy_per_token_joules": "energy_per_token_j",
    "energy_per_request_joules": "energy_per_request_j",
    "avg_output_len": "avg_output_tokens",
    "avg_power_watts": "avg_power_w",
    "output_throughput_tokens_per_sec": "output_tokens_per_s",
    "median_itl_ms": "median_inter_token_latency_ms",
}


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: python {sys.argv[0]} /path/to/ml-energy-leaderboard-v3")
    source = Path(sys.argv[1])
    rows = []
    for task in TASKS:
        document = json.loads((source / f"{task}.json").read_text(encoding="utf-8"))
        for configuration in document["configurations"]:
            rows.append({"task": task, **{new: configuration[old] for old, new in FIELDS.items()}})
    frame = pd.DataFrame(rows).sort_values(["task", "model_id", "gpu_model", "num_gpus", "max_num_seqs"])
    if frame.drop(columns=["architecture", "weight_precision"]).isna().any().any():
        raise SystemExit("missing measurements in the source")
    header = {
        "title": "ML.ENERGY benchmark v3: measured inference energy per configuration (model, GPU, batch size, task)",
        "source": 'Chung et al., "The ML.ENERGY Benchmark: Toward Automated Inference Energy Measurement and '
        'Optimization", NeurIPS 2025 Datasets and Benchmarks; leaderboard v3 data (github.com/ml-energy/leaderboard, '
        "public/data/tasks/{gpqa,lm-arena-chat,sourcegraph-fim}.json, updated 2026-02-16)",
        "licence": "measured numbers cited as facts with the citation above; the source files have no licence "
        "file and are not redistributed",
        "units": "energy_per_token_j: J per output token (all GPUs); energy_per_request_j: J; avg_output_tokens: "
        "tokens per request; avg_power_w: W (all GPUs); output_tokens_per_s: tokens/s; latency: ms; "
        "params: billions; max_num_seqs: vLLM batch size limit",
        "time zone": "not applicable (per-configuration averages)",
        "command": command_line(),
    }
    write_csv("ml_energy_v3_catalogue.csv", header, frame, float_format="%.6g")
    qwen = frame[(frame["task"] == "gpqa") & (frame["model_id"] == "Qwen/Qwen3-32B") & (frame["gpu_model"] == "B200")]
    print(qwen[["num_gpus", "max_num_seqs", "energy_per_token_j", "avg_output_tokens"]].to_string(index=False))


if __name__ == "__main__":
    main()
