"""A real project for the gate: DVC pipeline, starter policies, two registered versions.

Built once per session (``dvc repro`` is slow) and copied into each test:

* ``credit-default`` v1.0.0 (roc_auc 0.80, accuracy 0.75) trained on 2026-01-10,
  promoted to dev, staging, and prod (prod landed 2026-01-13T09:00Z);
* v1.1.0 (roc_auc 0.83, accuracy 0.78, more rows) trained on 2026-01-14,
  promoted to dev and staging (staging landed 2026-01-14T12:00Z);
* v1.2.0, the same commit registered again, promoted to dev (landed 2026-01-15T09:00Z).

On main: dev runs v1.2.0, staging v1.1.0, prod v1.0.0.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from mlops_gitops.project import template_root
from tests.helpers import git
from tests.helpers.repos import copy_repo

PREPARE = """\
import json, pathlib, yaml
rows = yaml.safe_load(open("params.yaml"))["data"]["rows"]
pathlib.Path("data/prepared").mkdir(parents=True, exist_ok=True)
pathlib.Path("data/prepared/train.csv").write_text("x,y\\n" + "1,0\\n" * rows)
pathlib.Path("reports").mkdir(exist_ok=True)
pathlib.Path("reports/validation.json").write_text(json.dumps({"passed": True, "rows": rows}))
"""
TRAIN = """\
import json, pathlib, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
data = pathlib.Path("data/prepared/train.csv").read_bytes()
pathlib.Path("models").mkdir(exist_ok=True)
pathlib.Path("models/model.onnx").write_bytes(json.dumps(p, sort_keys=True).encode() + data)
pathlib.Path("metrics").mkdir(exist_ok=True)
evaluate = {"accuracy": p["accuracy"], "roc_auc": p["roc_auc"], "f1": 0.5,
            "fairness": {"demographic_parity_difference": p["dpd"]}}
pathlib.Path("metrics/evaluate.json").write_text(json.dumps(evaluate))
pathlib.Path("metrics/export.json").write_text(json.dumps({"onnx_max_abs_diff": p["onnx_diff"]}))
"""
DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py
    deps:
      - prepare.py
    params:
      - data
    outs:
      - data/prepared/train.csv
      - reports/validation.json:
          cache: false
  train:
    cmd: python train.py
    deps:
      - train.py
      - data/prepared/train.csv
    params:
      - train
    outs:
      - models/model.onnx
    metrics:
      - metrics/evaluate.json:
          cache: false
      - metrics/export.json:
          cache: false
artifacts:
  credit-default:
    path: models/model.onnx
    type: model
"""
PARAMS = """\
model:
  name: credit-default
data:
  rows: {rows}
train:
  roc_auc: {roc_auc}
  accuracy: {accuracy}
  onnx_diff: 1.0e-7
  dpd: 0.04
export:
  tolerance: 0.0001
"""
MODEL = "credit-default"
PROD_LANDED = "2026-01-13T09:00:00+00:00"
STAGING_LANDED = "2026-01-14T12:00:00+00:00"
DEV_LANDED = "2026-01-15T09:00:00+00:00"


def dvc(repo: Path, *args: str) -> None:
    """Run this interpreter's DVC, its folder first on PATH (stage commands run 'python')."""
    import sys

    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    subprocess.run([f"{bin_dir}/dvc", *args], cwd=repo, check=True, capture_output=True, env=env)


def dated(date: str) -> dict[str, str]:
    """Git environment that dates a commit at ``date``."""
    return {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}


def at(date: str) -> datetime:
    """Parse an ISO time with its zone."""
    return datetime.fromisoformat(date)


def land(repo: Path, branch: str, date: str) -> None:
    """Merge ``branch`` into main with a merge commit dated ``date``."""
    git(repo, "merge", "--no-ff", "-q", "-m", f"Merge {branch}", branch, env=dated(date))


def _deploy(repo: Path, version: str, env: str, date: str) -> None:
    from mlops_gitops.registry import promote

    result = promote(repo, MODEL, version, to=env, now=at("2027-01-01T00:00:00+00:00"))
    land(repo, result.branch, date)


def _train(repo: Path, *, rows: int, roc_auc: float, accuracy: float, date: str) -> None:
    (repo / "params.yaml").write_text(PARAMS.format(rows=rows, roc_auc=roc_auc, accuracy=accuracy))
    dvc(repo, "repro", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"Train on {rows} rows", env=dated(date))


def _build(repo: Path, template: Path) -> None:
    from mlops_gitops.registry import register

    copy_repo(template, repo)
    dvc(repo, "config", "core.analytics", "false")
    shutil.copytree(template_root() / "envs", repo / "envs")
    shutil.copytree(template_root() / "policies", repo / "policies")
    shutil.copytree(template_root() / "docs" / "models", repo / "docs" / "models")
    (repo / "prepare.py").write_text(PREPARE)
    (repo / "train.py").write_text(TRAIN)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / ".gitignore").write_text(".mlops/\n")
    _train(repo, rows=100, roc_auc=0.80, accuracy=0.75, date="2026-01-10T09:00:00+00:00")
    register(repo, MODEL, version="v1.0.0", check_remote=False)
    _deploy(repo, "v1.0.0", "dev", "2026-01-10T10:00:00+00:00")
    _deploy(repo, "v1.0.0", "staging", "2026-01-10T11:00:00+00:00")
    _deploy(repo, "v1.0.0", "prod", PROD_LANDED)
    _train(repo, rows=120, roc_auc=0.83, accuracy=0.78, date="2026-01-14T09:00:00+00:00")
    register(repo, MODEL, version="v1.1.0", check_remote=False)
    _deploy(repo, "v1.1.0", "dev", "2026-01-14T10:00:00+00:00")
    _deploy(repo, "v1.1.0", "staging", STAGING_LANDED)
    register(repo, MODEL, version="v1.2.0", check_remote=False)
    _deploy(repo, "v1.2.0", "dev", DEV_LANDED)


@pytest.fixture(scope="session")
def built_gate_repo(tmp_path_factory: pytest.TempPathFactory, repo_template: Path) -> Path:
    """The project, built once per session."""
    repo = tmp_path_factory.mktemp("gate") / "repo"
    _build(repo, repo_template)
    return repo


@dataclass(frozen=True)
class GateRepo:
    """A private copy of the project, with helpers to change it like a user would."""

    path: Path

    def branch(self, name: str, start: str = "main") -> None:
        """Check out a new branch ``name`` at ``start``."""
        git(self.path, "checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        """Check out an existing branch."""
        git(self.path, "checkout", "-q", name)

    def commit(self, files: Mapping[str, str], message: str = "Change", **env: str) -> str:
        """Write ``files``, commit them (as ``env`` identity/dates) and return the commit."""
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.head()

    def head(self) -> str:
        """The head commit id."""
        return git(self.path, "rev-parse", "HEAD").strip()

    def metrics(self, **values: float) -> dict[str, str]:
        """Return a metrics/evaluate.json with ``values`` over the trained ones."""
        current = json.loads((self.path / "metrics/evaluate.json").read_text())
        return {"metrics/evaluate.json": json.dumps({**current, **values})}

    def promote(self, version: str, env: str, canary: int | None = None) -> str:
        """Write the promotion of ``version`` into ``env`` on its branch and check it out."""
        from mlops_gitops.registry import promote

        late = at("2027-01-01T00:00:00+00:00")  # past every soak time: the gate judges it
        result = promote(self.path, MODEL, version, to=env, canary=canary, now=late)
        self.checkout(result.branch)
        return result.branch

    def git(self, *args: str) -> str:
        """Run git in the copy."""
        return git(self.path, *args)


@pytest.fixture
def gate_repo(built_gate_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GateRepo:
    """A private copy of the gate project, as the current folder."""
    path = tmp_path / "repo"
    shutil.copytree(built_gate_repo, path, symlinks=True)
    monkeypatch.chdir(path)
    return GateRepo(path)


@pytest.fixture
def decide(gate_repo: GateRepo) -> Callable[..., object]:
    """``decide(env=None, now=..., approvals=(), base='main')``: run the gate on the copy."""
    from mlops_gitops.policies.collect import GateRequest
    from mlops_gitops.policies.gate import run_gate

    def _decide(
        env: str | None = None,
        *,
        now: str = "2026-01-16T12:00:00+00:00",
        approvals: tuple[object, ...] = (),
        base: str = "main",
    ) -> object:
        request = GateRequest(
            root=gate_repo.path,
            environment=env,
            base=base,
            approvals=approvals,
            now=at(now),  # type: ignore[arg-type]
        )
        return run_gate(request)

    return _decide
