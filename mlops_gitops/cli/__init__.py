"""The ``mlops`` command line: thin click commands over the library.

Sub-commands are registered in :data:`COMMANDS` and imported only when they
run, so ``mlops --help`` stays fast and never imports torch, pandas or dvc.
A command module imports the library inside its command bodies.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NoReturn

import click

from mlops_gitops import __version__
from mlops_gitops.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    MlopsError,
    format_chain,
)

# noun -> (module under mlops_gitops.cli, attribute, one-line help): ``mlops NOUN VERB``
COMMANDS: dict[str, tuple[str, str, str]] = {
    "audit": ("audit", "audit", "Show the audit history; export it as CSV or JSON."),
    "ci": ("ci", "ci", "What the workflows run: train, gate, report, changed environments."),
    "docs": ("docs", "docs", "Build (or serve) the documentation site from the repository."),
    "forge": ("forge", "forge", "The local forge: init, hooks, approvals, notes, queue, train."),
    "monitoring": ("monitor", "monitor", "Monitor drift, performance and health; send alerts."),
    "policy": ("policy", "policy", "Evaluate the gate, scan; test, lint and document policies."),
    "project": ("project", "project", "Scaffold a project, run the demo loop, show the params."),
    "registry": ("registry", "registry", "Register, promote, roll back and list model versions."),
    "serving": ("serve", "serving", "Serve, score, explain, export, render and deploy models."),
}

# the earlier top-level forms -> the command they name; each runs exactly that command
# (the same click object), so no script breaks. Help lists them under "Aliases".
ALIASES: dict[str, tuple[str, ...]] = {
    "init": ("project", "init"),
    "demo": ("project", "demo"),
    "params": ("project", "params"),
    "register": ("registry", "register"),
    "promote": ("registry", "promote"),
    "rollback": ("registry", "rollback"),
    "status": ("registry", "status"),
    "deprecate": ("registry", "deprecate"),
    "retire": ("registry", "retire"),
    "verify": ("registry", "verify"),
    "gc": ("registry", "gc"),
    "sbom": ("registry", "sbom"),
    "gate": ("policy", "gate"),
    "scan": ("policy", "scan"),
    "monitor": ("monitoring",),
    "explain": ("serving", "explain"),
    "serve": ("serving", "serve"),
    "predict": ("serving", "predict"),
    "export-edge": ("serving", "export-edge"),
    "render": ("serving", "render"),
    "deploy": ("serving", "deploy"),
    "runner": ("forge", "train"),
    "report": ("ci", "report"),
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use; aliases resolve to them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*COMMANDS, *self.commands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in ALIASES:
            return resolve_alias(cmd_name)
        if cmd_name not in COMMANDS:
            return None
        module_name, attr, _ = COMMANDS[cmd_name]
        module = importlib.import_module(f"mlops_gitops.cli.{module_name}")
        command: click.Command = getattr(module, attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        rows += [(n, c.get_short_help_str()) for n, c in sorted(self.commands.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
        aliases = [(name, f"= mlops {' '.join(ALIASES[name])}") for name in sorted(ALIASES)]
        with formatter.section("Aliases (the earlier forms, still working)"):
            formatter.write_dl(aliases)


def resolve_alias(name: str) -> click.Command:
    """Return the command the alias ``name`` stands for (``gate`` is ``policy gate``)."""
    noun, *verbs = ALIASES[name]
    command = cli.get_command(click.Context(cli), noun)
    for verb in verbs:
        group = command if isinstance(command, click.Group) else None
        command = None if group is None else group.get_command(click.Context(group), verb)
    if command is None:  # a mistake in ALIASES, which tests/cli/test_aliases.py catches
        raise LookupError(f"alias {name}: no command 'mlops {' '.join(ALIASES[name])}'")
    return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlops")
@click.option(
    "--traceback",
    is_flag=True,
    envvar="MLOPS_TRACEBACK",
    help="Show the full traceback of an error (also MLOPS_TRACEBACK=1).",
)
@click.option("-v", "--verbose", count=True, help="Show progress (-v) or debug logs (-vv).")
@click.pass_context
def cli(ctx: click.Context, traceback: bool, verbose: int) -> None:
    """mlops-gitops: an MLOps platform where Git is the system of record."""
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback
    _configure_logging(verbose)


def _configure_logging(verbose: int) -> None:
    import logging

    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("mlops_gitops")
    logger.handlers[:] = [handler]
    logger.setLevel(level)


def _wants_traceback(argv: list[str]) -> bool:
    return "--traceback" in argv or os.environ.get("MLOPS_TRACEBACK", "") not in ("", "0")


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI and exit with the code of STYLE.md section 3."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv: Any = cli.main(args=args, prog_name="mlops", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except MlopsError as exc:
        if _wants_traceback(args):
            raise
        click.echo(f"error: {format_chain(exc)}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # the one broad catch: anything else is a bug
        if _wants_traceback(args):
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {format_chain(exc)} "
            "(rerun with --traceback and report it)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(rv if isinstance(rv, int) else 0)
