"""The engine's run logic is pure Python: no Django, no project apps, no eval."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[3] / "builder" / "engine"
PURE_MODULES = ["references", "mapping", "schemas", "placeholders", "typecheck", "conditions"]
ALLOWED_THIRD_PARTY = {"jsonschema"}


def imported_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("name", PURE_MODULES)
def test_it_imports_only_the_standard_library_and_its_siblings(name):
    tree = ast.parse((ENGINE / f"{name}.py").read_text())
    outside = imported_roots(tree) - set(sys.stdlib_module_names) - ALLOWED_THIRD_PARTY
    assert outside == set()


@pytest.mark.parametrize("name", PURE_MODULES)
def test_it_never_evaluates_code(name):
    tree = ast.parse((ENGINE / f"{name}.py").read_text())
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert calls.isdisjoint({"eval", "exec", "compile", "__import__"})
