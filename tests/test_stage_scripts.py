"""Every dvc.yaml stage runs a thin script of stages/ that only imports mlops_gitops.

STYLE.md section 1: a stage script is under 25 lines, loads its params
through the library, calls ONE library function with the paths dvc.yaml
names, and leaves logging, errors and exit codes to ``mlops_gitops.stage``.
"""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath

import pytest
from ruamel.yaml import YAML

from mlops_gitops.project import template_root

ROOT = template_root()
STAGES = YAML(typ="safe", pure=True).load((ROOT / "dvc.yaml").read_text())["stages"]
MAX_LINES = 25


def script_of(name: str) -> Path:
    command = STAGES[name]["cmd"].split()
    assert command[:1] == ["python"] and len(command) == 2, f"{name}: cmd must be python SCRIPT"
    return ROOT / command[1]


def paths_of(stage: dict[str, object]) -> set[str]:
    declared: set[str] = set()
    for key in ("deps", "outs", "metrics", "plots"):
        for entry in stage.get(key) or []:
            declared.update(entry if isinstance(entry, dict) else [entry])
    return declared | {str(PurePosixPath(p).parent) for p in declared}


def mlops_names(tree: ast.Module) -> dict[str, str]:
    """Map each name the script imports to its module."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
        elif isinstance(node, ast.Import):
            names.update({a.asname or a.name: a.name for a in node.names})
    return names


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_names_an_existing_script_it_depends_on(name):
    script = script_of(name)
    assert script.is_file(), f"stage {name}: {script.relative_to(ROOT)} does not exist"
    assert str(script.relative_to(ROOT)) in (STAGES[name].get("deps") or [])


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_script_is_thin_and_imports_only_mlops_gitops(name):
    script = script_of(name)
    source = script.read_text()
    assert len(source.splitlines()) < MAX_LINES, f"{script.name} has {len(source.splitlines())}"
    tree = ast.parse(source)
    modules = set(mlops_names(tree).values())
    foreign = {m for m in modules if not m.startswith(("mlops_gitops", "__future__."))}
    assert not foreign, f"{script.name} imports {sorted(foreign)}; only mlops_gitops is allowed"
    assert "mlops_gitops.stage" in modules, f"{script.name} must run through mlops_gitops.stage"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_script_calls_one_library_function_with_dvc_yaml_paths(name):
    tree = ast.parse(script_of(name).read_text())
    imported = mlops_names(tree)
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    library = {n for n in called if n in imported and imported[n] != "mlops_gitops.stage"}
    assert len(library) == 1, f"{name}: calls {sorted(library)}; a stage calls ONE function"
    literals = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "/" in node.value
        and " " not in node.value  # a path, not a docstring
    }
    undeclared = literals - paths_of(STAGES[name])
    assert not undeclared, f"{name}: paths {sorted(undeclared)} are not in its dvc.yaml entry"


def test_every_script_in_stages_is_used_by_a_stage():
    used = {script_of(name).name for name in STAGES}
    present = {p.name for p in (ROOT / "stages").glob("*.py")}
    assert present <= used, f"scripts no stage runs: {sorted(present - used)}"
