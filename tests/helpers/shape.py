"""What the shape guards share: the package's parsed modules and allow-list checks."""

from __future__ import annotations

import ast
from collections.abc import Collection
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "mlops_gitops"
TEMPLATES = PACKAGE / "templates"  # the scaffold is data copied into new projects


def package_modules(
    package: Path = PACKAGE, *, excluded: Collection[Path] = (TEMPLATES,)
) -> list[tuple[str, ast.Module]]:
    """Return ``(mlops_gitops/…/module.py, tree)`` for every module outside ``excluded``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if any(path.is_relative_to(folder) for folder in excluded):
            continue
        key = path.relative_to(package.parent).as_posix()
        found.append((key, ast.parse(path.read_text(encoding="utf-8"))))
    return found


def called_name(node: ast.expr) -> str:
    """Return the last name of ``f`` or ``a.b.f`` (empty for anything else)."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def check_allowed(allowed: dict[str, str], breaking: set[str], what: str) -> list[str]:
    """Return a line per module that breaks the rule unlisted, and per stale allow-list entry."""
    problems = [f"{key}: {what}" for key in sorted(breaking - allowed.keys())]
    stale = [
        f"{key}: allowed, but clean now; remove it" for key in sorted(allowed.keys() - breaking)
    ]
    return problems + stale
