"""The module paths of the flat 0.1 layout still import, with a DeprecationWarning naming the new home."""

from __future__ import annotations

import importlib
import sys

import pytest

from agents._moved import MOVED


@pytest.mark.parametrize("old", sorted(set(MOVED) - {"agents.rllib_backend", "agents.rllib_masking"}))
def test_old_module_paths_forward_to_the_new_ones(old: str) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match="moved to"):
        module = importlib.import_module(old)
    home = importlib.import_module(MOVED[old][0])
    public = [name for name in vars(home) if not name.startswith("_") and name[0].isupper()]
    assert public, old
    assert getattr(module, public[0]) is getattr(home, public[0])
    with pytest.raises(AttributeError, match="no attribute"):
        module.surely_not_a_name  # noqa: B018


def test_policy_classes_and_training_names_keep_their_old_imports() -> None:
    from agents.policies import SupplyTracking
    from agents.training.sb3 import TrainSpec

    sys.modules.pop("agents.analytic", None)
    sys.modules.pop("agents.learned", None)
    with pytest.warns(DeprecationWarning):
        from agents.analytic import SupplyTracking as old_policy
    with pytest.warns(DeprecationWarning):
        from agents.learned import TrainSpec as old_spec
    assert old_policy is SupplyTracking and old_spec is TrainSpec
