"""The PR report: verdict first, metrics vs base, params and data changes, plots, policies."""

from __future__ import annotations

import json
from pathlib import Path

from mlops_gitops.reports import (
    PolicyRow,
    RunFacts,
    StageTime,
    Verdict,
    build_pr_context,
    build_pr_report,
    render_pr_markdown,
)

DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py
    outs: [data/prepared/train.parquet]
  evaluate:
    cmd: python evaluate.py
    metrics:
      - metrics/evaluate.json: {cache: false}
    plots:
      - plots/roc.json: {cache: false, template: simple, x: fpr, y: tpr}
      - plots/confusion.json: {cache: false, template: confusion, x: actual, y: predicted}
"""


def _lock(md5: str) -> str:
    return (
        "schema: '2.0'\nstages:\n  prepare:\n    cmd: python prepare.py\n    outs:\n"
        f"    - path: data/prepared/train.parquet\n      md5: {md5}\n      size: 10\n"
    )


def _files(auc: float, lr: float, md5: str, rows: int) -> dict[str, str]:
    roc = [{"fpr": 0.0, "tpr": 0.0}, {"fpr": 0.2, "tpr": auc}, {"fpr": 1.0, "tpr": 1.0}]
    confusion = [
        {"actual": 0, "predicted": 0},
        {"actual": 1, "predicted": 1},
        {"actual": 1, "predicted": 0},
    ]
    validation = {
        "dataset": "credit",
        "passed": True,
        "rows": rows,
        "checks": [{}, {}],
        "failures": [],
    }
    return {
        "dvc.yaml": DVC_YAML,
        "dvc.lock": _lock(md5),
        "params.yaml": f"train:\n  lr: {lr}\n  epochs: 3\n",
        "metrics/evaluate.json": json.dumps({"roc_auc": auc, "accuracy": 0.8}),
        "plots/roc.json": json.dumps(roc),
        "plots/confusion.json": json.dumps(confusion),
        "reports/validation.json": json.dumps(validation),
    }


def _project(git_repo: Path, gen: object) -> Path:
    gen(_files(0.80, 0.1, "a" * 32, 600), commit="baseline")  # type: ignore[operator]
    import subprocess

    subprocess.run(["git", "checkout", "-q", "-b", "feature"], cwd=git_repo, check=True)
    gen(_files(0.85, 0.2, "b" * 32, 650), commit="raise lr")  # type: ignore[operator]
    return git_repo


def test_report_starts_with_the_verdict_and_compares_with_the_base(
    git_repo: Path, gen: object
) -> None:
    root = _project(git_repo, gen)
    facts = RunFacts(
        verdict=Verdict(decision="warn", summary="1 of 2 rules warns"),
        policies=[
            PolicyRow(rule="min-auc", level="block", outcome="pass", message="auc 0.85 >= 0.7")
        ],
        stages=[StageTime(stage="train", seconds=12.34)],
    )
    context = build_pr_context(root, branch="feature", sha="c" * 40, base="main", facts=facts)
    text = render_pr_markdown(context)

    first = text.splitlines()[0]
    assert first.startswith("⚠️ **mlops/gate: warn** · 1 of 2 rules warns · `feature`")
    assert "| roc_auc | 0.85 | 0.8 | +0.05 |" in text
    assert "| `train.lr` | `0.1` | `0.2` |" in text
    assert "| `data/prepared/train.parquet` | prepare | `aaaaaaaa` | `bbbbbbbb` |" in text
    assert "✅ passed · 650 rows (600 on `main`)" in text
    assert "| `min-auc` | block | ✅ pass | auc 0.85 >= 0.7 |" in text
    assert "| train | ran | 12.3 |" in text


def test_plots_render_locally_to_png_attachments(git_repo: Path, gen: object) -> None:
    root = _project(git_repo, gen)
    context = build_pr_context(root, branch="feature", sha="c" * 40)

    report = build_pr_report(context, root)

    assert sorted(report.attachments) == ["confusion.png", "roc.png"]
    assert all(data.startswith(b"\x89PNG") for data in report.attachments.values())
    assert "![roc](attachment://roc.png)" in report.markdown


def test_report_without_base_or_pipeline_outputs_says_so(git_repo: Path) -> None:
    context = build_pr_context(git_repo, branch="main", sha="d" * 40, base="nowhere")
    text = render_pr_markdown(context)

    assert text.splitlines()[0].startswith("❔ **mlops/gate: not evaluated**")
    assert "No parameter changed against `nowhere`." in text
    assert "No policy results." in text
