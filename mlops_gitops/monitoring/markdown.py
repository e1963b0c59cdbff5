"""The Markdown report of a monitoring run and its one-line history summary."""

# ruff: noqa: E501 (the Markdown template keeps one table row per line)

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_gitops.monitoring.history import RunPaths
    from mlops_gitops.monitoring.run import MonitoringRun

TEMPLATE = """\
# Monitoring: {{ run.env }}, {{ run.timestamp.strftime('%Y-%m-%d %H:%M:%S UTC') }}

Window: last {{ run.window }} · status: **{{ run.status }}** · health: {{ fmt(run.score, 1) }}

{% for m in run.models %}{% set r = m.result %}
## {{ m.key }} ({{ r.model }} {{ r.version }})

- rows in the window: {{ r.rows }}{% if r.status == 'no traffic' %} (no traffic){% endif %}
- health score: {{ fmt(m.health.score, 1) }} ({{ m.health.band }}){% if m.health.trend and m.health.trend.slope is not none %}, trend {{ m.health.trend.direction }} ({{ fmt(m.health.trend.slope, 2) }} points per run){% endif %}
{% if r.reference_source %}- reference: {{ r.reference_source }}
{% endif %}
{% if m.health.parts %}
| health indicator | value | weight | score |
|---|---|---|---|
{% for p in m.health.parts %}| {{ p.name }} | {{ fmt(p.value) }} | {{ p.weight }} | {{ fmt(p.score, 1) }} |
{% endfor %}{% endif %}
{% if r.drift %}
### Data drift: {{ r.drift.drifted_count }} of {{ r.drift.features | length }} features drifted (share {{ fmt(r.drift.share, 2) }}{% if r.drift.dataset_drift %}, dataset drift{% endif %})

| feature | kind | PSI | test | statistic | p-value | drifted |
|---|---|---|---|---|---|---|
{% for f in r.drift.features %}| {{ f.feature }} | {{ f.kind }} | {{ fmt(f.psi) }} | {{ f.test }} | {{ fmt(f.statistic) }} | {{ fmt(f.pvalue) }} | {{ 'yes' if f.drifted else 'no' }} |
{% endfor %}{% endif %}
{% if r.prediction %}
### Predictions

{% if r.prediction.positive_rate is not none %}Positive rate {{ fmt(r.prediction.positive_rate) }} (reference {{ fmt(r.prediction.reference_positive_rate) }}); {% endif %}PSI {{ fmt(r.prediction.psi) }} against the reference {{ r.prediction.compared_with }}{% if r.prediction.ks is not none %}; KS {{ fmt(r.prediction.ks) }}{% endif %}{% if r.prediction.chi2 is not none %}; chi-square {{ fmt(r.prediction.chi2) }} (p {{ fmt(r.prediction.pvalue) }}){% endif %}.
{% endif %}
{% if r.performance %}
### Performance ({{ r.performance.labelled_rows }} labelled rows)
{% if r.performance.note %}
{{ r.performance.note }}.
{% else %}
| metric | live | test | drop |
|---|---|---|---|
{% for k, v in r.performance.metrics.items() %}| {{ k }} | {{ fmt(v) }} | {{ fmt(r.performance.test_metrics.get(k)) }} | {{ fmt(r.performance.drops.get(k)) }} |
{% endfor %}{% endif %}{% endif %}
{% if r.quality %}
### Data quality

Missing values {{ fmt(r.quality.missing_rate) }} · out of range {{ fmt(r.quality.out_of_range_rate) }} · rows with a violation {{ fmt(r.quality.violation_rate) }}
{% for k, v in r.quality.violations.items() %}
- {{ k }}: {{ v }}{% endfor %}
{% endif %}
{% endfor %}
## Operations

Source: {{ run.operational.source }}{% if run.operational.note %} ({{ run.operational.note }}){% endif %}{% if run.operational.requests is not none %} · requests {{ run.operational.requests }} · error rate {{ fmt(run.operational.error_rate) }} · latency p50/p95/p99 {{ fmt(run.operational.latency_p50_ms, 2) }}/{{ fmt(run.operational.latency_p95_ms, 2) }}/{{ fmt(run.operational.latency_p99_ms, 2) }} ms{% endif %}

## Alerts
{% if not run.alerts %}
None fired.
{% else %}
| priority | rule | model | value | deliveries |
|---|---|---|---|---|
{% for o in run.alerts %}| {{ o.alert.priority }} | {{ o.alert.rule }} | {{ o.alert.model }} | {{ o.alert.indicator }} = {{ fmt(o.alert.value) }} {{ o.alert.op }} {{ o.alert.threshold }} | {% for d in o.deliveries %}{{ d.channel }}: {{ d.status }}{% if d.error %} ({{ d.error }}){% endif %}{% if not loop.last %}; {% endif %}{% endfor %} |
{% endfor %}{% endif %}
"""


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}g}" if digits > 3 else f"{value:.{digits}f}"


def render_markdown(run: MonitoringRun) -> str:
    """Return the run as a Markdown report."""
    import re

    from jinja2 import Environment, StrictUndefined

    environment = Environment(undefined=StrictUndefined, trim_blocks=False, autoescape=False)
    text = environment.from_string(TEMPLATE).render(run=run, fmt=_fmt)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def summarise(run: MonitoringRun, paths: RunPaths) -> dict[str, Any]:
    """Return the ``history.jsonl`` line of a run."""
    return {
        "timestamp": run.timestamp.isoformat(),
        "run": paths.json.relative_to(paths.folder).as_posix(),
        "status": run.status,
        "score": run.score,
        "health": {m.key: m.health.score for m in run.models},
        "rows": {m.key: m.result.rows for m in run.models},
        "alerts": [f"{o.alert.rule}/{o.alert.model}" for o in run.alerts],
        "failed": [
            f"{o.alert.rule}/{o.alert.model}:{d.channel}"
            for o in run.alerts
            for d in o.deliveries
            if d.status == "failed"
        ],
    }
