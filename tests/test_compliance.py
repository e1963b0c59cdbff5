"""The compliance matrix carries every requirement and names only tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_gitops.compliance import check_matrix, load_matrix, render_markdown
from mlops_gitops.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT.parent / "shared" / "requirements.md"
ID_ROW = re.compile(r"^\| ([A-Z]\d+(?:\.\d+)?) \|", re.MULTILINE)


def test_matrix_has_every_requirement_id_of_the_rfp():
    matrix = load_matrix(ROOT / "docs" / "compliance.yaml")
    ids = [r.id for r in matrix.requirements]
    if REQUIREMENTS.exists():
        expected = ID_ROW.findall(REQUIREMENTS.read_text())
        assert ids == expected
    assert len(ids) == 230


def test_matrix_names_only_existing_tests():
    matrix = load_matrix(ROOT / "docs" / "compliance.yaml")
    assert check_matrix(matrix, ROOT) == []


def test_compliance_page_is_generated_from_the_data_file():
    matrix = load_matrix(ROOT / "docs" / "compliance.yaml")
    assert (ROOT / "docs" / "compliance.md").read_text() == render_markdown(matrix)


def test_check_reports_a_missing_test(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "requirements:\n"
        "  - {id: X1, area: a, requirement: r, status: yes, tests: [tests/nope.py::test_x]}\n"
    )
    problems = check_matrix(load_matrix(tmp_path / "m.yaml"), tmp_path)
    assert problems == ["X1: tests/nope.py does not exist"]


def test_malformed_row_names_the_field(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "requirements:\n  - {id: X1, area: a, requirement: r, status: maybe}\n"
    )
    with pytest.raises(ConfigError, match=r"m.yaml requirements.0.status"):
        load_matrix(tmp_path / "m.yaml")
