"""Guard of the one plug-in loader: only ``mlops_gitops/plugins.py`` reads entry points.

Every plug-in point goes through :class:`mlops_gitops.plugins.PluginPoint`, so
precedence, laziness and error messages stay the same everywhere (issue 14).
A module that reads ``importlib.metadata.entry_points`` itself, under any
alias, fails this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mlops_gitops"
LOADER = PACKAGE / "plugins.py"
# The project scaffold is data copied into new projects (jinja2 templates), not code.
EXCLUDED = (PACKAGE / "templates",)


def entry_point_reads(source: str) -> list[int]:
    """Return the lines of ``source`` that import or use ``entry_points``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            if "entry_points" in names:
                lines.append(node.lineno)
        elif (isinstance(node, ast.Attribute) and node.attr == "entry_points") or (
            isinstance(node, ast.Name) and node.id == "entry_points"
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def python_files() -> list[Path]:
    folders = [PACKAGE, ROOT / "stages", ROOT / "bench"]
    files = [path for folder in folders if folder.is_dir() for path in folder.rglob("*.py")]
    return sorted(p for p in files if not any(p.is_relative_to(e) for e in EXCLUDED))


def test_only_the_plugin_loader_reads_entry_points():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in python_files()
        if path != LOADER
        for line in entry_point_reads(path.read_text())
    ]
    assert offenders == [], "use mlops_gitops.plugins.PluginPoint instead of entry_points"


def test_the_plugin_loader_is_where_entry_points_are_read():
    assert entry_point_reads(LOADER.read_text())


def test_every_way_of_reading_entry_points_is_caught():
    samples = [
        "from importlib.metadata import entry_points\n",
        "from importlib.metadata import entry_points as eps\n",
        "from importlib import metadata\nmetadata.entry_points(group='g')\n",
        "import importlib.metadata\nimportlib.metadata.entry_points()\n",
        "import importlib_metadata as m\nm.entry_points()\n",
    ]
    assert all(entry_point_reads(sample) for sample in samples)
    assert entry_point_reads("points = {'entry_points.txt': 1}\n") == []
