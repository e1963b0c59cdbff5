"""``mlops ci report`` (also ``mlops report``): the PR report, over
:func:`mlops_gitops.ci.commands.report_change`.
"""

from __future__ import annotations

from pathlib import Path

import click

from mlops_gitops.cli.options import BASE_OPTION, FORGE_OPTION, JSON_OPTION, find_project_root
from mlops_gitops.cli.output import echo_json


@click.command()
@FORGE_OPTION
@BASE_OPTION
@click.option("--publish", is_flag=True, help="Publish to the forge (a PR comment or a note).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.md and the plots here.",
)
@JSON_OPTION
def report(
    *, forge_name: str | None, base: str | None, publish: bool, out: Path | None, as_json: bool
) -> None:
    """Render the PR report of the checked-out change (metrics, params, data, plots, policies)."""
    from mlops_gitops.ci.commands import CiOptions, report_change
    from mlops_gitops.reports import write_pr_report

    rendered, publication = report_change(
        find_project_root(), CiOptions(forge=forge_name, base=base), publish=publish
    )
    if out is not None:
        write_pr_report(rendered, out)
    if as_json:
        echo_json(
            {
                "context": rendered.context,
                "published": publication,
                "plots": sorted(rendered.attachments),
            }
        )
    elif out is None:
        click.echo(rendered.markdown, nl=False)
    if publication is not None and not as_json:
        click.echo(f"published: {publication.url or publication.location}", err=True)
