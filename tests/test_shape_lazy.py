"""Guard: lazy exports go through ``mlops_gitops._lazy``, and every lazy name resolves.

- no module of the package defines a module-level ``__getattr__`` by hand; a
  package that exports lazily assigns it from ``lazy_exports(__name__, __file__)``;
- every name of every lazy package imports, and is the object its
  ``if TYPE_CHECKING:`` line names;
- the lazy packages are the ones mypy (``implicit_reexport``) and ruff (F401)
  are told about in ``pyproject.toml``, so their exports type-check and lint;
- the API page (griffe, with ``tools/griffe_lazy.py``) sees those exports;
- each module that holds a speed trick cites ``bench/import_tricks.py``.
"""

from __future__ import annotations

import ast
import importlib
import re
import tomllib
from pathlib import Path

import pytest

from mlops_gitops._lazy import read_exports

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mlops_gitops"
EXCLUDED = (PACKAGE / "templates",)  # the scaffold is data copied into new projects


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if not any(path.is_relative_to(folder) for folder in EXCLUDED):
            key = path.relative_to(ROOT).as_posix()
            found[key] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def _is_lazy_call(node: ast.stmt) -> bool:
    if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
        return False
    func = node.value.func
    return isinstance(func, ast.Name) and func.id == "lazy_exports"


def _lazy_packages() -> list[str]:
    return [
        key.removesuffix("/__init__.py").removesuffix(".py").replace("/", ".")
        for key, tree in _modules().items()
        if any(_is_lazy_call(node) for node in tree.body)
    ]


def test_no_module_writes_its_own_getattr():
    problems = []
    for key, tree in _modules().items():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in {
                "__getattr__",
                "__dir__",
            }:
                problems.append(f"{key}:{node.lineno} def {node.name}: use lazy_exports")
            targets = node.targets if isinstance(node, ast.Assign) else []
            names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            if "__getattr__" in names and not _is_lazy_call(node):
                problems.append(f"{key}:{node.lineno} __getattr__ = ...: use lazy_exports")
    assert problems == []


def test_the_lazy_packages_are_the_four_known():
    assert sorted(_lazy_packages()) == [
        "mlops_gitops",
        "mlops_gitops.ci",
        "mlops_gitops.manifests",
        "mlops_gitops.registry",
    ]


@pytest.mark.parametrize("package", sorted(_lazy_packages()))
def test_every_lazy_name_is_the_object_of_its_source_module(package):
    module = importlib.import_module(package)
    exports = read_exports(module.__file__)
    assert exports, package
    assert set(exports) <= set(module.__all__)
    for name, export in exports.items():
        source = importlib.import_module(export.module)
        assert getattr(module, name) is getattr(source, export.attribute), f"{package}.{name}"


def test_mypy_and_ruff_know_the_lazy_packages():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    overrides = config["tool"]["mypy"]["overrides"]
    reexported = {m for o in overrides if o.get("implicit_reexport") for m in o["module"]}
    assert reexported == set(_lazy_packages())
    ignores = config["tool"]["ruff"]["lint"]["per-file-ignores"]
    unused_ok = {path for key, codes in ignores.items() if "F401" in codes for path in _expand(key)}
    files = {
        (PACKAGE.parent / name.replace(".", "/") / "__init__.py").relative_to(ROOT).as_posix()
        for name in _lazy_packages()
    }
    assert unused_ok == files


def _expand(pattern: str) -> list[str]:
    """Expand one ``{a,b}`` group of a ruff glob."""
    match = re.search(r"\{([^}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [f"{head}{choice}{tail}" for choice in match.group(1).split(",")]


def test_the_api_page_sees_the_exports_of_the_lazy_packages():
    griffe = pytest.importorskip("griffe")
    extensions = griffe.load_extensions(str(ROOT / "tools/griffe_lazy.py") + ":LazyExports")
    for package in _lazy_packages():
        module = griffe.load(package, search_paths=[str(ROOT)], extensions=extensions)
        names = set(read_exports(str(module.filepath)))
        assert set(module.exports or []) == names, package
        assert {name for name, member in module.members.items() if member.is_public} >= names


# the modules that hold a speed trick; each docstring states its measured gain
TRICKS = (
    "mlops_gitops/__init__.py",
    "mlops_gitops/_lazy.py",
    "mlops_gitops/ci/__init__.py",
    "mlops_gitops/manifests/__init__.py",
    "mlops_gitops/manifests/fastyaml.py",
    "mlops_gitops/policies/engine.py",
    "mlops_gitops/registry/__init__.py",
    "mlops_gitops/registry/promote.py",
)


def test_each_speed_trick_cites_its_benchmark():
    assert (ROOT / "bench" / "import_tricks.py").is_file()
    modules = _modules()
    missing = [
        key
        for key in TRICKS
        if "bench/import_tricks.py" not in (ast.get_docstring(modules[key]) or "")
    ]
    assert missing == []
