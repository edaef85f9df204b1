"""Supply trace CSVs: rows checked one by one, errors with the file and line number and never its content."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from lrm_gym.scenarios.loader import MAX_TRACE_ROWS, MAX_TRACE_VALUE, load_scenario, load_trace


def _trace(tmp_path: Path, body: str, name: str = "trace.csv") -> str:
    path = tmp_path / name
    path.write_text("# comment\nhour,cf\n" + body, encoding="utf-8")
    return str(path)


BAD_ROWS = [
    ("0,0.5\n1,1e308\n", r"line 4: the value must be finite and in \[0, 1e\+12\]"),  # made the supply 0 all run
    ("0,0.5\n1,0.3,9\n", r"line 4 has 3 fields, the header has 2"),  # ragged: was read as 9
    ("0,0.5\n1\n", r"line 4 has 1 fields, the header has 2"),
    ("0,nan\n", r"line 3: the value must be finite"),
    ("0,inf\n", r"line 3: the value must be finite"),
    ("0,-0.1\n", r"line 3: the value must be finite and in"),
    ("0,0.5\n1,abc\n", r"line 4: the last field is not a number"),
    ("0,0\n1,0\n", r"must have a positive mean"),
    ("", r"has no data rows after its header"),
]


@pytest.mark.parametrize(("body", "match"), BAD_ROWS)
def test_bad_rows_are_named_by_line(tmp_path: Path, body: str, match: str) -> None:
    path = _trace(tmp_path, body)
    with pytest.raises(ValueError, match=match) as caught:
        load_scenario("wind-trace", {"supply": {"trace": path}})
    assert str(caught.value).startswith(f"supply.trace: '{path}'")
    assert "\n" not in str(caught.value)


def test_other_files_are_not_read_or_echoed(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"neither a shipped trace \[.*'wind'.*\] nor an existing \.csv file"
    ) as caught:
        load_trace("../../../../etc/passwd")
    assert "root" not in str(caught.value)
    secret = tmp_path / "secret.csv"
    secret.write_text("password,hunter2-secret\nline2,hunter2-more\n", encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        load_trace(str(secret))
    assert "hunter2" not in str(caught.value)
    assert "line 2: the last field is not a number" in str(caught.value)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"hour,cf\n0,\xff\n")
    with pytest.raises(ValueError, match=r"is not UTF-8 text \(byte 10\)"):
        load_trace(str(binary))


def test_length_limit(tmp_path: Path) -> None:
    rows = "".join(f"{i},0.5\n" for i in range(MAX_TRACE_ROWS))
    assert load_trace(_trace(tmp_path, rows)).size == MAX_TRACE_ROWS
    with pytest.raises(ValueError, match=f"more than the limit of {MAX_TRACE_ROWS} rows"):
        load_trace(_trace(tmp_path, rows + "x,0.5\n"))


def test_values_at_the_limit_are_accepted(tmp_path: Path) -> None:
    values = load_trace(_trace(tmp_path, f"0,{MAX_TRACE_VALUE}\n1,0\n 2 , 0.25 # inline comment\n\n"))
    assert values.tolist() == [MAX_TRACE_VALUE, 0.0, 0.25]


def test_shipped_trace_reads_as_numpy_did() -> None:
    """The row-by-row reader gives the same float64 values, bit for bit, as the former ``numpy.loadtxt``."""
    text = resources.files("lrm_gym.scenarios").joinpath("data", "wind.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    expected = np.loadtxt(lines[1:], delimiter=",", usecols=-1, ndmin=1)
    assert np.array_equal(load_trace("wind"), expected)
