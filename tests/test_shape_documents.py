"""Guard: only ``mlops_gitops.documents`` parses YAML or turns a pydantic error into text.

A module outside it that calls ``yaml.load``/``yaml.safe_load``, builds a ruamel
``YAML(...)`` or reads ``.errors()``/``.error_count()`` of a validation error
fails here. The allow-lists only shrink: a stale entry fails as well.
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
    "mlops_gitops/pipeline/__init__.py": "not yet ported (issue 14 item 2)",
    "mlops_gitops/pipeline/outputs.py": "not yet ported (issue 14 item 2)",
    "mlops_gitops/policies/snapshots.py": "not yet ported (issue 14 item 2)",
    "mlops_gitops/ci/merged.py": "not yet ported (issue 14 item 2)",
    "mlops_gitops/reports/context.py": "not yet ported (issue 14 item 2)",
    "mlops_gitops/site/data.py": "not yet ported (issue 14 item 2)",
    "mlops_gitops/site/experiments.py": "not yet ported (issue 14 item 2)",
}

# "path" -> why the module still describes a pydantic ValidationError itself.
ERROR_DESCRIBERS: dict[str, str] = {
    "mlops_gitops/training/artifact.py": "not yet ported (issue 14 item 2)",
    "mlops_gitops/policies/approvals.py": "not yet ported (issue 14 item 2)",
    "mlops_gitops/policies/bundle.py": "not yet ported (issue 14 item 2)",
    "mlops_gitops/site/compliance.py": "not yet ported (issue 14 item 2)",
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


def test_only_the_reader_describes_validation_errors() -> None:
    breaking = {key for key, tree in _modules() if _describes_validation_errors(tree)}
    assert _check(ERROR_DESCRIBERS, breaking, "describes a ValidationError itself") == []


def test_the_checks_see_each_form() -> None:
    assert _parses_yaml(ast.parse("yaml.safe_load(t)"))
    assert _parses_yaml(ast.parse("YAML(typ='safe').load(t)"))
    assert _parses_yaml(ast.parse("x.load(t, Loader=L)"))
    assert not _parses_yaml(ast.parse("entry.load()"))
    assert _describes_validation_errors(ast.parse("exc.errors()[0]"))
    assert _describes_validation_errors(ast.parse("def f(e: ValidationError): pass"))
    assert not _describes_validation_errors(ast.parse("f(e)"))
