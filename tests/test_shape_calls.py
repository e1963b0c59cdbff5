"""Guards of the calling conventions (STYLE.md sections 1 and 8).

- each stage script calls its library function with keywords only, and a
  ``dvc.yaml`` path is passed under the same keyword by every script;
- no package module but the stage runner's own imports ``mlops_gitops.stage``:
  library code writes its outputs through ``mlops_gitops.outputs``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from mlops_gitops.project import template_root

PACKAGE = Path(__file__).resolve().parents[1] / "mlops_gitops"
STAGES = template_root() / "stages"


def library_calls(script: Path) -> list[ast.Call]:
    tree = ast.parse(script.read_text())
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
        if alias.name != "stage"
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        and node.func.id in imported
    ]  # fmt: skip


def test_every_stage_script_calls_its_library_function_with_keywords_only():
    scripts = sorted(STAGES.glob("*.py"))
    assert scripts, f"no stage scripts under {STAGES}"
    for script in scripts:
        calls = library_calls(script)
        assert len(calls) == 1, f"{script.name}: calls {len(calls)} library functions"
        call = calls[0]
        assert not call.args, f"{script.name}:{call.lineno}: pass paths as keywords"
        spread = [k for k in call.keywords if k.arg is None]
        assert not spread, f"{script.name}:{call.lineno}: name each keyword, no **params"


def test_a_path_is_passed_under_one_keyword_by_every_stage():
    keywords: dict[str, set[str]] = defaultdict(set)
    for script in STAGES.glob("*.py"):
        for call in library_calls(script):
            for keyword in call.keywords:
                value = keyword.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    keywords[value.value].add(f"{keyword.arg}")
    assert keywords, "no path keywords found"
    mixed = {path: sorted(names) for path, names in keywords.items() if len(names) > 1}
    assert not mixed, f"paths passed under several keywords: {mixed}"


def test_library_code_does_not_import_the_stage_runner():
    importers = []
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "stage.py" or STAGES in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            if "mlops_gitops.stage" in names:
                importers.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not importers, f"import mlops_gitops.outputs instead of the stage runner: {importers}"
