"""The layering of docs/ARCHITECTURE.md (issue 13), read from the source with ``ast``:
the shared HTTP plumbing imports no front end, the two HTTP front ends do not import each
other, the domain imports no front end, and core's packages import one another without
cycles. Every import counts, also one inside a function: a lazy import is how the last
cycle (core.api.errors -> core.web.pages -> core.api.questionnaires -> core.auth ->
core.api.errors) hid.

A short test of our own rather than import-linter: no new dependency, the contracts are
four plain functions in the suite every change already runs, and one contract can be
marked as an expected failure while another branch finishes moving code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRONT_ENDS = ("core.api", "core.web", "core.cli")
DOMAIN = (
    "core.content",
    "core.editing",
    "core.quickcheck",
    "core.runs",
    "core.db",
    "search",
    "core.accounts",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, wherever in the file (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, level - 1 packages up
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # ``from core.api import errors`` imports the module core.api.errors.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return sorted(found)


def _graph() -> dict[str, set[str]]:
    """Module -> the modules of core and search it imports (``from core import x`` names
    core.x if that is a module, else core)."""
    paths = {
        _module_name(path): path
        for top in ("core", "search")
        for path in sorted((ROOT / top).rglob("*.py"))
    }
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        graph[module] = set()
        for name in _imports(path, module):
            while name and name not in paths:
                name = name.rpartition(".")[0]
            if name and name != module:
                graph[module].add(name)
    return graph


def _within(name: str, packages: Iterable[str]) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in packages)


def _violations(importers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in _graph().items()
        if _within(module, importers)
        for name in names
        if _within(name, forbidden)
    )


def test_the_http_plumbing_imports_no_front_end() -> None:
    assert _violations(("core.http",), FRONT_ENDS) == []


def test_the_api_does_not_import_the_pages() -> None:
    assert _violations(("core.api",), ("core.web",)) == []


def test_the_pages_do_not_import_the_api() -> None:
    assert _violations(("core.web",), ("core.api",)) == []


def test_the_domain_imports_no_front_end() -> None:
    assert _violations(DOMAIN, FRONT_ENDS) == []


def _package(module: str) -> str:
    """The package of core (or search) that ``module`` belongs to: core.api.errors ->
    core.api, core.auth -> core.auth, search.worker -> search."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "core" else parts[0]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


# Cycles that are older than this test and outside issue 13's moves, listed so that no new
# one can join them; when one is broken, remove it here (the test says so).
KNOWN_MODULE_CYCLES = [
    # core/__init__.py re-exports hookimpl, which core.hookspecs builds from PROJECT_NAME.
    ["core", "core.hookspecs"],
    # Piccolo finds its engine in core.piccolo_conf, which builds it with core.db.engine
    # (lazily, both ways).
    ["core.db.engine", "core.piccolo_conf"],
]
KNOWN_PACKAGE_CYCLES = [
    # content.sync stores questionnaires and content.collect reads the search vocabulary;
    # both read the content model.
    ["core.content", "core.quickcheck", "search"],
    ["core.db", "core.piccolo_conf"],
]


def test_no_module_joins_an_import_cycle() -> None:
    cycles = _cycles(_graph())
    assert cycles == KNOWN_MODULE_CYCLES, "import cycles between modules of core and search"


def test_cores_packages_import_each_other_without_cycles() -> None:
    edges: dict[str, set[str]] = {}
    for module, names in _graph().items():
        for name in names:
            pair = (_package(module), _package(name))
            # core itself holds the version and hookimpl (see KNOWN_MODULE_CYCLES).
            if pair[0] != pair[1] and "core" not in pair:
                edges.setdefault(pair[0], set()).add(pair[1])
    assert _cycles(edges) == KNOWN_PACKAGE_CYCLES, "import cycles between packages"
