"""The public API: ``__all__`` names exactly what the package exports, lazily."""

from __future__ import annotations

import subprocess
import sys

import mlops_gitops
from mlops_gitops._lazy import read_exports

EXPORTS = read_exports(mlops_gitops.__file__)


def test_all_lists_every_export_and_each_resolves():
    public = set(EXPORTS)
    assert set(mlops_gitops.__all__) == public | {"__version__"}
    for name in public:
        value = getattr(mlops_gitops, name)
        module = EXPORTS[name].module
        assert value is getattr(sys.modules[module], name), name


def test_import_is_lazy_and_light():
    code = (
        "import sys, mlops_gitops\n"
        "heavy = ('torch', 'pandas', 'dvc', 'sklearn', 'pydantic')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error():
    try:
        mlops_gitops.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
