"""Imports point down: nothing imports the command line, the TUI and the headless commands are
independent siblings, and the store imports none of the layers above it. Imports inside
functions count too (import-linter's contract in pyproject.toml checks every layer)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import studio

ROOT = Path(studio.__file__).parent


def imported_by(package: str) -> set[str]:
    """Every studio module imported anywhere in ``package`` (a dotted name under studio)."""
    where = ROOT.joinpath(*package.split(".")[1:])
    files = [where.with_suffix(".py")] if where.with_suffix(".py").exists() else []
    files += sorted(where.rglob("*.py")) if where.is_dir() else []
    found: set[str] = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "studio" or name.startswith("studio.")}


def within(names: set[str], package: str) -> set[str]:
    return {name for name in names if name == package or name.startswith(f"{package}.")}


@pytest.mark.parametrize(
    "package",
    sorted(
        f"studio.{p.stem}"
        for p in ROOT.iterdir()
        if p.stem not in {"cli", "__main__", "__pycache__"}
        and (p.suffix == ".py" or (p / "__init__.py").exists())
    ),
)
def test_nothing_imports_the_command_line(package: str) -> None:
    assert not within(imported_by(package), "studio.cli")


def test_the_tui_and_the_commands_are_independent() -> None:
    assert not within(imported_by("studio.tui"), "studio.commands")
    assert not within(imported_by("studio.commands"), "studio.tui")


@pytest.mark.parametrize("above", ["studio.jobs", "studio.chat", "studio.tui", "studio.commands"])
def test_the_store_imports_nothing_from_above(above: str) -> None:
    assert not within(imported_by("studio.store"), above)


def test_one_place_makes_clients() -> None:
    """Every AnyFastClient Studio uses comes from studio.gateway (timeouts, retries, demo)."""
    makers = sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "AnyFastClient"
    )
    assert makers == ["gateway.py"]
