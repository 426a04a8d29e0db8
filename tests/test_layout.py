"""The plan of the house: the emulator stands on its own, and no module imports another in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ("bot", "cogs", "discord_emulator")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports, TYPE_CHECKING imports included (a cycle there is a cycle)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            # `from bot.db import X` imports bot.db (or bot.db.X when X is a module).
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    paths = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    known = {_module_name(path) for path in paths}
    return {_module_name(path): _imports(path, known) - {_module_name(path)} for path in paths}


def test_the_emulator_imports_nothing_from_the_bot() -> None:
    graph = _graph()
    leaks = {
        module: sorted(name for name in imported if not name.startswith("discord_emulator"))
        for module, imported in graph.items()
        if module.startswith("discord_emulator")
    }
    assert {module: names for module, names in leaks.items() if names} == {}


def test_no_module_imports_itself_through_others() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph.get(module, ())):
            # A package's __init__ importing its own submodules is how packages re-export; not a cycle.
            if imported.startswith(module + "."):
                continue
            if state.get(imported) == 1:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
