"""``mlops audit``: the audit history, as a table, JSON or a CSV file for auditors."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_gitops.cli.options import find_project_root, json_option
from mlops_gitops.cli.output import echo_json, echo_table

KIND_HELP = "Only events of this kind (repeatable): register, promote, rollback, gate, ..."


@click.command()
@click.option("--model", help="Only events of this model.")
@click.option("--env", help="Only events of this environment.")
@click.option("--kind", "kinds", multiple=True, help=KIND_HELP)
@click.option("--since", help="Only events at or after this date (YYYY-MM-DD).")
@click.option("--until", help="Only events at or before this date (YYYY-MM-DD).")
@click.option("--at", help="Read the history as of a past date or revision.")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the events to this CSV file.",
)
@json_option("Print the events as JSON (the export format).")
def audit(
    *,
    model: str | None,
    env: str | None,
    kinds: tuple[str, ...],
    since: str | None,
    until: str | None,
    at: str | None,
    csv_file: Path | None,
    as_json: bool,
) -> None:
    """Show every registration, promotion, rollback, waiver, approval and gate decision."""
    from mlops_gitops.audit import export_document, list_events, render_csv
    from mlops_gitops.roundtrip import write_atomic

    root = find_project_root()
    events = list_events(root, model=model, env=env, kinds=kinds, since=since, until=until, at=at)
    if csv_file is not None:
        write_atomic(csv_file, render_csv(events))
    if as_json:
        echo_json(export_document(events))
        return
    rows = [
        (e.seq, e.date[:16].replace("T", " "), e.kind, e.summary, e.actor, (e.commit or "")[:8])
        for e in events
    ]
    echo_table(("#", "date", "kind", "event", "by", "commit"), rows)
    if csv_file is not None:
        click.echo(f"wrote {len(events)} events to {csv_file}", err=True)
