"""Aggregate the Azure LLM inference traces 2023 to per-minute arrivals and token statistics.

Source: ``AzureLLMInferenceTrace_conv.csv`` (conversation service, 19,366 requests) and
``AzureLLMInferenceTrace_code.csv`` (code service, 8,819 requests) of the Azure LLM inference trace 2023
(Azure/AzurePublicDataset on GitHub), read from a local copy given as the only argument (the copy is not
needed at run time or in tests). Columns: ``TIMESTAMP`` (request arrival, to 0.1 microsecond; the source does
not state the time zone), ``ContextTokens`` (prompt length), ``GeneratedTokens`` (output length). Each file
covers about one hour on 2023-11-16. Licence: CC-BY-4.0 (the source's LICENSE, copied to
``lrm_gym/scenarios/data/LICENSE-CC-BY-4.0.txt``); attribution: Patel et al., "Splitwise: Efficient generative
LLM inference using phase splitting", ISCA 2024.

Transformations, per service:

1. Per minute (bins of 60 s from the first request's minute, ``floor``): number of requests, mean, median and
   90th percentile of context tokens, mean of generated tokens, total context and generated tokens. The
   first and last minutes are partly outside the sampled hour (the trace starts and ends inside them). A
   minute without requests gets 0 requests and totals, and empty (missing) per-request statistics.
2. Per request: arrival time in seconds after the first request (rounded to 1 ms), context tokens,
   generated tokens, unchanged (every request of the source, in source order).

Outputs: ``lrm_gym/scenarios/data/azure-llm-2023-<conv|code>-per-minute.csv`` (60 or 58 rows) and
``azure-llm-2023-<conv|code>-requests.csv`` (19,366 and 8,819 rows).

Run: ``/tmp/extract-venv/bin/pip install pandas`` then
``/tmp/extract-venv/bin/python scripts/extract_azure_llm_2023.py /path/to/azure-llm-inference-2023``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
from extract_common import DATA_DIR, command_line, write_csv

SERVICES = {"conv": "conversation", "code": "code"}
LICENCE = (
    "CC-BY-4.0 (https://creativecommons.org/licenses/by/4.0/; text in LICENSE-CC-BY-4.0.txt). "
    "Attribution: Microsoft Azure, Azure LLM inference trace 2023 (github.com/Azure/AzurePublicDataset), "
    'Patel et al., "Splitwise: Efficient generative LLM inference using phase splitting", ISCA 2024. '
    "Changed: aggregated per minute / times made relative, as stated in this header"
)


def header(title: str, source_file: str, units: str) -> dict[str, str]:
    return {
        "title": title,
        "source": f"{source_file} of the Azure LLM inference trace 2023 (Azure/AzurePublicDataset, "
        "data/AzureLLMInferenceTrace_*.csv)",
        "licence": LICENCE,
        "units": units,
        "time zone": "as recorded in the source's TIMESTAMP (time zone not stated by the source); 2023-11-16",
        "command": command_line(),
    }


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: python {sys.argv[0]} /path/to/azure-llm-inference-2023")
    source = Path(sys.argv[1])
    shutil.copyfile(source / "LICENSE", DATA_DIR / "LICENSE-CC-BY-4.0.txt")
    for key, service in SERVICES.items():
        source_file = f"AzureLLMInferenceTrace_{key}.csv"
        raw = pd.read_csv(source / source_file)
        time = pd.to_datetime(raw["TIMESTAMP"], format="%Y-%m-%d %H:%M:%S.%f")
        if not time.is_monotonic_increasing:
            raise SystemExit(f"{source_file}: timestamps are not in order")
        first_minute = time.iloc[0].floor("min")
        minute = ((time - first_minute) // pd.Timedelta(minutes=1)).astype(int)
        context, generated = raw["ContextTokens"], raw["GeneratedTokens"]
        groups = pd.DataFrame({"minute": minute, "context": context, "generated": generated}).groupby("minute")
        minutes = pd.RangeIndex(minute.max() + 1)  # every minute, including any without a request
        per_minute = pd.DataFrame(
            {
                "minute_start": [(first_minute + pd.Timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M") for m in minutes],
                "requests": groups.size().reindex(minutes, fill_value=0).to_numpy(),
                "context_tokens_mean": groups["context"].mean().reindex(minutes).to_numpy(),
                "context_tokens_median": groups["context"].median().reindex(minutes).to_numpy(),
                "context_tokens_p90": groups["context"].quantile(0.9).reindex(minutes).to_numpy(),
                "generated_tokens_mean": groups["generated"].mean().reindex(minutes).to_numpy(),
                "context_tokens_total": groups["context"].sum().reindex(minutes, fill_value=0).to_numpy(),
                "generated_tokens_total": groups["generated"].sum().reindex(minutes, fill_value=0).to_numpy(),
            }
        )
        write_csv(
            f"azure-llm-2023-{key}-per-minute.csv",
            header(
                f"Azure LLM inference 2023, {service} service: requests and tokens per minute",
                source_file,
                "requests: count per minute; tokens: per request (mean, median, 90th percentile) or summed over "
                "the minute; the first and last minutes are only partly inside the sampled hour; per-request "
                "statistics are empty in a minute without requests",
            ),
            per_minute,
            float_format="%.1f",
        )
        requests = pd.DataFrame(
            {
                "arrival_s": ((time - time.iloc[0]).dt.total_seconds()).map("{:.3f}".format),
                "context_tokens": context,
                "generated_tokens": generated,
            }
        )
        write_csv(
            f"azure-llm-2023-{key}-requests.csv",
            header(
                f"Azure LLM inference 2023, {service} service: every request",
                source_file,
                f"arrival_s: seconds after the first request (at {time.iloc[0]}), rounded to 1 ms; tokens: counts",
            ),
            requests,
        )
        rate = per_minute["requests"].iloc[1:-1]
        print(
            f"{key}: {len(raw)} requests, {rate.mean():.0f} per full minute (std {rate.std():.0f}), "
            f"context median {context.median():.0f}, generated median {generated.median():.0f}"
        )


if __name__ == "__main__":
    main()
