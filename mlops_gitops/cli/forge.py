"""``mlops forge ...``, ``mlops runner``, ``mlops report`` and ``mlops ci ...``: thin commands
over :mod:`mlops_gitops.forge`, :mod:`mlops_gitops.ci` and :mod:`mlops_gitops.reports`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from mlops_gitops.cli.output import echo_json, echo_table
from mlops_gitops.cli.protection import protection

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
FORGE_OPTION = click.option(
    "--forge",
    "forge_name",
    envvar="MLOPS_FORGE",
    help="The forge: github or local (default: github in GitHub Actions, else local).",
)
BASE_OPTION = click.option(
    "--base", help="The base branch (default: the pull request's, else main)."
)
PATH_OPTION = click.option(
    "--forge-path",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="MLOPS_FORGE_PATH",
    help="The local forge (bare repository); default: the path of 'origin'.",
)


def _root() -> Path:
    from mlops_gitops.scm import find_root

    return find_root(".")


def _forge_dir(path: Path | None) -> Path:
    from mlops_gitops.forge import find_local_remote

    return path.resolve() if path is not None else find_local_remote(_root())


@click.group()
def forge() -> None:
    """The local forge: a bare repository with hooks, notes and signed approvals."""


forge.add_command(protection)


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
    click.echo(f"train pushes with: mlops runner --forge-path {result.path}")


@forge.command("hook", hidden=True)
@click.argument("name", type=click.Choice(["pre-receive", "post-receive"]))
def forge_hook(*, name: str) -> None:
    """Run a server-side hook (installed by 'mlops forge init'; reads git's standard input)."""
    from mlops_gitops.ci.hooks import run_hook
    from mlops_gitops.errors import GateBlocked

    outcome = run_hook(name, sys.stdin.read(), dict(os.environ))
    for line in outcome.lines:
        click.echo(line, err=outcome.refused)
    if outcome.refused:
        raise GateBlocked(f"push refused by the mlops gate ({len(outcome.lines)} problem(s) above)")


@forge.command("track")
@click.option("--remote", default="origin", show_default=True, help="The remote that is the forge.")
def forge_track(*, remote: str) -> None:
    """Make this clone fetch the forge's reports and gate decisions (git notes)."""
    from mlops_gitops.forge.local import track_notes

    added = track_notes(_root(), remote)
    click.echo(
        f"{'now fetching' if added else 'already fetching'} refs/notes/mlops-* from {remote}"
    )


@forge.command("approve")
@click.argument("env")
@click.argument("rev", default="HEAD")
@click.option(
    "--key", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Your SSH key."
)
@click.option(
    "--user", default=lambda: os.environ.get("USER", "me"), help="Your name in the tag name."
)
@click.option(
    "--remote", default="origin", show_default=True, help="Push the tag here ('' to keep it local)."
)
def forge_approve(*, env: str, rev: str, key: Path, user: str, remote: str) -> None:
    """Approve REV for ENV with an SSH-signed tag approve/ENV/SHA/USER and push it."""
    from mlops_gitops.forge.approvals import approve

    name = approve(_root(), env, rev, key=key, user=user, remote=remote or None)
    click.echo(f"signed {name}" + (f" and pushed it to {remote}" if remote else ""))


@forge.command("show")
@click.argument("rev", default="HEAD")
@click.option(
    "--gate", "show_gate", is_flag=True, help="Show the gate decision instead of the report."
)
@PATH_OPTION
def forge_show(*, rev: str, show_gate: bool, forge_path: Path | None) -> None:
    """Show the report (or the gate decision) the runner noted on REV."""
    from mlops_gitops.errors import MlopsError
    from mlops_gitops.forge.base import Target
    from mlops_gitops.forge.local import LocalForge
    from mlops_gitops.scm import rev_parse

    root = forge_path.resolve() if forge_path else _root()
    local = LocalForge(root)
    target = Target(rev_parse(rev, root), "")
    found = local.read_gate(target) if show_gate else local.read_report(target)
    if found is None:
        what = "gate decision" if show_gate else "report"
        raise MlopsError(f"no {what} on {target.sha[:12]}; run 'git fetch' once the runner is done")
    click.echo(f"{found.decision}: {found.summary}" if show_gate else found, nl=show_gate)  # type: ignore[union-attr]


@forge.command("queue")
@PATH_OPTION
@JSON_OPTION
def forge_queue(*, forge_path: Path | None, as_json: bool) -> None:
    """List the runner's jobs: pending, running, done, failed."""
    from mlops_gitops.forge.queue import JobQueue

    jobs = JobQueue(_forge_dir(forge_path)).list_jobs()
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
@PATH_OPTION
@JSON_OPTION
def forge_issues(*, forge_path: Path | None, as_json: bool) -> None:
    """List the forge's issues (monitoring alerts); without --forge-path, this clone's copy."""
    from mlops_gitops.forge.issues import list_issues

    found = list_issues(forge_path.resolve() if forge_path else _root())
    if as_json:
        echo_json(found)
        return
    if not found:
        click.echo("no issues; in a clone run 'mlops forge track' and 'git fetch' first")
        return
    rows = [(i.number, i.state, i.created_at, ",".join(i.labels), i.title) for i in found]
    echo_table(["#", "state", "opened", "labels", "title"], rows)


@click.command()
@PATH_OPTION
@click.option("--once", is_flag=True, help="Process the jobs pending now, then exit.")
@click.option(
    "--interval", default=5.0, show_default=True, help="Seconds between polls of the queue."
)
@click.option("--base", default="main", show_default=True, help="The base branch.")
@click.option(
    "--no-commit", is_flag=True, help="Do not commit what the pipeline changes back to the branch."
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="MLOPS_RUNNER_WORK_DIR",
    help="The runner's work tree, outside the forge "
    "(default: $XDG_CACHE_HOME/mlops-runner/<forge name>-<hash>).",
)
@click.option(
    "--writable",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A path the sandboxed pipeline may write besides its work tree (repeatable).",
)
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Run pushed code without the sandbox, with this runner's rights (unsafe).",
)
@JSON_OPTION
def runner(
    *,
    forge_path: Path | None,
    once: bool,
    interval: float,
    base: str,
    no_commit: bool,
    work_dir: Path | None,
    writable: tuple[Path, ...],
    no_sandbox: bool,
    as_json: bool,
) -> None:
    """Train the local forge's queued pushes one at a time: pull, repro, push, report, gate."""
    import time

    from mlops_gitops.ci import RunnerSettings, run_runner

    def wait() -> bool:
        time.sleep(interval)
        return True

    jobs = run_runner(
        _forge_dir(forge_path),
        settings=RunnerSettings(
            base=base,
            commit=not no_commit,
            work_dir=work_dir,
            sandbox=not no_sandbox,
            writable=writable,
        ),
        wait=None if once else wait,
    )
    if as_json:
        echo_json(jobs)
        return
    for job in jobs:
        outcome = job.result.get("decision") or job.result.get("error", "")
        click.echo(f"{job.state:<6} {job.branch} @ {job.sha[:12]}: {outcome}")
    if not jobs:
        click.echo("no pending jobs")


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

    rendered, publication = report_change(
        _root(), CiOptions(forge=forge_name, base=base), publish=publish
    )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.md").write_text(rendered.markdown, encoding="utf-8")
        for name, data in rendered.attachments.items():
            (out / name).write_bytes(data)
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


@click.group()
def ci() -> None:
    """What the workflows run: train, gate, changed environments."""


@ci.command("train")
@FORGE_OPTION
@BASE_OPTION
@click.option(
    "--commit", is_flag=True, help="Commit and push what the pipeline changed (dvc.lock, metrics)."
)
@JSON_OPTION
def ci_train(*, forge_name: str | None, base: str | None, commit: bool, as_json: bool) -> None:
    """Pull, repro and push the pipeline; publish report and gate (exit 3 when blocked)."""
    from mlops_gitops.ci.commands import CiOptions
    from mlops_gitops.ci.commands import ci_train as train

    outcome = train(_root(), CiOptions(forge=forge_name, base=base, commit=commit))
    _finish(outcome.summary(), outcome.gate.status.decision, outcome.gate.status.summary, as_json)


@ci.command("gate")
@FORGE_OPTION
@BASE_OPTION
@click.option(
    "--env", "environment", help="The target environment (default: the manifest the change edits)."
)
@JSON_OPTION
def ci_gate(
    *, forge_name: str | None, base: str | None, environment: str | None, as_json: bool
) -> None:
    """Evaluate the pull request's gate with its reviews; set mlops/gate (exit 3 when blocked)."""
    from mlops_gitops.ci.commands import CiOptions
    from mlops_gitops.ci.commands import ci_gate as gate

    outcome = gate(_root(), CiOptions(forge=forge_name, base=base, environment=environment))
    summary = {
        "decision": outcome.status.decision,
        "summary": outcome.status.summary,
        "rules": outcome.policies,
    }
    _finish(summary, outcome.status.decision, outcome.status.summary, as_json)


@ci.command("changed-envs")
@click.option("--before", required=True, help="The commit before the push (github.event.before).")
@click.option("--after", default="HEAD", show_default=True, help="The commit after the push.")
@JSON_OPTION
def ci_changed_envs(*, before: str, after: str, as_json: bool) -> None:
    """Print the environments whose manifest the push changed, one per line."""
    from mlops_gitops.ci import changed_environments

    envs = changed_environments(_root(), before, after)
    if as_json:
        echo_json(envs)
        return
    for env in envs:
        click.echo(env)


def _finish(summary: Any, decision: str, message: str, as_json: bool) -> None:
    from mlops_gitops.errors import GateBlocked, MlopsError

    if as_json:
        echo_json(summary)
    else:
        click.echo(f"mlops/gate: {decision}: {message}")
    if decision == "block":
        raise GateBlocked(f"the gate blocks this change: {message}")
    if decision == "error":
        raise MlopsError(f"the gate could not decide: {message}")


# the record commands of the group live in their own module (imported for their registration)
from mlops_gitops.cli import records as _records  # noqa: E402,F401
