"""The options the commands share, and the one way a command finds its repository.

Every ``--json`` flag is :func:`json_option` (its output goes through
:func:`mlops_gitops.cli.output.echo_json`). A command that works on the Git
repository calls :func:`find_project_root`; one that also runs outside Git
(the serving image, monitoring) takes ``--root`` (:data:`ROOT_OPTION`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def json_option(help: str = "Print the result as JSON.") -> Callable[[F], F]:
    """Return the ``--json`` flag (the ``as_json`` parameter), with its help text."""
    return click.option("--json", "as_json", is_flag=True, help=help)


JSON_OPTION = json_option()
ROOT_OPTION = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The project repository.",
)
ENV_OPTION = click.option("--env", "env", required=True, help="The environment (envs/ENV.yaml).")
AT_OPTION = click.option("--at", help="Answer for a past date (YYYY-MM-DD[THH:MM]) or revision.")
FORGE_OPTION = click.option(
    "--forge",
    "forge_name",
    envvar="MLOPS_FORGE",
    help="The forge: github or local (default: github in GitHub Actions, else local).",
)
BASE_OPTION = click.option(
    "--base", help="The base branch (default: the pull request's, else main)."
)
FORGE_PATH_OPTION = click.option(
    "--forge-path",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="MLOPS_FORGE_PATH",
    help="The local forge (bare repository); default: the path of 'origin'.",
)


def find_project_root() -> Path:
    """Return the top folder of the Git work tree that holds the current folder."""
    from mlops_gitops.scm import find_root

    return find_root(".")


def find_forge_dir(path: Path | None) -> Path:
    """Return the local forge ``--forge-path`` names, else the path of this clone's origin."""
    from mlops_gitops.forge import find_local_remote

    return path.resolve() if path is not None else find_local_remote(find_project_root())
