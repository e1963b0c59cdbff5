"""`mlops init` and the repository root share one source of the convention."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlops_gitops import scm
from mlops_gitops.project import (
    LINKED_AT_ROOT,
    init_project,
    list_template_files,
    render_template_file,
    template_root,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", LINKED_AT_ROOT)
def test_repository_root_links_to_the_scaffold(name):
    path = ROOT / name
    assert path.is_symlink(), f"{name} at the root must link into the scaffold, not copy it"
    assert path.resolve() == (template_root() / name).resolve()


def test_init_writes_exactly_the_scaffold(tmp_path):
    result = init_project(tmp_path / "credit", remote=tmp_path / "remote")
    expected = {render_template_file(rel, name="credit")[0] for rel in list_template_files()}
    assert set(result.files) == expected
    for rel in list_template_files():
        out_rel, content = render_template_file(rel, name="credit")
        assert (result.path / out_rel).read_bytes() == content
    assert (result.path / "README.md").read_text().startswith("# credit\n")


def test_init_creates_git_and_dvc_with_a_local_remote(tmp_path):
    result = init_project(tmp_path / "credit", remote=tmp_path / "remote")
    assert (result.path / ".dvc" / "config").exists()
    assert str(tmp_path / "remote") in (result.path / ".dvc" / "config").read_text()
    assert not scm.is_dirty(result.path, untracked=True)
    assert scm.rev_parse("HEAD", result.path) == result.commit


def test_init_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="taken: folder is not empty"):
        init_project(tmp_path / "taken")
    assert os.listdir(tmp_path / "taken") == ["notes.txt"]


def test_init_command_reports_json(cli, tmp_path):
    result = cli("init", str(tmp_path / "p"), "--remote", str(tmp_path / "r"), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["path"] == str(tmp_path / "p")


@pytest.mark.slow
def test_scaffolded_project_runs_its_pipeline(project):
    metrics = json.loads((project / "metrics" / "evaluate.json").read_text())
    assert 0.5 < metrics["roc_auc"] <= 1.0
    assert (project / "models" / "model.onnx").exists()


def test_scaffolded_project_passes_its_own_tests(tmp_path):
    import subprocess
    import sys

    result = init_project(tmp_path / "credit", remote=tmp_path / "remote")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=result.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout


@pytest.mark.slow
def test_scaffolded_project_passes_its_offline_pre_commit_hooks(tmp_path):
    import subprocess
    import sys

    result = init_project(tmp_path / "credit", remote=tmp_path / "remote")
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=result.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lint the policies" in proc.stdout
    assert not scm.is_dirty(result.path, untracked=True)
