"""Render the PR report: Markdown from ``templates/reports/pr.md.j2`` plus plot images.

The first line is the gate verdict; then metrics (candidate, base branch and
the version each environment runs, with deltas), parameter and data
changes, plots, policy results and stage durations.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mlops_gitops.reports.context import (
    MetricRow,
    PrReportContext,
    RunFacts,
    collect_data_changes,
    collect_environments,
    collect_metrics,
    collect_params,
    collect_validation,
)

TEMPLATE = "pr.md.j2"
VERDICT_ICONS = {"pass": "✅", "warn": "⚠️", "block": "❌", "pending": "⏳", "error": "💥"}
OUTCOME_ICONS = {
    "pass": "✅",
    "warn": "⚠️",
    "fail": "❌",
    "block": "❌",
    "waived": "🛡️",
    "skip": "⏭️",
    "error": "💥",
}


@dataclass(frozen=True)
class PrReport:
    """A rendered report: its Markdown, the images it links, and the context it came from."""

    markdown: str
    attachments: dict[str, bytes] = field(default_factory=dict)
    context: PrReportContext | None = None


def build_pr_context(
    root: str | os.PathLike[str],
    *,
    branch: str,
    sha: str,
    base: str = "main",
    base_rev: str | None = None,
    facts: RunFacts | None = None,
) -> PrReportContext:
    """Gather the report's content from the work tree at ``root`` and the base revision.

    Args:
        base: the base branch's name, as the report shows it.
        base_rev: the revision to compare with (default: ``base``); None-able when absent.
    """
    from mlops_gitops import scm

    rev = base_rev or base
    run = facts or RunFacts()
    base_sha = (
        scm.git(
            "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=root, check=False
        ).strip()
        or None
    )
    env_columns, env_metrics = collect_environments(root)
    return PrReportContext(
        branch=branch,
        sha=sha,
        base=base,
        base_sha=base_sha,
        verdict=run.verdict,
        env_columns=env_columns,
        metrics=collect_metrics(root, base_sha, env_metrics),
        params=collect_params(root, base_sha),
        data=collect_data_changes(root, base_sha),
        validation=collect_validation(root, base_sha),
        policies=run.policies,
        stages=run.stages,
        run_url=run.run_url,
    )


def build_pr_report(
    context: PrReportContext, root: str | os.PathLike[str], *, plots: bool = True
) -> PrReport:
    """Render the plots and the Markdown of ``context``."""
    from mlops_gitops.reports.plot_images import render_plots

    files: dict[str, bytes] = {}
    if plots:
        images, files = render_plots(root, context.base_sha)
        context = context.model_copy(update={"plots": images})
    return PrReport(render_pr_markdown(context), files, context)


def render_pr_markdown(context: PrReportContext) -> str:
    """Render the Markdown of the report (images stay ``attachment://`` links)."""
    import jinja2

    source = (
        resources.files("mlops_gitops")
        .joinpath("templates/reports", TEMPLATE)
        .read_text(encoding="utf-8")
    )
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.globals.update(
        num=_num,
        delta=_delta,
        code=_code,
        cell=_cell,
        metric_label=_metric_label(context.metrics),
        verdict_icon=lambda d: VERDICT_ICONS.get(d, "❔"),
        outcome_icon=lambda o: OUTCOME_ICONS.get(o, ""),
    )
    text = env.from_string(source).render(**dict(context)).strip() + "\n"
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _delta(value: float | None) -> str:
    if value is None:
        return "-"
    return "0" if value == 0 else f"{value:+.4g}"


def _code(value: str | None) -> str:
    return "-" if value is None else f"`{_cell(value)}`"


def _cell(value: Any) -> str:
    """Keep a value on one table cell: no pipes, no newlines."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _metric_label(rows: Sequence[MetricRow]) -> Any:
    names = [r.name for r in rows]
    duplicated = {n for n in names if names.count(n) > 1}

    def label(row: MetricRow) -> str:
        return f"{row.file}: {row.name}" if row.name in duplicated else row.name

    return label


def write_pr_report(report: PrReport, folder: str | os.PathLike[str]) -> list[Path]:
    """Write ``report.md`` and the plots it links into ``folder``; return the files written."""
    from mlops_gitops.roundtrip import write_atomic

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "report.md", report.markdown)
    written = [out / "report.md"]
    for name, data in report.attachments.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    return written
