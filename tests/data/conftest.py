"""Fixtures of the data tests: the scaffold's params sections and a small sample."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlops_gitops import stage
from mlops_gitops.data import generate_sample
from mlops_gitops.project import template_root

PII = ("full_name", "email", "phone", "national_id")


@pytest.fixture(scope="session")
def sections() -> dict[str, dict[str, Any]]:
    """The data, schema and prepare sections of the scaffold's params.yaml."""
    return stage.load_sections("data", "schema", "prepare", root=template_root())


@pytest.fixture(scope="session")
def small_sample() -> pd.DataFrame:
    """400 rows of the built-in sample (seed 7); copy before changing it."""
    return generate_sample(400, 7)


@pytest.fixture
def venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put this interpreter's folder first on PATH, so `python stages/x.py` under DVC finds us."""
    bin_dir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))


@pytest.fixture(autouse=True)
def no_salt_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the PII salt themselves; one in the developer's shell must not leak in."""
    monkeypatch.delenv("MLOPS_PII_SALT", raising=False)
