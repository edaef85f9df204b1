"""Scenario YAML: no aliases or anchors, no duplicate keys, and error messages that quote only short excerpts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lrm_gym.scenarios.loader import EXCERPT_CHARS, excerpt, load_scenario

CRITICAL = (Path(__file__).parents[2] / "lrm_gym" / "scenarios" / "critical.yaml").read_text(encoding="utf-8")
MESSAGE_CHARS = 600  # the longest one-line message expected below (paths, bounds and excerpts)

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_nested_aliases_under_unknown_keys_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, CRITICAL + "extra:\n" + "".join("  " + line + "\n" for line in BILLION_LAUGHS.splitlines()))
    with pytest.raises(ValueError, match=r"not valid YAML: line \d+, column \d+: anchors \(&name\) are not supported"):
        load_scenario(path)


def test_aliases_and_anchors_are_refused(tmp_path: Path) -> None:
    aliased = CRITICAL.replace("capacity_wh: 0.0", "capacity_wh: &zero 0.0").replace(
        "difficulty_noise: 0.0", "difficulty_noise: *zero"
    )
    with pytest.raises(ValueError, match="anchors"):
        load_scenario(_write(tmp_path, aliased))
    with pytest.raises(ValueError, match=r"aliases \(\*name\) are not supported"):
        load_scenario(_write(tmp_path, CRITICAL.replace("difficulty_noise: 0.0", "difficulty_noise: *zero")))


def test_a_key_given_twice_names_the_key_and_both_lines(tmp_path: Path) -> None:
    lines = CRITICAL.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("horizon_slots:")) + 1
    path = _write(tmp_path, CRITICAL + "horizon_slots: 60\n")
    last = len(lines) + 1
    with pytest.raises(ValueError) as caught:
        load_scenario(path)
    assert f"line {last}, column 1: key 'horizon_slots' is given twice (first on line {first})" in str(caught.value)
    nested = CRITICAL.replace("  std_w: 60.0\n", "  std_w: 60.0\n  std_w: 70.0\n")
    with pytest.raises(ValueError, match="key 'std_w' is given twice"):
        load_scenario(_write(tmp_path, nested))


def test_yaml_errors_do_not_quote_the_file(tmp_path: Path) -> None:
    secret = "s3cr3t-" + "x" * 200
    with pytest.raises(ValueError) as caught:
        load_scenario(_write(tmp_path, f"description: {secret}\nsupply: [unclosed {secret}\n"))
    assert "s3cr3t" not in str(caught.value)
    with pytest.raises(ValueError, match="nested too deeply"):
        load_scenario(_write(tmp_path, "a: " + "[" * 100_000 + "]" * 100_000 + "\n"))
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"description: \xff\xfe\n")
    with pytest.raises(ValueError, match=r"is not UTF-8 text \(byte 13\)"):
        load_scenario(path)


HUGE = list(range(10**6))

BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    (
        {"unknown": {"deep": [HUGE] * 100}},
        r"unknown: Extra inputs are not permitted \(got \{'deep': \[\[\.\.\.\], \[\.\.\.\],",
    ),
    ({"horizon_slots": "x" * 10**6}, r"horizon_slots: Input should be a valid integer \(got 'xxxx"),
    ({"supply": {"kind": "trace", "trace": None}}, r"supply: kind 'trace' needs 'trace'"),
    ({"models": HUGE}, r"models: 1000000 entries exceed the limit 16"),
    (
        {"auxiliary": {"price_per_kwh": [1e9] * 24}},
        r"auxiliary\.price_per_kwh\.0: 1000000000\.0 exceeds .* and 19 more",
    ),
]


@pytest.mark.parametrize(("overrides", "match"), BAD_INPUTS)
def test_errors_are_one_short_line_naming_the_key(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match) as caught:
        load_scenario("critical", overrides)
    message = str(caught.value)
    assert "\n" not in message
    assert len(message) < MESSAGE_CHARS


def test_top_level_errors_do_not_dump_the_scenario() -> None:
    with pytest.raises(ValueError) as caught:
        load_scenario("critical", {"reference_policy": {"kind": "fixed", "option": {"model": "nope", "budget": "x"}}})
    message = str(caught.value)
    assert "reference_policy.option.model 'nope' is not a model name" in message
    assert "small-1.5b" not in message  # the scenario's content
    assert len(message) < MESSAGE_CHARS


def test_excerpt_is_bounded_and_lazy() -> None:
    nested: Any = []
    for _ in range(10_000):
        nested = [nested, nested]  # 2**10000 leaves as a full repr
    assert len(excerpt(nested)) <= EXCERPT_CHARS
    assert len(excerpt("y" * 10**7)) <= EXCERPT_CHARS


def test_shipped_scenarios_load_as_with_safe_load() -> None:
    from lrm_gym.scenarios import scenario_names
    from lrm_gym.scenarios.loader import read_scenario_dict

    for name in scenario_names():
        text = (Path(__file__).parents[2] / "lrm_gym" / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8")
        assert read_scenario_dict(name)[0] == yaml.safe_load(text)
