"""Guards of the calling conventions (STYLE.md sections 1 and 8).

- each stage script calls its library function with keywords only, and a
  ``dvc.yaml`` path is passed under the same keyword by every script;
- no package module but the stage runner's own imports ``mlops_gitops.stage``:
  library code writes its outputs through ``mlops_gitops.outputs``;
- a dataclass of the package with more than four fields, its inherited ones
  counted, is keyword-only (``@dataclass(kw_only=True)``): no call builds one
  from a long list of positional values.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from mlops_gitops.project import template_root

PACKAGE = Path(__file__).resolve().parents[1] / "mlops_gitops"
STAGES = template_root() / "stages"
DATACLASS_DECORATORS = {"dataclass", "dataclasses.dataclass", "pydantic.dataclasses.dataclass"}
MAX_POSITIONAL_FIELDS = 4


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


def dataclass_decorator(node: ast.ClassDef) -> ast.expr | None:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ast.unparse(target) in DATACLASS_DECORATORS:
            return decorator
    return None


def own_fields(node: ast.ClassDef) -> int:
    return sum(
        1
        for statement in node.body
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
        and "ClassVar" not in ast.unparse(statement.annotation)
    )  # fmt: skip


def is_keyword_only(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Call) and any(
        k.arg == "kw_only" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in decorator.keywords
    )


def test_dataclasses_with_more_than_4_fields_are_keyword_only():
    declared: list[tuple[str, ast.ClassDef, ast.expr]] = []
    by_name: dict[str, list[ast.ClassDef]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and (decorator := dataclass_decorator(node)):
                declared.append(
                    (f"{path.relative_to(PACKAGE.parent)}:{node.lineno}", node, decorator)
                )
                by_name[node.name].append(node)
    assert declared, f"no dataclasses found under {PACKAGE}"

    def fields(node: ast.ClassDef) -> int:
        # a base is resolved by its name, when exactly one package dataclass has it
        bases = [by_name.get(ast.unparse(base), []) for base in node.bases]
        return own_fields(node) + sum(fields(found[0]) for found in bases if len(found) == 1)

    positional = [
        f"{where} {node.name} ({fields(node)} fields)"
        for where, node, decorator in declared
        if fields(node) > MAX_POSITIONAL_FIELDS and not is_keyword_only(decorator)
    ]
    assert not positional, f"declare these @dataclass(kw_only=True): {positional}"
