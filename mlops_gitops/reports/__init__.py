"""Reports rendered from the repository: the PR report (metrics, params, data, plots, policies).

The PR report is Markdown from a jinja2 template with plots rendered to PNG
locally; a forge publishes it (one comment per pull request, or a note on
the local forge).
"""

from __future__ import annotations

from mlops_gitops.reports.context import (
    MetricRow,
    PolicyRow,
    PrReportContext,
    RunFacts,
    StageTime,
    Verdict,
)
from mlops_gitops.reports.pr import (
    PrReport,
    build_pr_context,
    build_pr_report,
    render_pr_markdown,
    write_pr_report,
)

__all__ = [
    "MetricRow",
    "PolicyRow",
    "PrReport",
    "PrReportContext",
    "RunFacts",
    "StageTime",
    "Verdict",
    "build_pr_context",
    "build_pr_report",
    "render_pr_markdown",
    "write_pr_report",
]
