"""Lazy exports: a package names its public API once and imports each name on first use.

A package ``__init__`` lists its exports as the ``from mlops_gitops.MODULE
import NAME`` lines of its ``if TYPE_CHECKING:`` block, which type checkers
read as they are, and ends with::

    __getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)

At run time the block is read back from the file with :mod:`ast`, and each
name is imported from its module on first attribute access, then kept in
the package's globals. Reading the block takes 70 to 140 µs a package (the
top-level one, on the path of ``mlops --help``, 0.13 ms of its 90 ms;
``bench/import_tricks.py``). A name that is also a submodule of the package is
bound at once: importing the submodule would otherwise set the package's
attribute to the module.
"""

from __future__ import annotations

import ast
import importlib
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple


class Export(NamedTuple):
    """A lazily exported name: the module it comes from and the line that declares it."""

    module: str
    attribute: str
    line: int


def lazy_exports(
    package: str, file: str, *, also: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return the package's ``__getattr__``, ``__dir__`` and ``__all__``.

    Args:
        package: the package's ``__name__``.
        file: the package's ``__file__``, whose ``if TYPE_CHECKING:`` block lists the exports.
        also: names the package defines itself (``__version__``), added to ``__all__``.

    Raises:
        ImportError: the block is missing or holds anything other than
            ``from mlops_gitops.MODULE import NAME`` lines.
    """
    exports = read_exports(file)
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        export = exports.get(name)
        if export is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}", name=name)
        value = namespace[name] = _resolve(export, file)
        return value

    def __dir__() -> list[str]:
        return sorted(namespace.keys() | exports.keys())

    for name in _submodule_names(exports, file):
        namespace[name] = _resolve(exports[name], file)
    return __getattr__, __dir__, sorted([*also, *exports])


def read_exports(file: str) -> dict[str, Export]:
    """Return the exports declared in the ``if TYPE_CHECKING:`` block of ``file``, by name.

    Raises:
        ImportError: the file has no such block, or the block holds anything
            other than ``from mlops_gitops.MODULE import NAME`` lines.
    """
    with open(file, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), file)
    blocks = [node for node in tree.body if isinstance(node, ast.If) and _is_type_checking(node)]
    if len(blocks) != 1:
        raise ImportError(f"{file}: lazy exports need exactly one 'if TYPE_CHECKING:' block")
    exports: dict[str, Export] = {}
    for node in blocks[0].body:
        if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
            raise ImportError(
                f"{file}:{node.lineno}: the 'if TYPE_CHECKING:' block of lazy exports holds only "
                "'from mlops_gitops.MODULE import NAME' lines"
            )
        for alias in node.names:
            exports[alias.asname or alias.name] = Export(node.module, alias.name, node.lineno)
    return exports


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(export: Export, file: str) -> Any:
    module = importlib.import_module(export.module)
    try:
        return getattr(module, export.attribute)
    except AttributeError as exc:
        raise ImportError(
            f"{file}:{export.line}: cannot import name {export.attribute!r} from "
            f"{export.module!r}; fix the 'if TYPE_CHECKING:' block",
            name=export.module,
        ) from exc


def _submodule_names(exports: dict[str, Export], file: str) -> list[str]:
    folder, base = os.path.split(file)
    if base != "__init__.py":
        return []
    entries = set(os.listdir(folder))
    return [name for name in exports if f"{name}.py" in entries or name in entries]
