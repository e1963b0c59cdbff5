"""``mlops project init|demo|params`` (``mlops init``, ``demo`` and ``params`` are aliases)."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_gitops.cli.options import JSON_OPTION
from mlops_gitops.cli.output import echo_json


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--remote", type=click.Path(file_okay=False, path_type=Path), help="DVC remote folder."
)
@click.option("--name", help="Project name (default: the folder name).")
@click.option(
    "--task",
    default="binary",
    show_default=True,
    help="The model's task: binary, multiclass or regression (sample, metrics, policies).",
)
@JSON_OPTION
def init(
    directory: Path, remote: Path | None, name: str | None, *, task: str, as_json: bool
) -> None:
    """Scaffold a new project of the convention in DIRECTORY."""
    from mlops_gitops.project import init_project

    result = init_project(directory, remote=remote, name=name, task=task)
    if as_json:
        echo_json(result)
        return
    click.echo(
        f"created {result.path} ({len(result.files)} files, task {result.task}), "
        f"commit {result.commit[:8]}"
    )
    click.echo(f"DVC remote 'local' -> {result.remote}")
    click.echo(f"next: cd {directory} && dvc repro")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default="demo")
@click.option("--rows", type=int, help="Rows of the built-in sample (default: params.yaml).")
@click.option(
    "--pipeline-only",
    is_flag=True,
    help="Stop after the pipeline (no registry, serving, monitoring).",
)
@JSON_OPTION
def demo(directory: Path, rows: int | None, pipeline_only: bool, as_json: bool) -> None:
    """Run the whole loop in DIRECTORY: pipeline, registry, serving, drift alert."""
    from mlops_gitops.demo import run_demo

    result = run_demo(directory, rows=rows, loop=not pipeline_only)
    if as_json:
        echo_json(result)
        return
    click.echo(result.summary())


@click.command()
@click.argument("overrides", nargs=-1)
@click.option("--section", help="Show only this top-level section.")
def params(overrides: tuple[str, ...], section: str | None) -> None:
    """Show params.yaml composed with Hydra OVERRIDES (e.g. model.family=lightning)."""
    from mlops_gitops.params import check_params, load_params, load_section

    composed = load_params(".", overrides)
    check_params(composed)
    echo_json(load_section(section, ".", overrides) if section else composed)


@click.group()
def project() -> None:
    """The project: scaffold one, run the demo loop on it, show its composed params."""


for _command in (init, demo, params):
    project.add_command(_command)
