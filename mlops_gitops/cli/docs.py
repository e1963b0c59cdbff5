"""``mlops docs build [--serve]``: generate the site's pages and build it with mkdocs."""

from __future__ import annotations

import click

from mlops_gitops.cli.options import find_project_root, json_option
from mlops_gitops.cli.output import echo_json


@click.group()
def docs() -> None:
    """The documentation site: model catalog, model cards, environments, audit history."""


@docs.command("build")
@click.option("--serve", is_flag=True, help="Serve the site after building it (mkdocs serve).")
@click.option(
    "--address", default="127.0.0.1:8000", show_default=True, help="Where --serve listens."
)
@click.option("--site-dir", help="Where the built site goes (default: site_dir of mkdocs.yml).")
@json_option("Print what was built as JSON.")
def build(*, serve: bool, address: str, site_dir: str | None, as_json: bool) -> None:
    """Generate docs/generated/ from the repository, then run 'mkdocs build --strict'."""
    from mlops_gitops.cli import cli
    from mlops_gitops.site import build_site, serve_site

    root = find_project_root()
    if serve:
        _show_mkdocs_log()
        click.echo(f"serving on http://{address}/ (Ctrl-C stops)", err=True)
        serve_site(root, address=address, commands=cli)
        return
    result = build_site(root, site_dir=site_dir, commands=cli)
    if as_json:
        echo_json(result)
        return
    g = result.generated
    click.echo(
        f"built {result.site_dir}: {g.pages} generated pages, {g.models} models, "
        f"{g.versions} versions, {g.events} audit events "
        f"(generate {result.seconds['generate']:.1f}s, mkdocs {result.seconds['mkdocs']:.1f}s)"
    )
    for problem in g.problems:
        click.echo(f"warning: {problem}", err=True)
    for model in g.undocumented:
        click.echo(f"warning: docs/models/{model}.md is missing; its model cards say so", err=True)


def _show_mkdocs_log() -> None:
    """Print mkdocs' progress (rebuilds, 'Serving on ...') while it serves."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
