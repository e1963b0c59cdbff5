"""``mlops forge protection``: render (and apply) what GitHub enforces for the project."""

from __future__ import annotations

import click

from mlops_gitops.cli.options import find_project_root, json_option
from mlops_gitops.cli.output import echo_json, echo_table


@click.command("protection")
@click.option(
    "--org",
    envvar=["MLOPS_GITHUB_ORG", "GITHUB_REPOSITORY_OWNER"],
    required=True,
    help="The GitHub organisation of the teams (default: $GITHUB_REPOSITORY_OWNER).",
)
@click.option("--branch", default="main", show_default=True, help="The gated branch.")
@click.option(
    "--app-id",
    type=int,
    envvar="MLOPS_GITHUB_APP_ID",
    help="The GitHub App that alone may create registry and approval tags.",
)
@click.option("--write", is_flag=True, help="Write .github/CODEOWNERS (only when it differs).")
@click.option(
    "--check", is_flag=True, help="Fail unless .github/CODEOWNERS is what the project renders."
)
@click.option(
    "--apply",
    is_flag=True,
    help="Put the branch protection and rulesets on $GITHUB_REPOSITORY (administration: write).",
)
@json_option("Print CODEOWNERS and the API payloads.")
def protection(
    *,
    org: str,
    branch: str,
    app_id: int | None,
    write: bool,
    check: bool,
    apply: bool,
    as_json: bool,
) -> None:
    """Render CODEOWNERS, main's branch protection and the tag rulesets from the project."""
    from mlops_gitops.access import check_codeowners, render_protection, write_codeowners
    from mlops_gitops.forge.github import GitHubForge
    from mlops_gitops.forge.protection import CODEOWNERS_PATH, apply_protection

    root = find_project_root()
    rendered = render_protection(root, org=org, branch=branch, app_id=app_id)
    written = write_codeowners(root, rendered) if write else None
    if check:
        check_codeowners(root, rendered)
    applied = apply_protection(GitHubForge.from_env(), rendered) if apply else []
    if as_json:
        echo_json(
            {
                "codeowners": rendered.codeowners,
                "branch_protection": rendered.branch_protection,
                "rulesets": rendered.rulesets,
                "written": written,
                "applied": applied,
            }
        )
        return
    echo_table(["path", "owners"], [(o.pattern, " ".join(o.teams)) for o in rendered.owners])
    if written is not None:
        click.echo(f"{CODEOWNERS_PATH}: {'written' if written else 'unchanged'}")
    for call in applied:
        click.echo(f"{call.what}: {call.method} {call.url} -> {call.status}")
