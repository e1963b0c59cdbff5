"""``mlops ci record-approvals|keep-records|restore-records``: records kept as git notes.

Thin commands over :mod:`mlops_gitops.ci.commands`; registered on the ``ci``
group of :mod:`mlops_gitops.cli.ci`.
"""

from __future__ import annotations

import click

from mlops_gitops.cli.ci import ci
from mlops_gitops.cli.options import FORGE_OPTION, JSON_OPTION, find_project_root
from mlops_gitops.cli.output import echo_json

KIND_ARGUMENT = click.argument("kind", type=click.Choice(["monitoring", "deploy"]))
FOLDER_ARGUMENT = click.argument("folder")


@ci.command("record-approvals")
@FORGE_OPTION
@click.option("--merge", default="HEAD", show_default=True, help="The merge commit.")
@JSON_OPTION
def ci_record_approvals(*, forge_name: str | None, merge: str, as_json: bool) -> None:
    """Note on a merge the pull-request reviews that counted (refs/notes/mlops-approvals)."""
    from mlops_gitops.ci.commands import CiOptions
    from mlops_gitops.ci.commands import ci_record_approvals as record

    update = record(find_project_root(), CiOptions(forge=forge_name), merge=merge)
    if as_json:
        echo_json({"note": dict(update.notes) if update else None})
    elif update is None:
        click.echo(f"{merge}: not the merge of a pull request; nothing recorded")
    else:
        click.echo(f"recorded the approvals of {next(iter(update.notes))[:12]} on {update.ref}")


@ci.command("keep-records")
@FORGE_OPTION
@KIND_ARGUMENT
@FOLDER_ARGUMENT
def ci_keep_records(*, forge_name: str | None, kind: str, folder: str) -> None:
    """Keep FOLDER as a KIND record noted on HEAD, pushed to the forge (no branch moves)."""
    from mlops_gitops.ci.commands import CiOptions
    from mlops_gitops.ci.commands import ci_keep_records as keep

    update = keep(find_project_root(), CiOptions(forge=forge_name), kind=kind, folder=folder)
    click.echo(f"kept {len(update.files)} file(s) of {folder} on {update.ref}")


@ci.command("restore-records")
@KIND_ARGUMENT
@FOLDER_ARGUMENT
def ci_restore_records(*, kind: str, folder: str) -> None:
    """Fetch the forge's notes and write the latest KIND record of FOLDER into the work tree."""
    from mlops_gitops.ci.commands import ci_restore_records as restore

    written = restore(find_project_root(), kind=kind, folder=folder)
    click.echo(f"restored {len(written)} file(s) of {folder}")
