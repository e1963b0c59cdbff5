"""The explain params section: defaults, and errors that name the field."""

from __future__ import annotations

import pytest

from mlops_gitops.errors import ConfigError
from mlops_gitops.explain.settings import ExplainSettings, parse_settings


def test_empty_section_gives_the_defaults():
    assert parse_settings(None) == ExplainSettings()
    assert parse_settings({}).explainers == ("shap", "lime")


def test_nested_value_is_validated():
    settings = parse_settings({"shap": {"rows": 10}, "immutable": ["age_band"]})
    assert settings.shap.rows == 10 and settings.immutable == ("age_band",)


def test_out_of_range_value_names_its_field():
    with pytest.raises(ConfigError, match=r"^params.yaml explain.permutation.n_repeats: "):
        parse_settings({"permutation": {"n_repeats": 0}})


def test_unknown_key_is_refused():
    with pytest.raises(ConfigError, match=r"^params.yaml explain.lime.rowz: unknown key"):
        parse_settings({"lime": {"rowz": 3}})
