"""``mlops compliance``: render and check the compliance matrix."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_gitops.cli.output import echo_json


@click.group()
def compliance() -> None:
    """Render and check the compliance matrix (docs/compliance.yaml)."""


@compliance.command("render")
@click.option("--check", is_flag=True, help="Fail when docs/compliance.md is out of date.")
def render(check: bool) -> None:
    """Write docs/compliance.md from docs/compliance.yaml."""
    from mlops_gitops.compliance import MARKDOWN_FILE, load_matrix, render_markdown
    from mlops_gitops.errors import MlopsError
    from mlops_gitops.roundtrip import write_atomic

    text = render_markdown(load_matrix())
    if check:
        current = MARKDOWN_FILE.read_text(encoding="utf-8") if MARKDOWN_FILE.exists() else ""
        if current != text:
            raise MlopsError(f"{MARKDOWN_FILE} is out of date; run 'mlops compliance render'")
        click.echo(f"{MARKDOWN_FILE} is up to date")
        return
    write_atomic(MARKDOWN_FILE, text)
    click.echo(f"wrote {MARKDOWN_FILE}")


@compliance.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def check_cmd(as_json: bool) -> None:
    """Check that every row's cited tests exist and test the modules its 'how' names."""
    from mlops_gitops.compliance import MATRIX_FILE, check_matrix, load_matrix
    from mlops_gitops.errors import MlopsError

    problems = check_matrix(load_matrix(), Path("."))
    if as_json:
        echo_json({"problems": problems})
    else:
        for line in problems:
            click.echo(line)
    if problems:
        raise MlopsError(f"{len(problems)} unproven claim(s) in {MATRIX_FILE}")
