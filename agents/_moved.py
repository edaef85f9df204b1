"""The module paths of lrm-gym 0.1 (a flat ``agents/``), kept importable with a ``DeprecationWarning``.

``import agents.analytic`` or ``from agents.learned import TrainSpec`` still work: the old name becomes a
module whose attributes are looked up in the modules that hold them now.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any

MOVED: dict[str, tuple[str, ...]] = {
    "agents.analytic": ("agents.policies.analytic",),
    "agents.learned": ("agents.training.sb3", "agents.training.hyperparams", "agents.policies.sb3"),
    "agents.rllib_backend": ("agents.training.rllib", "agents.policies.rllib"),
    "agents.rllib_masking": ("agents.training.rllib_masking",),
    "agents.native_vec": ("agents.training.sb3_vec_env",),
    "agents.zoo": ("agents.training.zoo",),
    "agents.simulate": ("agents.experiments.simulate",),
    "agents.executors": ("agents.benchmark.executors",),
    "agents.ray_executor": ("agents.benchmark.ray_executor",),
    "agents.report": ("agents.benchmark.report",),
}
"""Old module -> the modules its public names live in now (searched in order)."""


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old names of :data:`MOVED` and loads each as a forwarding module."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        return importlib.util.spec_from_loader(fullname, self) if fullname in MOVED else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        targets = MOVED[module.__name__]
        warnings.warn(
            f"{module.__name__} moved to {' and '.join(targets)}; the old path will be removed in a later release",
            DeprecationWarning,
            stacklevel=2,
        )
        homes = [importlib.import_module(name) for name in targets]

        def forward(name: str) -> Any:
            for home in homes:
                if hasattr(home, name):
                    return getattr(home, name)
            raise AttributeError(f"module {module.__name__!r} (now {', '.join(targets)}) has no attribute {name!r}")

        module.__getattr__ = forward  # type: ignore[method-assign]


def install() -> None:
    """Register the finder once (``agents/__init__.py`` calls this)."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
