"""Fixtures: a tiny real DVC project with two models, trained at three commits and pushed.

Shared by the registry, policy and CLI tests.

Built once per session (``dvc repro`` and ``dvc push`` are slow) and copied
into each test with its local DVC remote; the remote URL in ``.dvc/config``
is relative, so the copy works without reconfiguring.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_gitops.project import template_root
from tests.helpers import git
from tests.helpers.repos import copy_repo

TRAIN = """\
import json, pathlib, yaml
params = yaml.safe_load(open("params.yaml"))
seed = params["train"]["seed"]
data = pathlib.Path("data/prepared/train.parquet").read_bytes()
pathlib.Path("models").mkdir(exist_ok=True)
pathlib.Path("models/model.onnx").write_bytes(b"credit model %d " % seed + data)
pathlib.Path("models/churn.onnx").write_bytes(b"churn model %d" % (seed % 2))
pathlib.Path("metrics").mkdir(exist_ok=True)
pathlib.Path("metrics/train.json").write_text(json.dumps({"auc": 0.8 + seed / 100}))
"""
PREPARE = """\
import pathlib
pathlib.Path("data/prepared").mkdir(parents=True, exist_ok=True)
pathlib.Path("data/prepared/train.parquet").write_bytes(b"train rows")
pathlib.Path("data/prepared/test.parquet").write_bytes(b"test rows")
"""
DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py
    deps:
      - prepare.py
    outs:
      - data/prepared/train.parquet
      - data/prepared/test.parquet
  train:
    cmd: python train.py
    deps:
      - train.py
      - data/prepared/train.parquet
    params:
      - train
    outs:
      - models/model.onnx
      - models/churn.onnx
    metrics:
      - metrics/train.json:
          cache: false
artifacts:
  credit-default:
    path: models/model.onnx
    type: model
  churn:
    path: models/churn.onnx
    type: model
  ghost:
    path: models/ghost.onnx
    type: model
"""


@dataclass(frozen=True)
class ModelRepo:
    """The copied project: its path, its DVC remote and the three trained commits."""

    path: Path
    remote: Path
    revs: tuple[str, str, str]


def _build(dest: Path, template: Path) -> tuple[str, str, str]:
    repo = copy_repo(template, dest / "repo", "dvc-with-remote")  # remote ../dvc-remote, from .dvc/

    def run(*cmd: str) -> None:
        subprocess.run(cmd, cwd=repo, check=True, capture_output=True)

    (dest / "dvc-remote").mkdir()
    shutil.copytree(template_root() / "envs", repo / "envs")
    (repo / "prepare.py").write_text(PREPARE)
    (repo / "train.py").write_text(TRAIN)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    revs = []
    for seed in (1, 2, 3):
        (repo / "params.yaml").write_text(f"train:\n  seed: {seed}\n")
        run("dvc", "repro", "-q")
        run("dvc", "push", "-q")
        run("git", "add", "-A")
        run("git", "commit", "-q", "-m", f"Train with seed {seed}")
        revs.append(git(repo, "rev-parse", "HEAD").strip())
    return revs[0], revs[1], revs[2]


@pytest.fixture(scope="session")
def built_model_repo(
    tmp_path_factory: pytest.TempPathFactory, repo_template: Path
) -> tuple[Path, tuple[str, str, str]]:
    dest = tmp_path_factory.mktemp("model-repo")
    return dest, _build(dest, repo_template)


@pytest.fixture
def model_repo(
    built_model_repo: tuple[Path, tuple[str, str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> ModelRepo:
    """A private copy of the tiny project, as the current folder."""
    source, revs = built_model_repo
    shutil.copytree(source / "repo", tmp_path / "work" / "repo", symlinks=True)
    shutil.copytree(source / "dvc-remote", tmp_path / "dvc-remote")
    # the remote is ../../dvc-remote from repo/.dvc/, i.e. tmp_path/work/dvc-remote
    shutil.move(tmp_path / "dvc-remote", tmp_path / "work" / "dvc-remote")
    repo = tmp_path / "work" / "repo"
    monkeypatch.chdir(repo)
    return ModelRepo(path=repo, remote=tmp_path / "work" / "dvc-remote", revs=revs)


@pytest.fixture
def registered(model_repo: ModelRepo) -> ModelRepo:
    """``model_repo`` with credit-default v1.0.0, v1.1.0, v2.0.0 and churn v1.0.0 registered."""
    from mlops_gitops.registry import register

    a, b, c = model_repo.revs
    for version, rev in (("v1.0.0", a), ("v1.1.0", b), ("v2.0.0", c)):
        register(model_repo.path, "credit-default", version=version, rev=rev, check_remote=False)
    register(model_repo.path, "churn", version="v1.0.0", rev=a, check_remote=False)
    return model_repo


def land(repo: Path, branch: str, date: str) -> str:
    """Merge ``branch`` into main with a merge commit dated ``date``; return the merge commit."""
    env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    git(repo, "merge", "--no-ff", "-q", "-m", f"Merge {branch}", branch, env=env)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def deploy(registered: ModelRepo) -> Callable[..., str]:
    """``deploy(model, version, env, date, canary=None)``: promote and land it on main."""
    from datetime import datetime

    from mlops_gitops.registry import promote

    def _deploy(model: str, version: str, env: str, date: str, canary: int | None = None) -> str:
        now = datetime.fromisoformat(date.replace("Z", "+00:00"))
        result = promote(registered.path, model, version, to=env, canary=canary, now=now)
        return land(registered.path, result.branch, date)

    return _deploy
