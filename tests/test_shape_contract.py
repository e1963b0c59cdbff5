"""Guard: the model contract has one home, ``mlops_gitops/contract.py`` (issue 15 item 2).

Only the contract module defines the missing-category token, the feature
kinds and the ONNX types a feature may have, reads a model's
``custom_metadata_map`` or opens an ONNX Runtime session; serving,
explanations, monitoring and training import them from it.

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
