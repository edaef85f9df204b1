"""Every test here runs another RL codebase as its own documentation says, with no lrm_gym-specific glue beyond
``import lrm_gym`` (or the ``lrm_gym:`` id prefix) and the documented make kwargs. Run with ``pytest -m clients``."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/clients/" in str(item.fspath):
            item.add_marker(pytest.mark.clients)
