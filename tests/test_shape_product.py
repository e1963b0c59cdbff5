"""The package's shape: concepts never import the command line."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mlops_gitops"


def _imported_modules(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def cli_importers(package: Path) -> list[str]:
    """Return the modules outside ``cli/`` and ``__main__`` that import ``mlops_gitops.cli``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.parts[0] in ("cli", "templates") or relative.name == "__main__.py":
            continue
        names = _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if any(n == "mlops_gitops.cli" or n.startswith("mlops_gitops.cli.") for n in names):
            found.append(str(relative))
    return found


def test_no_concept_imports_the_command_line():
    assert cli_importers(PACKAGE) == []


def test_the_guard_finds_a_concept_that_imports_the_command_line(tmp_path):
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "docs.py").write_text("from mlops_gitops.cli import cli\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "reference.py").write_text(
        "def pages():\n    from mlops_gitops.cli import cli\n"
    )
    (tmp_path / "site" / "build.py").write_text("from mlops_gitops import cli\n")
    (tmp_path / "__main__.py").write_text("from mlops_gitops.cli import main\n")
    assert cli_importers(tmp_path) == ["site/build.py", "site/reference.py"]
