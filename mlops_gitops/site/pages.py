"""Render the generated pages: home, catalog, model pages, cards, environments, audit, ...

Pages are Markdown from the jinja2 templates in ``templates/site/``; big
tables are HTML rows built here (Python-Markdown parses raw HTML blocks
much faster than Markdown tables). Every page is written into a staging
folder first; :mod:`mlops_gitops.site.build` swaps it in when all are done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from mlops_gitops.audit import AuditEvent
from mlops_gitops.registry import Deployment, ModelVersion
from mlops_gitops.site.cards import Card, Metric, headline, own_metrics, task_of
from mlops_gitops.site.charts import Series, line_chart
from mlops_gitops.site.data import SiteData
from mlops_gitops.site.markup import (
    Links,
    card_page,
    cell,
    href,
    model_page,
    number,
    relative,
    when,
)

TEMPLATES = "templates/site"
IMAGES = (".png", ".svg", ".jpg", ".jpeg")
# Home is included into docs/index.md, so its links are relative to docs/, one level up.
HOME_PAGE = "../index.md"


@dataclass
class Output:
    """The staging folder and what has been written into it."""

    folder: Path
    pages: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def write(self, rel: str, text: str) -> None:
        """Write a page (Markdown) or a text file under the staging folder."""
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        (self.pages if rel.endswith(".md") else self.files).append(rel)

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write a static file (an image, a report) under the staging folder."""
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files.append(rel)


def template_environment() -> jinja2.Environment:
    """Return the jinja2 environment of the site templates with the page filters."""
    folder = Path(str(resources.files("mlops_gitops").joinpath(TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(cell=cell, number=number, when=when)
    env.globals.update(model_page=model_page, card_page=card_page, rollout=rollout)
    return env


def render(env: jinja2.Environment, template: str, page: str, **context: Any) -> str:
    """Render ``template`` for ``page`` (its links are made relative to the page)."""

    def rel(target: str) -> str:
        return relative(target, page)

    return env.get_template(template).render(rel=rel, **context)


def rollout(deployment: Deployment) -> str:
    """Return the traffic split of a deployment in words."""
    if deployment.strategy == "direct" or len(deployment.routes) <= 1:
        return "all traffic"
    return ", ".join(f"{r.version} {r.weight}%" for r in deployment.routes)


def version_table(data: SiteData, model: str, page: str) -> str:
    """Return the HTML table of the versions of ``model`` (newest first)."""
    rows = []
    for v in data.versions_of(model):
        metrics = ", ".join(f"{m.name} {number(m.value)}" for m in _headline(data, v))
        link = href(card_page(model, v.version), page)
        rows.append(
            f'<tr><td><a href="{escape(link)}">{escape(v.version)}</a></td>'
            f"<td><code>{escape(v.state)}</code></td><td>{escape(', '.join(v.environments))}</td>"
            f"<td>{escape(metrics)}</td><td>{when(v.registered_at)}</td>"
            f"<td>{escape(v.registered_by)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>version</th><th>state</th><th>runs in</th>"
        "<th>headline metrics</th><th>registered</th><th>by</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def event_table(events: list[AuditEvent], links: Links, *, table_id: str) -> str:
    """Return the HTML table of audit events (filterable by the site script)."""
    rows = []
    for e in events:
        commit = _html_link(links.commit_url(e.commit), (e.commit or "")[:8], code=True)
        pr = _html_link(links.pr_url(e.pr), f"#{e.pr}" if e.pr else "")
        rows.append(
            f'<tr data-kind="{e.kind}"><td>{e.seq}</td><td class="mlops-nowrap">{when(e.date)}</td>'
            f'<td class="mlops-nowrap">{e.kind}</td>'
            f'<td class="mlops-event">{escape(e.summary)}</td>'
            f"<td>{escape(e.model or '')}</td>"
            f"<td>{escape(e.version or '')}</td><td>{escape(e.env or '')}</td>"
            f"<td>{escape(e.actor or '')}</td><td>{commit}</td><td>{pr}</td>"
            f"<td>{escape(e.detail or '')}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("#", "date", "kind", "event", "model", "version", "env", "by", "commit", "PR")
    )
    return (
        f'<table id="{table_id}"><thead><tr>{head}<th>detail</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _html_link(url: str | None, text: str, *, code: bool = False) -> str:
    shown = f"<code>{escape(text)}</code>" if code and text else escape(text)
    return f'<a href="{escape(url)}">{shown}</a>' if url and text else shown


def write_cards(out: Output, env: jinja2.Environment, cards: list[Card], links: Links) -> None:
    """Write one model card per version (and the files of its explanation report)."""
    for card in cards:
        v = card.version
        page = card_page(v.model, v.version)
        folder = page.rsplit("/", 1)[0]
        for rel, content in card.explain_files.items():
            if not rel.endswith(".md"):  # Markdown reports are not pages of this site
                out.write_bytes(f"{folder}/explain/{rel}", content)
        report = next((r for r in ("report.html",) if r in card.explain_files), None)
        test_rows = _test_rows(v)
        out.write(
            page,
            render(
                env,
                "card.md.j2",
                page,
                card=card,
                links=links,
                test_rows=test_rows,
                explain_link=f"explain/{report}" if report else None,
                figures=sorted(f"explain/{r}" for r in card.explain_files if r.endswith(IMAGES)),
                html_commit=lambda sha: _html_link(
                    links.commit_url(sha), (sha or "")[:8], code=True
                ),
                html_pr=lambda n: _html_link(links.pr_url(n), f"#{n}" if n else ""),
                missing_doc=_missing_doc(v.model),
            ),
        )


def _test_rows(version: ModelVersion) -> int | None:
    for content in (version.metrics or {}).values():
        rows = content.get("rows") if isinstance(content, dict) else None
        if isinstance(rows, int):
            return rows
    return None


def _missing_doc(model: str) -> str:
    return f"*Not documented: write this section in `docs/models/{model}.md`.*"


def _headline(data: SiteData, version: ModelVersion) -> list[Metric]:
    task = task_of(version.params or {})
    return headline(own_metrics(version, data.files.get(version.commit)), task)


def trend_chart(data: SiteData, versions: list[ModelVersion]) -> str:
    """Return a chart of the headline metrics over the versions of one model (oldest first)."""
    ordered = list(reversed(versions))
    heads = {v.version: _headline(data, v) for v in ordered}
    names = dict.fromkeys(m.name for v in ordered for m in heads[v.version])
    series = []
    for name in names:
        points = [
            (float(i), m.value)
            for i, v in enumerate(ordered)
            for m in heads[v.version]
            if m.name == name
        ]
        series.append(Series(name, tuple(p[0] for p in points), tuple(p[1] for p in points)))
    ticks = [(float(i), v.version) for i, v in enumerate(ordered)]
    step = max(1, len(ticks) // 6)
    return line_chart(
        series,
        title="headline metrics by version",
        x_label="version",
        y_label="value",
        x_ticks=ticks[::step],
    )


def health_chart(
    title: str, lines: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]
) -> str:
    """Return the health trend of monitoring history lines (score over run time)."""
    from mlops_gitops.registry.graph import parse_time

    points = []
    for line in lines:
        value = key(line)
        stamp = line.get("timestamp")
        if isinstance(value, (int, float)) and isinstance(stamp, str):
            points.append((parse_time(stamp).timestamp(), float(value), stamp[:10]))
    if not points:
        return ""
    series = Series("health score", tuple(p[0] for p in points), tuple(p[1] for p in points))
    step = max(1, len(points) // 5)
    ticks = [(p[0], p[2]) for p in points[::step]]
    return line_chart([series], title=title, x_label="run", y_label="score", x_ticks=ticks)
