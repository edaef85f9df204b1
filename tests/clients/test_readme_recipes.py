"""The README's "Use with other RL libraries" recipes run as written, each as a script in a fresh folder.

A recipe is the text after a ``<!-- recipe: NAME needs: MODULE ... -->`` marker up to the next marker: its
``bash`` lines (``lrm-gym`` and ``python -m`` commands) run first, then its ``python`` blocks, each saved as a
script and run with ``python script.py`` (as a user would: subprocess workers re-import the script).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTION = re.search(
    r"^## Use with other RL libraries\n(.*?)(?=^## )", (ROOT / "README.md").read_text(encoding="utf-8"), re.S | re.M
)
assert SECTION, "README has no '## Use with other RL libraries' section"
RECIPES = re.findall(r"<!-- recipe: (\S+) needs: ([^>]*?) -->\n(.*?)(?=<!-- recipe:|\Z)", SECTION.group(1), re.S)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _run(command: list[str], cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MINARI_DATASETS_PATH": str(cwd / "datasets")}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{shlex.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"


def test_every_client_has_a_recipe() -> None:
    names = {name for name, _, _ in RECIPES}
    assert {"sb3", "sb3-contrib", "rl-zoo3", "gymnasium", "torchrl", "tianshou", "rllib", "minari"} <= names
    assert "**CleanRL**" in SECTION.group(1)


@pytest.mark.parametrize(("name", "needs", "text"), RECIPES, ids=[name for name, _, _ in RECIPES])
def test_recipe_runs(name: str, needs: str, text: str, tmp_path: Path) -> None:
    for module in needs.split():
        if not _installed(module):
            pytest.skip(f"{module} is not installed")
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            words = shlex.split(line)
            if words[:1] == ["lrm-gym"]:
                words = [sys.executable, "-m", "agents.cli", *words[1:]]
            elif words[:2] == ["python", "-m"]:
                words = [sys.executable, *words[1:]]
            else:
                raise AssertionError(f"recipe {name}: unexpected command {line!r}")
            _run(words, tmp_path)
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", text, re.S)):
        script = tmp_path / f"{name.replace('-', '_')}_{i}.py"
        script.write_text(block, encoding="utf-8")
        _run([sys.executable, str(script)], tmp_path)
