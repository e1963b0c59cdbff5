"""Guard: modules and public classes are named for their job, so names do not collide.

A module name used by two packages, a public class or function named like a
builtin, or a public class name defined in two modules fails here unless its
allow-list entry says why. The allow-lists only shrink: a stale entry fails too.
"""

from __future__ import annotations

import ast
import builtins
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mlops_gitops"

_CLI = "a command module is named for its command group; the concept module for the concept"
_SETTINGS = "one settings module per params.yaml section, next to the concept that reads it"

# module name -> why several packages have a module of that name.
SHARED_MODULE_NAMES: dict[str, str] = {
    "base": "the Protocol and value types of a plug-in point (forge, tasks)",
    "project": _CLI,
    "protection": _CLI,
    "records": _CLI,
    "report": _CLI,
    "runner": _CLI,
    "settings": _SETTINGS,
}

# public class name -> why two modules define it.
SHARED_CLASS_NAMES: dict[str, str] = {
    "Approval": "a policy's approval requirement and a forge's approval record",
    "Change": "a policy evidence change, a write-back change and a counterfactual change",
    "FeatureSelection": "params section and explain's correlation result; issue 15's contract",
    "Metric": "a task's metric definition and a model card's displayed metric",
    "Output": "a task's ONNX output and a site page's output file",
    "PredictionLog": "the serving writer and the manifest's section it reads",
    "Snapshot": "a policy bundle's view of the registry and the commit graph's snapshot",
    "Variant": "the manifest section and the serving plan built from it",
}


def _modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "templates" not in path.relative_to(PACKAGE).parts and path.name != "__init__.py"
    ]


def shared_module_names(paths: list[Path]) -> dict[str, list[str]]:
    where: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        where[path.stem].append(path.parent.name)
    return {name: places for name, places in where.items() if len(places) > 1}


def public_definitions(path: Path) -> list[ast.ClassDef | ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node
        for node in tree.body
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and not node.name.startswith("_")
    ]


def test_no_two_packages_have_a_module_of_the_same_name():
    shared = shared_module_names(_modules())
    unexplained = {
        name: places for name, places in shared.items() if name not in SHARED_MODULE_NAMES
    }
    assert not unexplained, f"name these modules for their job: {unexplained}"
    assert not set(SHARED_MODULE_NAMES) - set(shared), "stale entries in SHARED_MODULE_NAMES"


def test_no_public_name_shadows_a_builtin():
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}"
        for path in _modules()
        for node in public_definitions(path)
        if node.name in vars(builtins)
    ]
    assert not found, f"these names shadow builtins: {found}"


def test_no_public_class_name_is_defined_twice():
    where: dict[str, list[str]] = defaultdict(list)
    for path in _modules():
        for node in public_definitions(path):
            if isinstance(node, ast.ClassDef):
                where[node.name].append(str(path.relative_to(PACKAGE.parent)))
    shared = {name: places for name, places in where.items() if len(places) > 1}
    unexplained = {
        name: places for name, places in shared.items() if name not in SHARED_CLASS_NAMES
    }
    assert not unexplained, f"name these classes for their job: {unexplained}"
    assert not set(SHARED_CLASS_NAMES) - set(shared), "stale entries in SHARED_CLASS_NAMES"


def test_the_guard_finds_a_shared_module_name(tmp_path):
    for package in ("ci", "policies"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "gate.py").write_text("")
    (tmp_path / "ci" / "hooks.py").write_text("")
    assert shared_module_names(sorted(tmp_path.rglob("*.py"))) == {"gate": ["ci", "policies"]}


def test_the_guard_finds_a_class_named_like_a_builtin(tmp_path):
    module = tmp_path / "reference.py"
    module.write_text("class ReferenceError(Exception):\n    pass\n\nclass _Private:\n    pass\n")
    names = [node.name for node in public_definitions(module)]
    assert [name for name in names if name in vars(builtins)] == ["ReferenceError"]
