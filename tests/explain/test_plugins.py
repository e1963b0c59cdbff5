"""The explainer plug-in point: built-ins, entry points of installed packages, bad plug-ins."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlops_gitops.errors import ConfigError
from mlops_gitops.explain.explainers import (
    ENTRY_POINT_GROUP,
    Explainer,
    find_explainer,
    list_explainers,
)

PLUGIN = """
import numpy as np
from mlops_gitops.explain.attribution import Attributions


class ZeroExplainer:
    name = "zero"

    def attribute(self, model, rows, *, background, settings):
        names = model.space.names
        zeros = np.zeros((len(rows), len(names)))
        output = model.predict_proba(rows)
        data = rows.reset_index(drop=True)
        return Attributions("zero", names, zeros, output, output, "probability", data)


class NotAnExplainer:
    pass
"""


def install_plugin(root: Path, entries: str) -> None:
    """Install a distribution with entry points by writing its metadata on sys.path."""
    (root / "zero_explainer.py").write_text(PLUGIN)
    info = root / "zero_explainer-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zero-explainer\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entries}\n")


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("zero_explainer", None)


def test_builtin_explainers_are_always_there():
    explainers = list_explainers()
    assert {"shap", "lime"} <= set(explainers)
    assert all(isinstance(e, Explainer) for e in explainers.values())


def test_an_installed_plugin_is_found_by_name(plugin_path):
    install_plugin(plugin_path, "zero = zero_explainer:ZeroExplainer")
    explainer = find_explainer("zero")
    assert explainer.name == "zero" and isinstance(explainer, Explainer)


def test_a_plugin_that_is_not_an_explainer_is_refused(plugin_path):
    install_plugin(plugin_path, "broken = zero_explainer:NotAnExplainer")
    with pytest.raises(
        ConfigError,
        match=r"^explainer 'broken' \(entry point 'broken = zero_explainer:NotAnExplainer' of "
        r"zero-explainer 0.1\) does not implement Explainer: missing name, attribute$",
    ):
        list_explainers()


def test_unknown_explainer_lists_the_known_ones():
    with pytest.raises(
        ConfigError, match=r"^explain.explainers: unknown explainer 'anchors'; known: .*lime.*shap"
    ):
        find_explainer("anchors")
