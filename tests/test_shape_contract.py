"""Guard: the model contract has one home, ``mlops_gitops/contract.py`` (issue 15 item 2).

Only the contract module defines the missing-category token, the feature
kinds and the ONNX types a feature may have, reads a model's
``custom_metadata_map`` or opens an ONNX Runtime session; serving,
explanations, monitoring and training import them from it. What a feature
*is* (its kind and categories) is the contract's ``Feature``: a class
elsewhere holds one (``contract.FeatureFacts``) instead of declaring its
own ``kind``/``categories`` fields.

The allow-lists only shrink: a stale entry fails as well.
"""

from __future__ import annotations

import ast

from tests.helpers.shape import called_name as _name
from tests.helpers.shape import check_allowed as _check
from tests.helpers.shape import package_modules as _modules

HOME = "mlops_gitops/contract.py"
CONTRACT_NAMES = {"MISSING_CATEGORY", "FeatureKind", "ONNX_KINDS", "Feature"}
# "path" -> why the module opens an ONNX Runtime session itself.
SESSIONS_ELSEWHERE: dict[str, str] = {
    "mlops_gitops/training/onnx_export.py": (
        "the export checks the graph in memory before the file exists"
    ),
}

# "path:Class" -> why the class declares a feature field of its own.
FEATURE_FIELDS_ELSEWHERE: dict[str, str] = {
    "mlops_gitops/serving/model.py:ServedInput": (
        "the served input pairs the contract's kind with its ONNX element type, built from "
        "contract.Feature in read_schema; positional construction in the serving tests"
    ),
    "mlops_gitops/monitoring/drift.py:FeatureDrift": (
        "a drift result: the kind names the test run (KS or chi-square), typed FeatureKind"
    ),
}
FEATURE_KIND_WORDS = {"numeric", "categorical"}


def _defined(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
    return names


def test_only_the_contract_defines_the_feature_kinds_and_the_missing_token():
    breaking = {
        f"{key}: {', '.join(sorted(_defined(tree) & CONTRACT_NAMES))}"
        for key, tree in _modules()
        if key != HOME and _defined(tree) & CONTRACT_NAMES
    }
    assert not breaking, sorted(breaking)


def _calls(tree: ast.Module, names: set[str]) -> bool:
    return any(
        isinstance(node, ast.Call) and _name(node.func) in names for node in ast.walk(tree)
    ) or any(
        isinstance(node, ast.Attribute) and node.attr == "custom_metadata_map"
        for node in ast.walk(tree)
    )


def test_only_the_contract_opens_sessions_and_reads_model_metadata():
    breaking = {
        key for key, tree in _modules() if key != HOME and _calls(tree, {"InferenceSession"})
    }
    assert not _check(SESSIONS_ELSEWHERE, breaking, "opens ONNX Runtime or reads its metadata")


def _is_feature_kinds(annotation: ast.expr | None) -> bool:
    """Return whether an annotation is ``FeatureKind`` or a literal of the feature kinds."""
    if annotation is None:
        return False
    if _name(annotation) == "FeatureKind":
        return True
    words = {
        node.value
        for node in ast.walk(annotation)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    return bool(words & FEATURE_KIND_WORDS)


def _feature_fields(tree: ast.Module) -> set[str]:
    """Return the classes (and kind aliases) that declare what a feature is themselves."""
    found = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
        and isinstance(node.value, ast.Subscript)
        and _name(node.value.value) == "Literal"
        and _is_feature_kinds(node.value)
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                continue
            if item.target.id == "categories" or (
                item.target.id == "kind" and _is_feature_kinds(item.annotation)
            ):
                found.add(node.name)
    return found


def test_only_the_contract_declares_a_features_kind_and_categories():
    breaking = {
        f"{key}:{name}" for key, tree in _modules() if key != HOME for name in _feature_fields(tree)
    }
    assert not _check(FEATURE_FIELDS_ELSEWHERE, breaking, "declares a feature's kind/categories")


def test_the_guard_sees_a_feature_shape_of_its_own():
    shapes = ast.parse(
        "from typing import Literal\n"
        "Kind = Literal['numeric', 'categorical']\n"
        "class Column:\n    name: str\n    kind: FeatureKind\n"
        "class Levels:\n    categories: tuple[str, ...] = ()\n"
        "class Rule:\n    kind: str = 'cel'\n"
        "class Spec(FeatureFacts):\n    low: float = 0.0\n"
    )
    assert _feature_fields(shapes) == {"Kind", "Column", "Levels"}
