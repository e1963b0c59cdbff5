"""``mlops forge ...``: the local forge, thin commands over :mod:`mlops_gitops.forge`.

``mlops forge train`` (:mod:`mlops_gitops.cli.runner`) and ``mlops forge
protection`` (:mod:`mlops_gitops.cli.protection`) are registered here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mlops_gitops.cli.options import (
    FORGE_PATH_OPTION,
    JSON_OPTION,
    find_forge_dir,
    find_project_root,
)
from mlops_gitops.cli.output import echo_json, echo_table
from mlops_gitops.cli.protection import protection
from mlops_gitops.cli.runner import runner


@click.group()
def forge() -> None:
    """The local forge: a bare repository with hooks, notes and signed approvals."""


forge.add_command(protection)
forge.add_command(runner, "train")


@forge.command("init")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--python", "python", help="The interpreter the hooks run (default: this one).")
@JSON_OPTION
def forge_init(*, path: Path, python: str | None, as_json: bool) -> None:
    """Create the bare repository PATH (or adopt one) and install its hooks."""
    from mlops_gitops.forge.local import init_forge

    result = init_forge(path, python=python)
    if as_json:
        echo_json(result)
        return
    verb = "created" if result.created else "updated"
    click.echo(f"{verb} the local forge {result.path} (hooks: {', '.join(result.hooks)})")
    click.echo("in each clone run 'mlops forge track' to fetch reports and gate decisions")
    click.echo(f"train pushes with: mlops forge train --forge-path {result.path}")


@forge.command("hook", hidden=True)
@click.argument("name", type=click.Choice(["pre-receive", "post-receive"]))
def forge_hook(*, name: str) -> None:
    """Run a server-side hook (installed by 'mlops forge init'; reads git's standard input)."""
    from mlops_gitops.ci.hooks import run_hook

    outcome = run_hook(name, sys.stdin.read())
    for line in outcome.lines:
        click.echo(line, err=outcome.refused)
    outcome.raise_if_refused()


@forge.command("track")
@click.option("--remote", default="origin", show_default=True, help="The remote that is the forge.")
def forge_track(*, remote: str) -> None:
    """Make this clone fetch the forge's reports and gate decisions (git notes)."""
    from mlops_gitops.forge.local import track_notes

    added = track_notes(find_project_root(), remote)
    click.echo(
        f"{'now fetching' if added else 'already fetching'} refs/notes/mlops-* from {remote}"
    )


@forge.command("approve")
@click.argument("env")
@click.argument("rev", default="HEAD")
@click.option(
    "--key", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Your SSH key."
)
@click.option("--user", envvar="USER", default="me", help="Your name in the tag name.")
@click.option(
    "--remote", default="origin", show_default=True, help="Push the tag here ('' to keep it local)."
)
def forge_approve(*, env: str, rev: str, key: Path, user: str, remote: str) -> None:
    """Approve REV for ENV with an SSH-signed tag approve/ENV/SHA/USER and push it."""
    from mlops_gitops.forge.signed_approvals import approve

    name = approve(find_project_root(), env, rev, key=key, user=user, remote=remote or None)
    click.echo(f"signed {name}" + (f" and pushed it to {remote}" if remote else ""))


@forge.command("show")
@click.argument("rev", default="HEAD")
@click.option(
    "--gate", "show_gate", is_flag=True, help="Show the gate decision instead of the report."
)
@FORGE_PATH_OPTION
def forge_show(*, rev: str, show_gate: bool, forge_path: Path | None) -> None:
    """Show the report (or the gate decision) the runner noted on REV."""
    from mlops_gitops.forge.local import show_gate as read_gate
    from mlops_gitops.forge.local import show_report

    path = forge_path.resolve() if forge_path else find_project_root()
    if show_gate:
        status = read_gate(path, rev)
        click.echo(f"{status.decision}: {status.summary}")
    else:
        click.echo(show_report(path, rev), nl=False)


@forge.command("queue")
@FORGE_PATH_OPTION
@JSON_OPTION
def forge_queue(*, forge_path: Path | None, as_json: bool) -> None:
    """List the runner's jobs: pending, running, done, failed."""
    from mlops_gitops.forge.queue import JobQueue

    jobs = JobQueue(find_forge_dir(forge_path)).list_jobs()
    if as_json:
        echo_json(jobs)
        return
    rows = [
        (
            j.id,
            j.state,
            j.branch,
            j.sha[:12],
            j.attempts,
            j.result.get("decision") or j.result.get("error", ""),
        )
        for j in jobs
    ]
    echo_table(["job", "state", "branch", "sha", "attempts", "result"], rows)


@forge.command("issues")
@FORGE_PATH_OPTION
@JSON_OPTION
def forge_issues(*, forge_path: Path | None, as_json: bool) -> None:
    """List the forge's issues (monitoring alerts); without --forge-path, this clone's copy."""
    from mlops_gitops.forge.issues import list_issues

    found = list_issues(forge_path.resolve() if forge_path else find_project_root())
    if as_json:
        echo_json(found)
        return
    if not found:
        click.echo("no issues; in a clone run 'mlops forge track' and 'git fetch' first")
        return
    rows = [(i.number, i.state, i.created_at, ",".join(i.labels), i.title) for i in found]
    echo_table(["#", "state", "opened", "labels", "title"], rows)
