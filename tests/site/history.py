"""A small repository with a history: two models, versions, promotions, a rollback, a waiver.

Built through the registry's public API (``register``, ``promote``,
``rollback``, ``deprecate``) and the local forge's (gate notes, SSH-signed
approval tags) on a tiny DVC project. ``dvc.lock`` is written by the
builder with the md5 of each file, exactly as DVC records it, so no stage
has to run and the build takes a few seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlops_gitops.project import render_template_file, template_root
from tests.helpers import git
from tests.helpers.repos import copy_repo

DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py
    deps:
      - prepare.py
      - data/raw.csv
    outs:
      - data/prepared/train.csv
      - data/prepared/test.csv
  validate:
    cmd: python validate.py
    deps:
      - validate.py
      - data/raw.csv
    outs:
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
      - models/credit-default.onnx
      - models/churn.onnx
    metrics:
      - metrics/evaluate.json:
          cache: false
    plots:
      - plots/roc.json:
          cache: false
          template: simple
          x: fpr
          y: tpr
      - plots/confusion.json:
          cache: false
          template: confusion
          x: actual
          y: predicted
artifacts:
  credit-default:
    path: models/credit-default.onnx
    type: model
    desc: Probability that an applicant defaults within 12 months
  churn:
    path: models/churn.onnx
    type: model
"""


def _png() -> bytes:
    """Return a valid 1x1 white PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


EVALUATE_METRICS = "      - metrics/evaluate.json:\n          cache: false\n"
MODEL_DOC = """\
# credit-default

## Intended use

Ranks consumer-credit applications by the probability of default within 12
months, to prioritise manual review.

## Out-of-scope uses

Automatic rejection of an application without human review.

## Limitations

Trained on a synthetic sample; calibration drifts when interest rates move.

## Ethical considerations

Age and sex are sensitive attributes: their parity differences are reported.
"""
WAIVERS = """\
waivers:
  - id: W-2026-001
    rule: min-metrics
    scope: {model: credit-default, version: v1.1.0, environment: prod}
    reason: roc_auc below the prod minimum accepted while the new features land (RISK-42)
    approver: alice
    expires: 2026-02-28
  - id: W-2026-000
    rule: soak-time
    scope: {model: churn, environment: staging}
    reason: hotfix of the churn features
    approver: bob
    expires: 2026-01-10
"""


@dataclass(frozen=True)
class History:
    """What the builder made: the repository and the commits worth naming."""

    path: Path
    versions: dict[str, str]
    promotions: dict[str, str]
    rollback: str
    waiver_commit: str
    blocked_head: str


@contextmanager
def dated(date: str) -> Iterator[None]:
    """Make git record ``date`` as author, committer and tagger date."""
    saved = {k: os.environ.get(k) for k in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE")}
    os.environ["GIT_AUTHOR_DATE"] = os.environ["GIT_COMMITTER_DATE"] = date
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _out(path: str, data: bytes) -> dict[str, object]:
    return {"path": path, "hash": "md5", "md5": _md5(data), "size": len(data)}


def _curve(auc: float) -> list[dict[str, float]]:
    return [{"fpr": x / 10, "tpr": min(1.0, (x / 10) ** (1 - auc))} for x in range(11)]


def _write_version(repo: Path, seed: int, auc: float) -> None:
    files: dict[str, bytes] = {
        "data/raw.csv": f"id,income,label\n1,{seed},0\n2,{seed * 2},1\n".encode(),
        "data/prepared/train.csv": f"income,label\n{seed},0\n".encode(),
        "data/prepared/test.csv": f"income,label\n{seed * 2},1\n".encode(),
        "models/credit-default.onnx": f"credit model {seed}".encode(),
        "models/churn.onnx": f"churn model {seed}".encode(),
    }
    slices = {
        "sex": {
            "F": {"rows": 120, "roc_auc": round(auc - 0.02, 4), "accuracy": 0.7},
            "M": {"rows": 130, "roc_auc": round(auc + 0.01, 4), "accuracy": 0.72},
        }
    }
    evaluate = {"roc_auc": auc, "accuracy": round(auc - 0.1, 4), "rows": 250, "slices": slices}
    validation = {
        "version": 1,
        "dataset": "data/raw.csv",
        "passed": True,
        "blocking": False,
        "rows": 1000 + seed,
        "columns": 3,
        "checks": [
            {"column": "income", "check": "dtype", "expected": "float64", "passed": True},
            {"column": "income", "check": "min", "expected": ">= 0", "passed": True},
            {"column": "label", "check": "allowed", "expected": "[0, 1]", "passed": True},
        ],
        "failures": [],
        "missing": {},
        "pii_columns": [],
        "sensitive_columns": ["sex"],
        "unchecked_columns": [],
        "reason": None,
    }
    confusion = [{"actual": a, "predicted": p} for a, p in ((0, 0), (0, 0), (1, 1), (0, 1), (1, 0))]
    text_files = {
        "params.yaml": f"train:\n  seed: {seed}\n",
        "metrics/evaluate.json": json.dumps(evaluate, indent=2),
        "reports/validation.json": json.dumps(validation, indent=2),
        "plots/roc.json": json.dumps(_curve(auc)),
        "plots/confusion.json": json.dumps(confusion),
    }
    files.update({k: v.encode() for k, v in text_files.items()})
    for rel, data in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(data)
    code = {n: (repo / n).read_bytes() for n in ("prepare.py", "validate.py", "train.py")}
    lock = {
        "schema": "2.0",
        "stages": {
            "prepare": {
                "cmd": "python prepare.py",
                "deps": [
                    _out("prepare.py", code["prepare.py"]),
                    _out("data/raw.csv", files["data/raw.csv"]),
                ],
                "outs": [
                    _out(p, files[p]) for p in ("data/prepared/train.csv", "data/prepared/test.csv")
                ],
            },
            "validate": {
                "cmd": "python validate.py",
                "deps": [
                    _out("validate.py", code["validate.py"]),
                    _out("data/raw.csv", files["data/raw.csv"]),
                ],
                "outs": [_out("reports/validation.json", files["reports/validation.json"])],
            },
            "train": {
                "cmd": "python train.py",
                "deps": [
                    _out("train.py", code["train.py"]),
                    _out("data/prepared/train.csv", files["data/prepared/train.csv"]),
                ],
                "params": {"params.yaml": {"train": {"seed": seed}}},
                "outs": [
                    _out(p, files[p]) for p in ("models/credit-default.onnx", "models/churn.onnx")
                ],
            },
        },
    }
    (repo / "dvc.lock").write_text(json.dumps(lock, indent=2))


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def _land(repo: Path, branch: str, number: int) -> str:
    git(repo, "merge", "--no-ff", "-q", "-m", f"Merge pull request #{number} from {branch}", branch)
    return git(repo, "rev-parse", "HEAD").strip()


def _scaffold(repo: Path) -> None:
    shutil.copytree(template_root() / "envs", repo / "envs")
    shutil.copytree(template_root() / "policies", repo / "policies")
    shutil.copytree(template_root() / "docs", repo / "docs")
    _, config = render_template_file("mkdocs.yml.j2", name="credit")
    (repo / "mkdocs.yml").write_bytes(config)
    (repo / ".gitignore").write_text("/site/\n.mlops/\n")
    (repo / "docs" / "models" / "credit-default.md").write_text(MODEL_DOC)
    for name in ("prepare.py", "validate.py", "train.py"):
        (repo / name).write_text(f"print('{name}')\n")
    (repo / "dvc.yaml").write_text(DVC_YAML)


def build_history(dest: Path, template: Path) -> History:
    """Build the repository under ``dest/repo`` from the repository ``template``."""
    from mlops_gitops import registry

    repo = copy_repo(template, dest / "repo")
    with dated("2026-01-05T09:00:00+00:00"):
        _scaffold(repo)
        _commit(repo, "Scaffold the credit project")
    versions: dict[str, str] = {}
    plan = [
        ("2026-01-06T09:00:00+00:00", 1, 0.81, [("credit-default", "v1.0.0"), ("churn", "v0.1.0")]),
        ("2026-01-10T09:00:00+00:00", 2, 0.84, [("credit-default", "v1.1.0")]),
        ("2026-01-12T09:00:00+00:00", 3, 0.79, [("churn", "v0.2.0")]),
        ("2026-01-20T09:00:00+00:00", 4, 0.86, [("credit-default", "v1.2.0")]),
    ]
    train_plan = {date: (seed, auc, regs) for date, seed, auc, regs in plan}
    events = [
        ("2026-01-06T09:00:00+00:00", "train"),
        ("2026-01-07T09:00:00+00:00", ("promote", "credit-default", "v1.0.0", "dev")),
        ("2026-01-07T10:00:00+00:00", ("promote", "churn", "v0.1.0", "dev")),
        ("2026-01-08T09:00:00+00:00", ("promote", "credit-default", "v1.0.0", "staging")),
        ("2026-01-10T09:00:00+00:00", "train"),
        ("2026-01-10T12:00:00+00:00", ("promote", "credit-default", "v1.0.0", "prod")),
        ("2026-01-11T09:00:00+00:00", ("promote", "credit-default", "v1.1.0", "dev")),
        ("2026-01-12T09:00:00+00:00", "train"),
        ("2026-01-12T12:00:00+00:00", ("promote", "credit-default", "v1.1.0", "staging")),
        ("2026-01-13T09:00:00+00:00", "waiver"),
        ("2026-01-14T09:00:00+00:00", ("promote", "credit-default", "v1.1.0", "prod")),
        ("2026-01-15T09:00:00+00:00", "rollback"),
        ("2026-01-16T09:00:00+00:00", "deprecate"),
        ("2026-01-20T09:00:00+00:00", "train"),
        ("2026-01-21T09:00:00+00:00", ("promote", "credit-default", "v1.2.0", "dev")),
    ]
    promotions: dict[str, str] = {}
    rollback = waiver_commit = ""
    key = _signing_key(dest)
    for number, (date, step) in enumerate(events, start=1):
        with dated(date):
            if step == "train":
                seed, auc, regs = train_plan[date]
                _write_version(repo, seed, auc)
                if seed == 4:
                    _write_explanations(repo)
                commit = _commit(repo, f"Train with seed {seed}")
                _gate(repo, commit, "main", "pass", None, (regs[0][0], regs[0][1]))
                for model, version in regs:
                    registry.register(repo, model, version=version, rev=commit, check_remote=False)
                    versions[f"{model}@{version}"] = commit
            elif step == "waiver":
                (repo / "policies" / "waivers.yaml").write_text(WAIVERS)
                waiver_commit = _commit(repo, "Waive min-metrics for credit-default v1.1.0 in prod")
            elif step == "rollback":
                result = registry.rollback(repo, env="prod", model="credit-default")
                _gate(
                    repo,
                    result.commit,
                    result.branch,
                    "pass",
                    "prod",
                    ("credit-default", result.version),
                )
                rollback = _land(repo, result.branch, number)
            elif step == "deprecate":
                registry.deprecate(
                    repo, "credit-default", "v1.1.0", reason="calibration drift in prod"
                )
            else:
                _, model, version, env = step
                now = _when(date)
                result = registry.promote(repo, model, version, to=env, now=now)
                decision = "warn" if (env, version) == ("prod", "v1.1.0") else "pass"
                _gate(repo, result.commit, result.branch, decision, env, (model, version))
                if env == "prod":
                    _approve(repo, key, env, result.commit)
                promotions[f"{model}@{version}->{env}"] = _land(repo, result.branch, number)
    with dated("2026-01-22T09:00:00+00:00"):
        blocked = _blocked_branch(repo)
        _experiments(repo)
        _monitoring(repo)
    return History(repo, versions, promotions, rollback, waiver_commit, blocked)


def _when(date: str):
    from datetime import datetime

    return datetime.fromisoformat(date)


def _gate(
    repo: Path, sha: str, branch: str, decision: str, env: str | None, mv: tuple[str, str | None]
) -> None:
    from mlops_gitops.forge import GateStatus
    from mlops_gitops.forge.base import ChangeRef
    from mlops_gitops.forge.local import LocalForge

    model, version = mv
    summary = {
        "pass": "all rules pass (5 pass)",
        "warn": "passes with warnings from min-metrics (1 waived)",
    }
    data = {"verdict": decision, "environment": env, "model": model, "version": version}
    status = GateStatus(
        decision=decision,  # type: ignore[arg-type]
        summary=summary.get(decision, "blocked by min-metrics"),
        data=data,
    )
    LocalForge(repo).set_gate(ChangeRef(sha=sha, branch=branch), status)


def _signing_key(dest: Path) -> Path:
    key = dest / "alice_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@example.com", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    return key


def _approve(repo: Path, key: Path, env: str, sha: str) -> None:
    from mlops_gitops.forge.signed_approvals import sign_approval

    sign_approval(repo, env, sha, key=key, user="alice")


def _write_explanations(repo: Path) -> None:
    fairness = {
        "demographic_parity_difference": {"sex": 0.04},
        "equalized_odds_difference": {"sex": 0.06},
    }
    (repo / "metrics" / "fairness.json").write_text(json.dumps(fairness, indent=2))
    report = repo / "reports" / "explain"
    (report / "figures").mkdir(parents=True, exist_ok=True)
    (report / "report.md").write_text(
        "# Explanations\n\nIncome drives the score.\n\n![importance](figures/importance.png)\n"
    )
    (report / "figures" / "importance.png").write_bytes(_png())
    (report / "report.html").write_text(
        "<html><body><h1>Explanations</h1><img src='figures/importance.png'></body></html>"
    )
    dvc_yaml = (
        (repo / "dvc.yaml")
        .read_text()
        .replace(
            EVALUATE_METRICS,
            EVALUATE_METRICS + "      - metrics/fairness.json:\n          cache: false\n",
        )
    )
    (repo / "dvc.yaml").write_text(dvc_yaml)


def _blocked_branch(repo: Path) -> str:
    git(repo, "checkout", "-q", "-b", "train/too-small")
    (repo / "params.yaml").write_text("train:\n  seed: 5\n")
    sha = _commit(repo, "Try a smaller model")
    git(repo, "checkout", "-q", "main")
    _gate(repo, sha, "train/too-small", "block", "staging", ("credit-default", None))
    return sha


def _experiments(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "exp/wider")
    (repo / "params.yaml").write_text("train:\n  seed: 7\n  width: 64\n")
    evaluate = json.loads((repo / "metrics" / "evaluate.json").read_text())
    (repo / "metrics" / "evaluate.json").write_text(json.dumps({**evaluate, "roc_auc": 0.88}))
    _commit(repo, "Wider network")
    git(repo, "checkout", "-q", "main")
    base = git(repo, "rev-parse", "HEAD").strip()
    # a DVC experiment ref (refs/exps/<base[:2]>/<base[2:]>/<name>) on a commit of its own
    git(repo, "checkout", "-q", "-b", "tmp-exp")
    (repo / "params.yaml").write_text("train:\n  seed: 9\n")
    (repo / "metrics" / "evaluate.json").write_text(json.dumps({**evaluate, "roc_auc": 0.83}))
    exp = _commit(repo, "dvc: commit experiment")
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-q", "-D", "tmp-exp")
    git(repo, "update-ref", f"refs/exps/{base[:2]}/{base[2:]}/shy-lamb", exp)


def _monitoring(repo: Path) -> None:
    lines = [
        {
            "timestamp": f"2026-01-{day:02d}T06:00:00Z",
            "run": f"run-{day}",
            "status": "ok" if day < 19 else "warn",
            "score": round(0.95 - (day - 15) * 0.03, 2),
            "health": {"credit-default": round(0.95 - (day - 15) * 0.03, 2)},
            "rows": {"credit-default": 500},
            "alerts": [],
            "failed": [],
        }
        for day in range(15, 22)
    ]
    folder = repo / "monitoring" / "prod"
    folder.mkdir(parents=True)
    (folder / "history.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    _commit(repo, "Monitoring runs of prod")
