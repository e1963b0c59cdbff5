"""Lazy exports: each name declared once, imported on first use, wrong declarations fail clearly."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mlops_gitops._lazy import read_exports

HEADER = "from typing import TYPE_CHECKING\n\nfrom mlops_gitops._lazy import lazy_exports\n\n"
FOOTER = "\n__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)\n"
GOOD_BLOCK = (
    "if TYPE_CHECKING:\n"
    "    from lazypkg.shapes import Circle, area\n"
    "    from lazypkg.tool import tool\n"
)
MODULES = {
    "shapes.py": "class Circle:\n    pass\n\n\ndef area():\n    return 1\n",
    "tool.py": "def tool():\n    return 'tool'\n",
}


@pytest.fixture
def make_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """Write a package ``lazypkg`` whose ``__init__`` holds ``block``, and put it on the path."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(block: str = GOOD_BLOCK, footer: str = FOOTER) -> Path:
        folder = tmp_path / "lazypkg"
        folder.mkdir()
        (folder / "__init__.py").write_text(HEADER + block + footer)
        for name, text in MODULES.items():
            (folder / name).write_text(text)
        return folder

    yield make
    for name in [m for m in sys.modules if m == "lazypkg" or m.startswith("lazypkg.")]:
        del sys.modules[name]


def test_a_name_is_imported_on_first_access_and_kept(make_package):
    make_package()
    pkg = importlib.import_module("lazypkg")
    assert "lazypkg.shapes" not in sys.modules
    assert "Circle" not in vars(pkg)
    circle = pkg.Circle
    assert circle is sys.modules["lazypkg.shapes"].Circle
    assert vars(pkg)["Circle"] is circle  # cached: __getattr__ is not called again
    assert pkg.area() == 1


def test_all_and_dir_list_the_declared_names_before_any_import(make_package):
    make_package()
    pkg = importlib.import_module("lazypkg")
    assert pkg.__all__ == ["Circle", "area", "tool"]
    assert {"Circle", "area", "tool", "lazy_exports"} <= set(dir(pkg))
    assert dir(pkg) == sorted(dir(pkg))
    assert "lazypkg.shapes" not in sys.modules


def test_also_adds_the_package_own_names_to_all(make_package):
    footer = (
        "\n__version__ = '1'\n"
        "__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__, also=['__version__'])\n"
    )
    make_package(footer=footer)
    assert importlib.import_module("lazypkg").__all__ == ["Circle", "__version__", "area", "tool"]


def test_unknown_name_is_an_attribute_error(make_package):
    make_package()
    pkg = importlib.import_module("lazypkg")
    with pytest.raises(AttributeError, match=r"^module 'lazypkg' has no attribute 'nope'$"):
        pkg.nope  # noqa: B018
    assert not hasattr(pkg, "nope")


def test_a_name_that_is_also_a_submodule_stays_the_exported_object(make_package):
    make_package()
    pkg = importlib.import_module("lazypkg")
    importlib.import_module("lazypkg.tool")  # would set the package attribute to the module
    assert pkg.tool() == "tool"


def test_a_wrong_declaration_fails_on_access_naming_the_line(make_package):
    folder = make_package(block="if TYPE_CHECKING:\n    from lazypkg.shapes import Square\n")
    pkg = importlib.import_module("lazypkg")
    init = folder / "__init__.py"
    with pytest.raises(ImportError) as caught:
        pkg.Square  # noqa: B018
    assert str(caught.value) == (
        f"{init}:6: cannot import name 'Square' from 'lazypkg.shapes'; "
        "fix the 'if TYPE_CHECKING:' block"
    )
    assert isinstance(caught.value.__cause__, AttributeError)


def test_a_missing_module_is_a_module_not_found_error(make_package):
    make_package(block="if TYPE_CHECKING:\n    from lazypkg.nowhere import Thing\n")
    pkg = importlib.import_module("lazypkg")
    with pytest.raises(ModuleNotFoundError, match=r"lazypkg\.nowhere"):
        pkg.Thing  # noqa: B018


@pytest.mark.parametrize(
    "statement",
    ["import lazypkg.shapes", "from .shapes import Circle", "Circle = None"],
)
def test_a_block_with_anything_but_absolute_from_imports_fails_at_import(make_package, statement):
    make_package(block=f"if TYPE_CHECKING:\n    {statement}\n")
    with pytest.raises(ImportError, match=r"__init__\.py:6: the 'if TYPE_CHECKING:' block"):
        importlib.import_module("lazypkg")


def test_a_package_without_the_block_fails_at_import(make_package):
    make_package(block="")
    with pytest.raises(ImportError, match="need exactly one 'if TYPE_CHECKING:' block"):
        importlib.import_module("lazypkg")


def test_read_exports_names_module_attribute_and_line(make_package):
    folder = make_package(
        block="if TYPE_CHECKING:\n    from lazypkg.shapes import Circle as Round, area\n"
    )
    exports = read_exports(str(folder / "__init__.py"))
    assert exports == {
        "Round": ("lazypkg.shapes", "Circle", 6),
        "area": ("lazypkg.shapes", "area", 6),
    }
