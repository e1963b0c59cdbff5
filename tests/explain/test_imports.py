"""Heavy explanation libraries load only when something is explained, never at start-up."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("shap", "numba", "lime", "fairlearn", "matplotlib", "torch")


def loaded_after(statement: str) -> list[str]:
    report = f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    code = f"import json, sys; {statement}; {report}"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def test_cli_start_up_and_the_explain_command_module_import_nothing_heavy():
    statement = "from mlops_gitops.cli import cli; cli.get_command(None, 'explain')"
    assert loaded_after(statement) == []


def test_the_explain_library_imports_nothing_heavy_until_used():
    assert loaded_after("import mlops_gitops.explain") == []
