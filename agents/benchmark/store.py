"""Finished runs on disk, so that a killed benchmark resumes where it stopped.

Each finished run is written at once to ``<out>/runs/results/<key>.json``, where the key is the sha256 of the
run's canonical JSON (:func:`run_key`). The file is written to a temporary name in the same folder and then
renamed (``os.replace``), so a file under its final name is always complete, even if the process is killed
mid-write. A later ``lrm-gym benchmark`` into the same ``--out`` reads these files back instead of running
the same runs again (:func:`load_finished`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.benchmark.runs import RunResult, RunSpec

FORMAT = 1
"""Version of the result files' layout; files of another version are ignored (and the run is redone)."""


def results_dir(out: str | Path) -> Path:
    """Where the finished runs of the benchmark writing to ``out`` are kept."""
    return Path(out) / "runs" / "results"


def spec_record(spec: RunSpec) -> dict[str, Any]:
    """The spec as plain JSON data, without its run folder: the folder follows ``--out`` (``out`` and
    ``./out`` name the same runs), while the run's numbers do not depend on where it writes."""
    record = json.loads(json.dumps(dataclasses.asdict(spec)))  # tuples -> lists, as read back from a file
    del record["run_dir"]
    return record


def run_key(spec: RunSpec) -> str:
    """sha256 of the spec's canonical JSON (sorted keys, no whitespace): the same spec, the same key."""
    canonical = json.dumps(spec_record(spec), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def result_path(out: str | Path, spec: RunSpec) -> Path:
    return results_dir(out) / f"{run_key(spec)}.json"


def save_result(out: str | Path, result: RunResult) -> Path:
    """Write one finished run atomically (temporary file in the same folder, flushed, then renamed)."""
    path = result_path(out, result.spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "spec"}
    payload = {"format": FORMAT, "key": path.stem, "spec": spec_record(result.spec), "result": fields}
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp", delete=False) as f:
        json.dump(payload, f)  # floats as repr: read back bit for bit (NaN too)
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)
    return path


def load_result(out: str | Path, spec: RunSpec) -> RunResult | None:
    """The finished run of ``spec``, or ``None`` when there is none or its file does not match ``spec``."""
    path = result_path(out, spec)
    try:
        payload = json.loads(path.read_text())
        if payload["format"] != FORMAT or payload["key"] != path.stem or payload["spec"] != spec_record(spec):
            return None
        fields = payload["result"]
        return RunResult(
            spec=spec,
            episodes=tuple(fields["episodes"]),
            trajectory=fields["trajectory"],
            wall_seconds=fields["wall_seconds"],
            curve_timesteps=tuple(fields["curve_timesteps"]),
            curve_returns=tuple(fields["curve_returns"]),
            model_path=fields["model_path"],
            curve_wall_seconds=tuple(fields.get("curve_wall_seconds", ())),  # absent in files of earlier versions
        )
    except (OSError, ValueError, KeyError, TypeError):  # missing, unreadable or not ours: run it again
        return None


def load_finished(out: str | Path, specs: Sequence[RunSpec]) -> dict[int, RunResult]:
    """The finished runs among ``specs``, by their index in ``specs``."""
    found = {}
    for i, spec in enumerate(specs):
        result = load_result(out, spec)
        if result is not None:
            found[i] = result
    return found
