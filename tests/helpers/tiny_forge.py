"""Fixtures: a tiny real DVC project behind a real local forge (bare repository with hooks).

Shared by the CI and security tests.

The pipeline is one stage that writes a stand-in model, metrics and a plot
from ``params.yaml`` in a few milliseconds, so the tests exercise git, DVC,
the hooks, the queue, the runner, the policies and the notes for real,
without training a model. Built once per session and copied per test.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import sh
from tests.helpers.repos import add_dvc

TRAIN = """\
import json, pathlib, re
lr = float(re.search(r"lr: ([0-9.]+)", open("params.yaml").read()).group(1))
for folder in ("models", "metrics", "plots"):
    pathlib.Path(folder).mkdir(exist_ok=True)
pathlib.Path("models/model.onnx").write_bytes(b"stand-in model " + str(lr).encode())
json.dump({"roc_auc": round(0.6 + lr, 4), "accuracy": 0.8}, open("metrics/evaluate.json", "w"))
roc = [{"fpr": 0, "tpr": 0}, {"fpr": 0.2, "tpr": 0.5 + lr}, {"fpr": 1, "tpr": 1}]
json.dump(roc, open("plots/roc.json", "w"))
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train.lr]
    outs: [models/model.onnx]
    metrics:
      - metrics/evaluate.json: {cache: false}
    plots:
      - plots/roc.json: {cache: false, template: simple, x: fpr, y: tpr}
artifacts:
  credit-default:
    path: models/model.onnx
    type: model
"""

GATE_RULES = """\
rules:
  - id: min-auc
    description: The candidate reaches the minimum roc_auc.
    requires: [candidate.metrics.roc_auc]
    when_absent: block
    condition: candidate.metrics.roc_auc >= 0.65
    severity: block
    message: "roc_auc {{ candidate.metrics.roc_auc }} (minimum 0.65)"
  - id: promotion-approvals
    description: The change has the approvals roles.yaml requires, on the head commit.
    where:
      environments: [prod]
      kinds: [promotion]
    condition: approvals.required.all(team, approvals.count[team] >= approvals.required[team])
    severity: block
    waivable: false
    message: >-
      approvals counted {{ approvals.count }}, required {{ approvals.required }};
      stale {{ approvals.stale }}, self-approvals ignored {{ approvals.self_approvals }}
"""

ROLES = """\
people:
  alice: [alice@example.com]
  bob: [bob@example.com]
  mallory: [mallory@example.com]
teams:
  ml-leads: [alice, bob, mallory]
approvals:
  environments:
    prod: {ml-leads: 2}
"""

ENVIRONMENTS = "environments:\n  prod:\n    feeds: []\n"
PROD = "models: {}\n"


@dataclass(frozen=True)
class TinyForge:
    """The forge (bare repository), a clone with the project, the DVC remote, signing keys."""

    forge: Path
    clone: Path
    remote: Path
    keys: dict[str, Path]


# ada pushes (her signed push certificates tell the forge who made a change);
# alice and bob approve; mallory's key is in no allowed_signers file.
PEOPLE = ("alice", "bob", "mallory", "ada")


def sign_pushes(clone: Path, key: Path) -> None:
    """Make every push from ``clone`` carry a push certificate signed with ``key``."""
    sh(f"git config gpg.format ssh && git config user.signingkey {key}", clone)
    sh("git config push.gpgSign true", clone)


def _signers(keys: dict[str, Path], *names: str) -> str:
    lines = []
    for name in names:
        kind, key = keys[name].with_suffix(".pub").read_text().split()[:2]
        lines.append(f'{name}@example.com namespaces="git" {kind} {key}')
    return "\n".join(lines) + "\n"


def _build(root: Path, template: Path) -> None:
    from mlops_gitops.forge.local import init_forge

    keys = root / "keys"
    keys.mkdir()
    for name in PEOPLE:
        sh(f"ssh-keygen -q -t ed25519 -N '' -C {name} -f {name}", keys)
    key_paths = {n: keys / n for n in PEOPLE}
    init_forge(root / "forge.git", python=sys.executable)
    clone = root / "clone"
    sh(f"git clone -q {root / 'forge.git'} clone", root)
    files = {
        "train.py": TRAIN,
        "dvc.yaml": DVC_YAML,
        "params.yaml": "train:\n  lr: 0.1\n",
        ".gitignore": ".mlops/\n",
        "policies/gate.yaml": GATE_RULES,
        "policies/roles.yaml": ROLES,
        "policies/allowed_signers": _signers(key_paths, "alice", "bob", "ada"),
        "envs/environments.yaml": ENVIRONMENTS,
        "envs/prod.yaml": PROD,
    }
    for rel, text in files.items():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        (clone / rel).write_text(text)
    add_dvc(template, clone)
    sh(f"dvc remote add -q -d local {root / 'dvc-remote'}", clone)
    sh("dvc repro -q && dvc push -q && git add -A && git commit -qm 'Tiny project'", clone)
    sh("git push -q origin main", clone)
    sign_pushes(clone, key_paths["ada"])
    shutil.rmtree(root / "forge.git" / "mlops-queue", ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_template(tmp_path_factory: pytest.TempPathFactory, repo_template: Path) -> Path:
    """The tiny forge, built once per session."""
    root = tmp_path_factory.mktemp("tiny-forge")
    _build(root, repo_template)
    return root


@pytest.fixture
def tiny(tiny_template: Path, tmp_path: Path) -> TinyForge:
    """A private copy of the tiny forge (its clone's ``origin`` is the copy).

    The DVC remote stays the session's (content-addressed, so sharing it is safe).
    """
    root = tmp_path / "tiny"
    shutil.copytree(tiny_template, root, symlinks=True)
    clone = root / "clone"
    sh(f"git remote set-url origin {root / 'forge.git'}", clone)
    keys = {n: root / "keys" / n for n in PEOPLE}
    sign_pushes(clone, keys["ada"])
    return TinyForge(root / "forge.git", clone, tiny_template / "dvc-remote", keys)
