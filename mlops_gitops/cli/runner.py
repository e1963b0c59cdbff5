"""``mlops forge train`` (also ``mlops runner``): the local forge's runner, over
:func:`mlops_gitops.ci.run_runner`.
"""

from __future__ import annotations

from pathlib import Path

import click

from mlops_gitops.cli.options import FORGE_PATH_OPTION, JSON_OPTION, find_forge_dir
from mlops_gitops.cli.output import echo_json


@click.command()
@FORGE_PATH_OPTION
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
    from mlops_gitops.ci import RunnerSettings, run_runner
    from mlops_gitops.forge.runner import poll_every

    jobs = run_runner(
        find_forge_dir(forge_path),
        settings=RunnerSettings(
            base=base,
            commit=not no_commit,
            work_dir=work_dir,
            sandbox=not no_sandbox,
            writable=writable,
        ),
        wait=None if once else poll_every(interval),
    )
    if as_json:
        echo_json(jobs)
        return
    for job in jobs:
        outcome = job.result.get("decision") or job.result.get("error", "")
        click.echo(f"{job.state:<6} {job.branch} @ {job.sha[:12]}: {outcome}")
    if not jobs:
        click.echo("no pending jobs")
