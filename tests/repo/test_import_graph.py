"""The import graph of ``lrm_gym`` and ``agents`` is a DAG: no module imports itself through others.

Every ``import`` statement counts, wherever it is (module level, inside a function, under ``TYPE_CHECKING``),
so a cycle cannot hide behind a lazy import. Relative imports are resolved and ``from package import name``
counts as an import of ``package.name`` when that is a module. Importing ``a.b.c`` counts as an edge to
``a.b.c`` only, not to the packages ``a`` and ``a.b`` that Python initialises on the way (their
``__init__`` re-exports would otherwise make every package a cycle with its own modules).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("lrm_gym", "agents")

# Cycles allowed to exist (none: a new one fails the test).
ALLOWED_CYCLES: set[frozenset[str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that ``name`` (the file ``path``) imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(_longest_known(alias.name, known) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else _longest_known(base, known))
    found.discard("")
    found.discard(name)
    return found


def _longest_known(dotted: str, known: set[str]) -> str:
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return ""


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imported_modules(name, path, known) for name, path in found.items()}


def strongly_connected_components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm (the graph has some hundred nodes: recursion depth is no concern)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    return [c for c in strongly_connected_components(graph) if len(c) > 1]


def test_the_checker_finds_cycles_including_lazy_relative_and_submodule_imports(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []
    # parsing: a lazy import inside a function, a relative import and `from package import submodule`
    source = "def f():\n    from .b import x\n\nfrom pkg import sub\nimport pkg.other.deep\n"
    path = tmp_path / "a.py"
    path.write_text(source, encoding="utf-8")
    known = {"pkg.a", "pkg.b", "pkg.sub", "pkg.other", "pkg"}
    assert imported_modules("pkg.a", path, known) == {"pkg.b", "pkg.sub", "pkg.other"}


def test_the_graph_covers_both_packages() -> None:
    graph = import_graph()
    assert {"lrm_gym.core.dynamics", "lrm_gym.core.params", "agents.policies.analytic"} <= set(graph)
    assert "lrm_gym.core.params" in graph["lrm_gym.core.dynamics"]


def test_no_import_cycles() -> None:
    found = [c for c in cycles(import_graph()) if frozenset(c) not in ALLOWED_CYCLES]
    assert not found, "import cycles (each a set of modules that import one another): " + "; ".join(
        " <-> ".join(sorted(c)) for c in found
    )
