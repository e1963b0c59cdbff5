"""Guard: only ``mlops_gitops.documents`` parses YAML or JSON or turns a pydantic error into text.

A module outside it that calls ``yaml.load``/``yaml.safe_load``, builds a ruamel
``YAML(...)``, calls ``json.load``/``json.loads`` or reads
``.errors()``/``.error_count()`` of a validation error fails here. Every module
describes validation errors through it; the allow-lists only shrink: a stale
entry fails as well.
"""

from __future__ import annotations

import ast

from tests.helpers.shape import PACKAGE, TEMPLATES, called_name, check_allowed, package_modules

READER = PACKAGE / "documents"
EXCLUDED = (READER, TEMPLATES)

_YAML_LOADS = {"load", "safe_load", "load_all", "safe_load_all", "full_load", "unsafe_load"}

# "path" -> why the module still parses YAML itself.
YAML_READERS: dict[str, str] = {
    "mlops_gitops/manifests/fastyaml.py": (
        "a measured speed trick with its own YAML 1.2 resolvers; documents.validate_yaml"
        " is its only caller"
    ),
}


_INTERNAL_NOTES = "notes and refs the toolkit itself writes; a malformed one is skipped"

# "path" -> why the module parses JSON itself (what it reads is no user document).
JSON_READERS: dict[str, str] = {
    "mlops_gitops/audit/sources.py": _INTERNAL_NOTES,
    "mlops_gitops/ci/commands.py": (
        "a gate record that does not parse or lacks a field gets one message ending with the fix"
    ),
    "mlops_gitops/ci/gate_status.py": "peeks at a record's base; replay_record names what is wrong",
    "mlops_gitops/ci/merged.py": "the decision stash the local forge's hooks write for themselves",
    "mlops_gitops/contract.py": "metadata strings inside the ONNX graph the export wrote",
    "mlops_gitops/forge/issues.py": _INTERNAL_NOTES,
    "mlops_gitops/forge/local.py": (
        "gate notes the forge writes; its config gets one message for syntax and shape"
    ),
    "mlops_gitops/forge/queue.py": "queue jobs the runner writes for itself",
    "mlops_gitops/forge/receipts.py": _INTERNAL_NOTES,
    "mlops_gitops/monitoring/operational.py": (
        "access-log lines streamed from a large file; one message for syntax and shape"
    ),
    "mlops_gitops/monitoring/receiver.py": "HTTP request bodies; not JSON is kept as raw text",
    "mlops_gitops/monitoring/replay.py": "HTTP response bodies of the inference server",
    "mlops_gitops/pipeline/__init__.py": "the listing of a directory object in the DVC remote",
    "mlops_gitops/policies/snapshots.py": "a JSON round trip of parsed params (dates as text)",
    "mlops_gitops/registry/graph.py": _INTERNAL_NOTES,
    "mlops_gitops/serving/model.py": "metadata strings inside the ONNX graph the export wrote",
    "mlops_gitops/serving/server.py": "the parent process's options and the pid file it writes",
    "mlops_gitops/training/train.py": "a JSON round trip of validated params",
}


def _modules() -> list[tuple[str, ast.Module]]:
    return package_modules(excluded=EXCLUDED)


_name = called_name


def _parses_yaml(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if _name(func) == "YAML":
            return True
        loader = _name(func.value) == "yaml" if isinstance(func, ast.Attribute) else False
        loader = loader or any(k.arg == "Loader" for k in node.keywords)
        if isinstance(func, ast.Attribute) and func.attr in _YAML_LOADS and loader:
            return True
    return False


def _parses_json(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        func = node.func if isinstance(node, ast.Call) else None
        if not isinstance(func, ast.Attribute):
            continue
        if func.attr in {"load", "loads"} and _name(func.value) == "json":
            return True
    return False


def _describes_validation_errors(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        called = _name(node.func) if isinstance(node, ast.Call) else ""
        if called in {"errors", "error_count"}:
            return True
        annotation = node.annotation if isinstance(node, ast.arg) else None
        if annotation is not None and "ValidationError" in ast.unparse(annotation):
            return True
    return False


def _check(allowed: dict[str, str], breaking: set[str], what: str) -> list[str]:
    return check_allowed(allowed, breaking, f"{what}; use mlops_gitops.documents")


def test_only_the_reader_parses_yaml() -> None:
    breaking = {key for key, tree in _modules() if _parses_yaml(tree)}
    assert _check(YAML_READERS, breaking, "parses YAML itself") == []


def test_only_the_reader_parses_json_documents() -> None:
    breaking = {key for key, tree in _modules() if _parses_json(tree)}
    assert _check(JSON_READERS, breaking, "parses JSON itself") == []


def test_only_the_reader_describes_validation_errors() -> None:
    breaking = [key for key, tree in _modules() if _describes_validation_errors(tree)]
    assert breaking == [], "describe a ValidationError with mlops_gitops.documents.validate"


def test_the_checks_see_each_form() -> None:
    assert _parses_yaml(ast.parse("yaml.safe_load(t)"))
    assert _parses_yaml(ast.parse("YAML(typ='safe').load(t)"))
    assert _parses_yaml(ast.parse("x.load(t, Loader=L)"))
    assert not _parses_yaml(ast.parse("entry.load()"))
    assert _parses_json(ast.parse("json.loads(t)"))
    assert _parses_json(ast.parse("json.load(f)"))
    assert not _parses_json(ast.parse("orjson.loads(t)"))
    assert _describes_validation_errors(ast.parse("exc.errors()[0]"))
    assert _describes_validation_errors(ast.parse("def f(e: ValidationError): pass"))
    assert not _describes_validation_errors(ast.parse("f(e)"))
