"""The package's rooms import downward only, and no module imports itself round a circle.

Each folder of ``kg/`` is a room with one job; its ``__init__`` docstring says
what lives there and, on a line ``May import: ...``, which rooms its modules
may import. This test reads every module's imports (top-level, inside
functions and under ``TYPE_CHECKING`` alike, since each is a dependency) and
fails on one that runs upward, on a docstring that says otherwise than the
order below, and on any circle between modules. The same rule as an
import-linter "layers" contract, without the extra tool.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from tests.conftest import REPO

PACKAGE = REPO / "kg"

# Top-level modules: the shared basics, the Python API and the entry points.
BASICS = {"kg.errors", "kg.namespaces", "kg.resources", "kg.progress"}
TOP = {"kg.api": "api", "kg.__main__": "entry", "kg": "entry"}

# Room -> the rooms it may import (besides itself). A room appears after every room it may import.
LAYERS: dict[str, set[str]] = {
    "basics": set(),
    "graph": {"basics"},
    "loaders": {"basics", "graph"},
    "checks": {"basics", "graph", "loaders"},
    "answers": {"basics", "graph", "loaders"},
    "pipeline": {"basics", "graph", "loaders", "checks", "answers"},
    "sources": {"basics", "graph", "loaders", "checks", "answers", "pipeline"},
    "monitor": {"basics", "graph", "loaders", "checks", "answers", "pipeline", "sources"},
    "export": {"basics", "graph", "loaders", "answers"},
    "serve": {"basics", "graph", "loaders", "answers", "export", "monitor"},
    "api": {"basics", "graph", "loaders", "answers"},
    "cli": {"basics", "graph", "loaders", "checks", "answers", "pipeline", "sources", "monitor", "export", "serve",
            "api"},
    "entry": {"api", "cli"},
}
FOLDERS = [room for room in LAYERS if room not in ("basics", "api", "entry")]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def room_of(module: str) -> str:
    if module in TOP:
        return TOP[module]
    if module in BASICS:
        return "basics"
    room = module.split(".")[1]
    assert room in FOLDERS, f"{module}: a module at the top of kg/ that is no shared basic; give it a room"
    return room


def imports(module: str) -> set[str]:
    """The kg modules ``module`` imports anywhere in its text (``from kg.x import name`` counts as kg.x.name
    when that is a module). ``kg`` itself is left out: Python imports the package before any module in it."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name in MODULES and name not in ("kg", module)}


EDGES = {module: imports(module) for module in MODULES}


def test_the_layers_are_an_order() -> None:
    rooms = list(LAYERS)
    for room, allowed in LAYERS.items():
        assert all(rooms.index(other) < rooms.index(room) for other in allowed), room


def test_each_folder_says_what_it_may_import() -> None:
    for room in FOLDERS:
        doc = ast.get_docstring(ast.parse((PACKAGE / room / "__init__.py").read_text(encoding="utf-8"))) or ""
        lines = [line for line in doc.splitlines() if line.startswith("May import:")]
        assert lines, f"kg/{room}/__init__.py: its docstring has no 'May import: ...' line"
        said = {word.strip(" .`") for word in lines[0].removeprefix("May import:").split(",")}
        said = {word.removeprefix("kg.") for word in said if word and word != "nothing"}
        assert said == LAYERS[room], f"kg/{room}/__init__.py says it may import {sorted(said)}"


def test_imports_run_downward_only() -> None:
    upward = [f"{module} imports {target} ({room_of(module)} may not import {room_of(target)})"
              for module, targets in sorted(EDGES.items()) for target in sorted(targets)
              if room_of(target) != room_of(module) and room_of(target) not in LAYERS[room_of(module)]]
    assert not upward, "\n".join(upward)


def test_no_module_imports_round_a_circle() -> None:
    graph = nx.DiGraph([(module, target) for module, targets in EDGES.items() for target in targets])
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not circles, "\n".join(" <-> ".join(c) for c in circles)


def test_the_reader_sees_imports_inside_functions() -> None:
    """The rule would be hollow if it missed the lazy imports the CLI uses to start fast."""
    assert "kg.api" in EDGES["kg"]
    assert any(target.startswith("kg.cli.") for target in EDGES["kg.cli"])
