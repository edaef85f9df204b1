"""The README's usage examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


USAGE_BLOCKS = re.findall(r"```python\n(.*?)```", _section("Usage"), flags=re.S)


def test_usage_section_has_examples() -> None:
    assert len(USAGE_BLOCKS) >= 3


@pytest.mark.parametrize("block", USAGE_BLOCKS, ids=[f"block{i}" for i in range(len(USAGE_BLOCKS))])
def test_usage_example_runs(block: str) -> None:
    exec(compile(block, str(README), "exec"), {})


def test_quick_start_has_exactly_two_commands() -> None:
    commands = re.findall(r"```bash\n(.*?)```", _section("Quick start"), flags=re.S)
    lines = [line for block in commands for line in block.splitlines() if line.strip()]
    assert [line.split("#")[0].strip() for line in lines] == ["make demo", "make test"]


def test_readme_speed_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Speed\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert section, "README has no '## Speed' section"
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_readme_slot_level_examples_run() -> None:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^### One step per slot: `EnergyDispatch`\n(.*?)(?=^##)", text, flags=re.S | re.M)
    assert section, "README has no 'One step per slot' section"
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
