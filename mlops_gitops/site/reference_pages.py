"""Reference pages generated from the code: the click command tree and the public API.

The command-line reference walks the click command tree its caller passes in
(``mlops docs build`` passes the ``mlops`` group; concepts never import the
CLI) and prints the help of every command and sub-command as
``mlops ... --help`` shows it; without a tree the page lists no command.
The API reference lists the concept packages for mkdocstrings, which
renders their docstrings at build time.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

API_MODULES = (
    "mlops_gitops.registry",
    "mlops_gitops.manifests",
    "mlops_gitops.policies",
    "mlops_gitops.forge",
    "mlops_gitops.ci",
    "mlops_gitops.reports",
    "mlops_gitops.audit",
    "mlops_gitops.site",
    "mlops_gitops.errors",
)


@dataclass(frozen=True)
class CommandHelp:
    """The help text of one command (``mlops registry list``)."""

    name: str
    help: str


def list_command_help(cli: click.Group | None) -> list[CommandHelp]:
    """Return the help of ``cli`` and of every command and sub-command, in order."""
    if cli is None:
        return []
    root = click.Context(cli, info_name="mlops", terminal_width=100, max_content_width=100)
    found = [CommandHelp("mlops", cli.get_help(root))]
    for name in cli.list_commands(root):
        command = cli.get_command(root, name)
        if command is not None:
            found += _walk(command, name, root)
    return found


def _walk(command: click.Command, name: str, parent: click.Context) -> list[CommandHelp]:
    ctx = click.Context(command, info_name=name, parent=parent, terminal_width=100)
    found = [CommandHelp(f"mlops {ctx.command_path.removeprefix('mlops ')}", command.get_help(ctx))]
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            child = command.get_command(ctx, sub)
            if child is not None and not child.hidden:
                found += _walk(child, sub, ctx)
    return found
