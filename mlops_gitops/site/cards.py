"""Model cards: one per registered version, in the sections of Mitchell et al.'s Model Cards.

Details (owner, version, type, framework, artifact hash), intended and
out-of-scope uses (from the hand-written ``docs/models/<model>.md``),
training and test data (dataset hashes, rows, schema, validation result),
evaluation (metrics, plots, per-slice metrics), fairness and explanations
when the version has them, limitations and ethical considerations,
approvals and promotion history, and the lineage chain: data hashes, code
commit, CI gate, approvers, environments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mlops_gitops.audit import AuditEvent
from mlops_gitops.errors import ConfigError
from mlops_gitops.registry import Event, ModelVersion, serving_intervals
from mlops_gitops.reports.context import flatten
from mlops_gitops.site.charts import bar_chart, plot_chart
from mlops_gitops.site.data import DOC_SECTIONS, SiteData, VersionFiles, own_paths
from mlops_gitops.tasks import DEFAULT_TASK, load_task, metric_order

if TYPE_CHECKING:
    from mlops_gitops.supply.sbom import SbomSummary

CARD_EVENT_KINDS = (
    "promote",
    "canary",
    "canary-complete",
    "canary-abort",
    "rollback",
    "edit",
    "remove",
)


@dataclass(frozen=True)
class Metric:
    """One numeric metric of a metrics file."""

    file: str
    name: str
    value: float


@dataclass(frozen=True)
class SliceRow:
    """The metrics of one slice (a value of a slice column)."""

    column: str
    value: str
    metrics: dict[str, float]


@dataclass(frozen=True)
class Interval:
    """A span in which the version served its model in an environment."""

    env: str
    start: str
    end: str | None


@dataclass(frozen=True, kw_only=True)
class Card:
    """Everything a model card page renders."""

    version: ModelVersion
    owner: str
    kind: str
    task: str
    framework: str
    description: str
    docs: dict[str, str]
    datasets: list[tuple[str, str]]
    code: list[tuple[str, str]]
    validation: dict[str, Any] | None
    schema: list[tuple[str, str]]
    metrics: list[Metric]
    slices: list[SliceRow]
    slice_metrics: list[str]
    plots: list[tuple[str, str]]
    fairness: list[Metric]
    importance: str
    explain_files: dict[str, bytes]
    history: list[AuditEvent]
    gates: list[AuditEvent]
    approvers: dict[str, list[str]]
    intervals: list[Interval]
    stage: str = ""
    sbom: SbomSummary | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventIndex:
    """The events grouped for cheap look-ups while building many cards."""

    audit: dict[tuple[str | None, str | None], list[AuditEvent]]
    registry: dict[str, list[Event]]
    gates: dict[str, list[AuditEvent]]
    approvals: dict[tuple[str, str], list[str]]


def index_events(data: SiteData) -> EventIndex:
    """Group the site's events by version, model, gated commit and approved commit."""
    audit: dict[tuple[str | None, str | None], list[AuditEvent]] = {}
    gates: dict[str, list[AuditEvent]] = {}
    for event in data.events:
        audit.setdefault((event.model, event.version), []).append(event)
        if event.kind == "gate" and event.commit:
            gates.setdefault(event.commit, []).append(event)
    registry: dict[str, list[Event]] = {}
    for raw in data.state.events:
        registry.setdefault(raw.model, []).append(raw)
    approvals: dict[tuple[str, str], list[str]] = {}
    for approval in data.approvals:
        users = approvals.setdefault((approval.commit, approval.env), [])
        if approval.user not in users:
            users.append(approval.user)
    return EventIndex(audit, registry, gates, approvals)


def build_cards(data: SiteData) -> list[Card]:
    """Return the card of every registered version."""
    from mlops_gitops.supply.sbom import read_sbom_notes

    index = index_events(data)
    sboms = read_sbom_notes(data.root)
    return [
        replace(build_card(data, version, index), sbom=sboms.get(version.tag_object))
        for version in data.versions
    ]


def build_card(data: SiteData, version: ModelVersion, index: EventIndex) -> Card:
    """Return the card of one registered version."""
    tag = data.tags.get(version.tag)
    meta = (tag.metadata if tag else None) or {}
    files = data.files.get(version.commit, VersionFiles())
    artifact = files.artifacts.get(version.model, {})
    metrics = own_metrics(version, files)
    numbers = numeric_metrics(metrics)
    history = index.audit.get((version.model, version.version), [])
    promotions = [e for e in history if e.kind in CARD_EVENT_KINDS]
    task = task_of(version.params or {})
    return Card(
        version=version,
        owner=str((artifact.get("meta") or {}).get("owner") or version.registered_by or "—"),
        kind=_kind(artifact),
        task=task,
        framework=framework_of(version.params or {}),
        description=str(artifact.get("desc") or ""),
        docs=_doc_sections(data.model_docs.get(version.model, {})),
        datasets=sorted((version.data or {}).items()),
        code=sorted(dict(meta.get("code") or {}).items()),
        validation=files.validation,
        schema=_schema(files.validation),
        metrics=[m for m in numbers if _is_evaluation(m)],
        slices=slice_rows(metrics),
        slice_metrics=_slice_metric_names(slice_rows(metrics), task),
        plots=_plots(files, version.model),
        fairness=[m for m in numbers if _is_fairness(m)],
        importance=_importance(numbers),
        explain_files=files.explain,
        history=history,
        gates=index.gates.get(version.commit, []),
        approvers=_approvers(index, promotions),
        intervals=_intervals(data, index.registry.get(version.model, []), version),
        stage=str((meta.get("artifact") or {}).get("stage") or ""),
    )


def numeric_metrics(metrics: Mapping[str, Any]) -> list[Metric]:
    """Return every numeric leaf of the registered metrics files."""
    found: list[Metric] = []
    for file, content in sorted(metrics.items()):
        for name, value in flatten(content or {}):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                found.append(Metric(file, name, float(value)))
    return found


def own_metrics(version: ModelVersion, files: VersionFiles | None) -> dict[str, Any]:
    """Return the registered metrics files that belong to the version's model."""
    shared = files is not None and len(files.artifacts) > 1
    registered = version.metrics or {}
    keep = own_paths(registered, version.model, shared=shared)
    return {path: registered[path] for path in keep}


def headline(metrics: Mapping[str, Any], task: str = DEFAULT_TASK, limit: int = 3) -> list[Metric]:
    """Return the headline metrics of metrics files, at most ``limit``.

    The task's metrics come first, its headline metric leading (see
    :func:`mlops_gitops.tasks.metric_order`), then the other numbers.
    """
    numbers = [m for m in numeric_metrics(metrics) if "." not in m.name]
    by_name = {m.name: m for m in numbers}
    order = task_metrics(task)
    picked = [by_name[n] for n in order if n in by_name]
    rest = [m for m in numbers if m.name not in order and m.name not in ("rows", "threshold")]
    return (picked + rest)[:limit]


def task_metrics(task: str) -> tuple[str, ...]:
    """Return the metric names of ``task``, headline first (none for a task not installed)."""
    try:
        return metric_order(load_task(task))
    except ConfigError:  # a plug-in task this site build does not have: file order
        return ()


def task_of(params: Mapping[str, Any]) -> str:
    """Return the task recorded in the registration's params (``model.task``, else binary)."""
    flat = {name: value for file in params.values() for name, value in flatten(file or {})}
    return next((str(v) for k, v in flat.items() if k.endswith("model.task") and v), DEFAULT_TASK)


def framework_of(params: Mapping[str, Any]) -> str:
    """Return the model family (and estimator) recorded in the registration's params."""
    flat = {name: value for file in params.values() for name, value in flatten(file or {})}
    family = next((str(v) for k, v in flat.items() if k.endswith("model.family")), "")
    estimator = flat.get(f"model.{family}.estimator") if family else None
    if family and estimator:
        return f"{family} ({estimator})"
    return family or "—"


def _kind(artifact: Mapping[str, Any]) -> str:
    labels = ", ".join(str(label) for label in artifact.get("labels") or [])
    kind = str(artifact.get("type") or "model")
    return f"{kind} ({labels})" if labels else kind


def _doc_sections(sections: Mapping[str, str]) -> dict[str, str]:
    found = {
        key: next((sections[t] for t in titles if t in sections), "")
        for key, titles in DOC_SECTIONS.items()
    }
    found["overview"] = sections.get("", "")
    known = {t for titles in DOC_SECTIONS.values() for t in titles} | {""}
    found.update({f"other:{k}": v for k, v in sections.items() if k not in known})
    return found


def _is_fairness(metric: Metric) -> bool:
    return "fairness" in metric.file


def _is_evaluation(metric: Metric) -> bool:
    sliced = ".slices." in f".{metric.name}."
    return not (sliced or _is_fairness(metric) or "explain" in metric.file)


def _importance(numbers: list[Metric]) -> str:
    """Return the chart of the feature importances of the explanations (top 15), or ``""``."""
    bars = [
        (m.name.removeprefix("importance."), m.value)
        for m in numbers
        if "explain" in m.file and m.name.startswith("importance.") and m.name.count(".") == 1
    ]
    top = sorted(bars, key=lambda bar: -abs(bar[1]))[:15]
    return bar_chart(top, title="feature importance", value_label="importance") if top else ""


def _schema(validation: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    columns: dict[str, list[str]] = {}
    for check in (validation or {}).get("checks") or []:
        if isinstance(check, dict):
            text = f"{check.get('check')} {check.get('expected')}".strip()
            columns.setdefault(str(check.get("column")), []).append(text)
    return [(column, "; ".join(checks)) for column, checks in columns.items()]


def slice_rows(metrics: Mapping[str, Any]) -> list[SliceRow]:
    """Return the per-slice metrics (``slices: {column: {value: metrics}}``) of metrics files."""
    rows: list[SliceRow] = []
    for content in metrics.values():
        slices = content.get("slices") if isinstance(content, dict) else None
        for column, groups in (slices or {}).items():
            for value, values in (groups or {}).items():
                numbers = {
                    k: float(v)
                    for k, v in (values or {}).items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool)
                }
                rows.append(SliceRow(str(column), str(value), numbers))
    return rows


def _slice_metric_names(rows: list[SliceRow], task: str) -> list[str]:
    names = dict.fromkeys(n for row in rows for n in row.metrics)
    first = [n for n in ("rows", *task_metrics(task)) if n in names]
    return first + [n for n in names if n not in first]


def _plots(files: VersionFiles, model: str) -> list[tuple[str, str]]:
    charts: list[tuple[str, str]] = []
    keep = set(own_paths([p.path for p in files.plots], model, shared=len(files.artifacts) > 1))
    for plot in (p for p in files.plots if p.path in keep):
        title = plot.path.rsplit("/", 1)[-1].removesuffix(".json").replace("_", " ")
        svg = plot_chart(plot.records, plot.options, title=title)
        if svg:
            charts.append((plot.path, svg))
    return charts


def _approvers(index: EventIndex, promotions: list[AuditEvent]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for event in promotions:
        users = index.approvals.get((event.commit or "", event.env or ""), [])
        for user in users:
            names = found.setdefault(event.env or "", [])
            if user not in names:
                names.append(user)
    return found


def _intervals(data: SiteData, events: list[Event], version: ModelVersion) -> list[Interval]:
    spans: list[Interval] = []
    for env in data.state.environments.order:
        for start, end in serving_intervals(events, env, version.model, version.version):
            spans.append(
                Interval(
                    env,
                    start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    end.strftime("%Y-%m-%dT%H:%M:%SZ") if end else None,
                )
            )
    return sorted(spans, key=lambda s: s.start)
