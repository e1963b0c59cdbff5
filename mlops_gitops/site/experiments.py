"""The experiments page: params and metrics of the main line, branches and DVC experiments.

DVC keeps each experiment as a commit under ``refs/exps/<base[:2]>/<base[2:]>/<name>``;
branches not merged into HEAD are candidates too. Their ``params.yaml``
and metrics files are read with one ``for-each-ref`` and one
``cat-file --batch``, whatever their number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from mlops_gitops import scm
from mlops_gitops.documents import parse_json, parse_yaml
from mlops_gitops.errors import ConfigError
from mlops_gitops.reports.context import flatten
from mlops_gitops.site.cards import task_metrics
from mlops_gitops.site.charts import bar_chart
from mlops_gitops.site.markup import number
from mlops_gitops.tasks import DEFAULT_TASK

EXP_PREFIX = "refs/exps/"


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """One column of the comparison: where it comes from, its params and metrics."""

    name: str
    kind: str
    commit: str
    baseline: str | None
    params: dict[str, Any]
    metrics: dict[str, float]


def list_experiments(root: Path) -> list[Experiment]:
    """Return the main line, the unmerged branches and the DVC experiments, with values."""
    refs = _refs(root)
    metric_paths = _metric_paths(root)
    names = [f"{sha}:params.yaml" for _, _, sha, _ in refs]
    names += [f"{sha}:{path}" for _, _, sha, _ in refs for path in metric_paths]
    blobs = {n: data for n, kind, data in scm.cat_file_batch(names, root) if kind == "blob"}
    found: list[Experiment] = []
    for name, kind, sha, baseline in refs:
        params = _params(blobs.get(f"{sha}:params.yaml"))
        metrics: dict[str, float] = {}
        for path in metric_paths:
            metrics.update(_numbers(blobs.get(f"{sha}:{path}")))
        if params or metrics:
            found.append(
                Experiment(
                    name=name,
                    kind=kind,
                    commit=sha,
                    baseline=baseline,
                    params=params,
                    metrics=metrics,
                )
            )
    return found


def _refs(root: Path) -> list[tuple[str, str, str, str | None]]:
    head = scm.rev_parse("HEAD", root)
    refs: list[tuple[str, str, str, str | None]] = [("HEAD", "main line", head, None)]
    branches = scm.git(
        "for-each-ref",
        "--no-merged=HEAD",
        "--format=%(refname:short) %(objectname)",
        "refs/heads/",
        cwd=root,
    )
    for line in branches.splitlines():
        name, sha = line.split()
        refs.append((name, "branch", sha, None))
    exps = scm.git("for-each-ref", "--format=%(refname) %(objectname)", EXP_PREFIX, cwd=root)
    for line in exps.splitlines():
        ref, sha = line.split()
        parts = ref.removeprefix(EXP_PREFIX).split("/")
        if len(parts) == 3 and len(parts[0]) == 2:
            refs.append((parts[2], "experiment", sha, parts[0] + parts[1]))
    return refs


def _metric_paths(root: Path) -> list[str]:
    from mlops_gitops.pipeline import parse_metric_paths

    path = root / "dvc.yaml"
    return parse_metric_paths(path.read_text(encoding="utf-8")) if path.is_file() else []


def _params(content: bytes | None) -> dict[str, Any]:
    if not content:
        return {}
    try:
        data = parse_yaml(content, "params.yaml")
    except ConfigError:  # an experiment whose params do not parse shows its metrics only
        return {}
    return dict(flatten(data)) if isinstance(data, dict) else {}


def _numbers(content: bytes | None) -> dict[str, float]:
    try:
        data = parse_json(content, "metrics") if content else {}
    except ConfigError:  # a metrics file that is not JSON adds no metrics
        return {}
    return {
        k: float(v)
        for k, v in flatten(data if isinstance(data, dict) else {})
        if "." not in k and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def comparison_table(experiments: list[Experiment]) -> str:
    """Return the side-by-side HTML table: one column per experiment, differing params only."""
    keys = sorted({k for e in experiments for k in e.params})
    differing = [k for k in keys if len({json.dumps(e.params.get(k)) for e in experiments}) > 1]
    metrics = sorted({k for e in experiments for k in e.metrics})
    head = "".join(
        f"<th>{escape(e.name)}<br><small>{escape(e.kind)}</small></th>" for e in experiments
    )
    commits = "".join(f"<td><code>{e.commit[:8]}</code></td>" for e in experiments)
    rows = [f"<tr><td>commit</td>{commits}</tr>"]
    rows += [
        f"<tr><td>{escape(k)}</td>"
        + "".join(f"<td>{escape(_show(e.params.get(k)))}</td>" for e in experiments)
        + "</tr>"
        for k in differing
    ]
    rows += [
        f"<tr><td><strong>{escape(k)}</strong></td>"
        + "".join(f"<td>{number(e.metrics.get(k))}</td>" for e in experiments)
        + "</tr>"
        for k in metrics
    ]
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _show(value: Any) -> str:
    return "—" if value is None else str(value)


def comparison_chart(experiments: list[Experiment]) -> str:
    """Return a bar chart of the first headline metric the experiments share, or ``""``.

    The headline metrics are those of the task the experiments' params name
    (``model.task``, the first that names one; binary otherwise).
    """
    names = {k for e in experiments for k in e.metrics}
    named = (str(e.params["model.task"]) for e in experiments if e.params.get("model.task"))
    task = next(named, DEFAULT_TASK)
    metric = next((m for m in task_metrics(task) if m in names), None)
    if metric is None:
        return ""
    bars = [(e.name, e.metrics[metric]) for e in experiments if metric in e.metrics]
    return bar_chart(bars, title=f"{metric} by experiment", value_label=metric)
