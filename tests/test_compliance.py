"""The compliance matrix carries every requirement and cites only tests that exist and fit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_gitops.errors import ConfigError
from mlops_gitops.site.compliance import load_matrix, render_markdown
from tests.helpers import CliResult
from tools.compliance import check_matrix, named_concepts

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


def _tool(cwd: Path, *args: str) -> CliResult:
    """Run ``python -m tools.compliance ARGS`` in ``cwd``, as a user runs it."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "tools.compliance", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def _concepts(root: Path) -> None:
    for name in ("serving", "audit", "reports"):
        (root / "mlops_gitops" / name).mkdir(parents=True)
        (root / "tests" / name).mkdir(parents=True)
    (root / "mlops_gitops" / "serving" / "kube.py").write_text("")
    (root / "tests" / "serving" / "test_kube.py").write_text("def test_renders():\n    pass\n")
    (root / "tests" / "cli").mkdir()
    (root / "tests" / "cli" / "test_serve.py").write_text("def test_render():\n    pass\n")


def _row(root: Path, status: str, how: str, *tests: str) -> list[str]:
    (root / "m.yaml").write_text(
        "requirements:\n"
        f"  - {{id: X1, area: a, requirement: r, status: {status}, how: '{how}',"
        f" tests: [{', '.join(tests)}]}}\n"
    )
    return check_matrix(load_matrix(root / "m.yaml"), root)


@pytest.mark.parametrize(
    ("how", "concepts"),
    [
        ("`serving`", ["serving"]),
        ("`mlops_gitops/serving/kube.py`", ["serving"]),
        ("`mlops_gitops.serving.kube.render_k8s`", ["serving"]),
        ("`serving/kube.py` and `mlops audit --csv`", ["serving", "audit"]),
        ("`mlops render k8s`", []),
        ("`reports/validation.json`", []),
        ("`serving.port`, serving and `mlops_gitops.connectors`", []),
    ],
)
def test_a_row_names_the_concepts_of_its_backticked_paths_and_commands(tmp_path, how, concepts):
    _concepts(tmp_path)
    assert named_concepts(how, tmp_path) == concepts


def test_yes_row_citing_a_test_of_the_module_it_names_passes(tmp_path):
    _concepts(tmp_path)
    how = "`mlops render k8s` (`mlops_gitops/serving/kube.py`)"
    tests = ("tests/cli/test_serve.py::test_render", "tests/serving/test_kube.py::test_renders")
    assert _row(tmp_path, "yes", how, *tests) == []


def test_yes_row_citing_only_tests_outside_the_module_it_names_fails(tmp_path):
    _concepts(tmp_path)
    how = "`mlops render k8s` (`mlops_gitops/serving/kube.py`)"
    assert _row(tmp_path, "yes", how, "tests/cli/test_serve.py::test_render") == [
        "X1: 'how' names `serving` but no cited test lives in tests/serving/"
    ]
    assert _row(tmp_path, "partial", how, "tests/cli/test_serve.py::test_render") == []


def test_yes_row_must_cite_a_test_of_every_module_it_names(tmp_path):
    _concepts(tmp_path)
    how = "`mlops audit` over `mlops_gitops/serving/`"
    assert _row(tmp_path, "yes", how, "tests/serving/test_kube.py::test_renders") == [
        "X1: 'how' names `audit` but no cited test lives in tests/audit/"
    ]


def test_a_missing_test_in_the_module_still_fails(tmp_path):
    _concepts(tmp_path)
    assert _row(tmp_path, "yes", "`serving`", "tests/serving/test_kube.py::test_gone") == [
        "X1: tests/serving/test_kube.py::test_gone is not defined"
    ]


def test_check_command_lists_each_problem_and_fails_in_one_line(tmp_path):
    _concepts(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "compliance.yaml").write_text(
        "requirements:\n"
        "  - {id: X1, area: a, requirement: r, status: yes, how: '`serving`',"
        " tests: [tests/cli/test_serve.py::test_render]}\n"
    )
    result = _tool(tmp_path, "check")
    assert result.exit_code == 1
    assert result.stdout == "X1: 'how' names `serving` but no cited test lives in tests/serving/\n"
    assert result.stderr == "error: 1 unproven claim(s) in docs/compliance.yaml\n"
