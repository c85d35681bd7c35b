"""The Python half's modules import each other without cycles (at module level or
inside functions), so that each can be loaded, and tested, on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import tandem

PACKAGE = Path(tandem.__file__).parent


def imports_within_package() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for source in PACKAGE.glob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names.update([node.module] if node.module else [alias.name for alias in node.names])
        graph[source.stem] = names
    return graph


def test_no_module_of_the_python_half_imports_itself_back():
    graph = imports_within_package()
    assert {"_bridge", "_rmagic", "_futures", "_dask", "_errors"} <= set(graph)
    cycles = []
    for start in graph:
        paths = [[start]]
        for _ in range(len(graph)):  # a path visits each module at most once
            paths = [path + [nxt] for path in paths for nxt in graph[path[-1]] if nxt in graph]
            cycles += [path for path in paths if path[-1] == start]
            paths = [path for path in paths if path[-1] not in path[:-1]]
    assert not cycles, cycles


def test_every_exception_tandem_raises_is_defined_in_one_module():
    defined = {}
    for source in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id.endswith(("Error", "Exception", "Interrupt")) for base in node.bases
            ):
                defined[node.name] = source.stem
    public = {name: module for name, module in defined.items() if not name.startswith("_")}
    assert set(public.values()) == {"_errors"}, public
