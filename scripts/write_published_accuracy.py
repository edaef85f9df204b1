"""Write the published benchmark accuracies that lrm_gym calibrates its measured model catalogue to.

Every number below is copied by hand from the publication named in its row (no computation): GPQA-Diamond
accuracy in thinking mode of the Qwen3 dense models, from the Qwen3 Technical Report (Qwen Team,
arXiv:2505.09388, May 2025), Tables 13, 15 and 17. The report's evaluation setting (its section 4.6): thinking
mode, sampling temperature 0.6, top-p 0.95, top-k 20, at most 32,768 output tokens. These are the models whose
energy per token and output length ML.ENERGY v3 measured on the same benchmark (``ml_energy_v3_catalogue.csv``,
task ``gpqa``, GPQA Diamond with reasoning on).

Output: ``lrm_gym/scenarios/data/published_accuracy.csv``. Run: ``python scripts/write_published_accuracy.py``
(needs pandas).
"""

from __future__ import annotations

import pandas as pd
from extract_common import command_line, write_csv

QWEN3_REPORT = "Qwen Team, Qwen3 Technical Report, arXiv:2505.09388 (2025)"
SETTING = "thinking mode; temperature 0.6, top-p 0.95, top-k 20; at most 32768 output tokens"
ROWS = [
    # model_id (as in ml_energy_v3_catalogue.csv), benchmark, accuracy (fraction), where in the source
    ("Qwen/Qwen3-8B", "gpqa-diamond", 0.620, f"{QWEN3_REPORT}, Table 17 (Qwen3-8B, GPQA-Diamond 62.0)"),
    ("Qwen/Qwen3-14B", "gpqa-diamond", 0.640, f"{QWEN3_REPORT}, Table 15 (Qwen3-14B, GPQA-Diamond 64.0)"),
    ("Qwen/Qwen3-32B", "gpqa-diamond", 0.684, f"{QWEN3_REPORT}, Table 13 (Qwen3-32B, GPQA-Diamond 68.4)"),
]


def main() -> None:
    frame = pd.DataFrame(
        [{"model_id": m, "benchmark": b, "setting": SETTING, "accuracy": a, "source": s} for m, b, a, s in ROWS]
    )
    header = {
        "title": "Published benchmark accuracies of models in the ML.ENERGY v3 catalogue (one citation per row)",
        "source": f"{QWEN3_REPORT}, Tables 13, 15 and 17 (GPQA-Diamond, thinking mode); "
        "the source column cites each number",
        "licence": "published results cited as facts with the citation in each row",
        "units": "accuracy: fraction of questions answered correctly (the source's percentage / 100)",
        "time zone": "not applicable",
        "command": command_line(),
    }
    write_csv("published_accuracy.csv", header, frame, float_format="%.3f")


if __name__ == "__main__":
    main()
