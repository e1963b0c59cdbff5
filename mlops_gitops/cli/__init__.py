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

# name -> (module under mlops_gitops.cli, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("project", "init", "Scaffold a new project of the convention."),
    "demo": ("project", "demo", "Run the whole loop on the sample: pipeline to drift alert."),
    "params": ("project", "params", "Show the composed params, with Hydra overrides."),
    "register": ("registry", "register", "Register a model version (Git tag MODEL@vX.Y.Z)."),
    "promote": ("registry", "promote", "Promote a model version into an environment."),
    "rollback": ("registry", "rollback", "Write the previous version back into an environment."),
    "status": ("registry", "status", "Show what runs in each environment, since when."),
    "registry": ("registry", "registry", "List model versions and their history."),
    "deprecate": ("registry", "deprecate", "Deprecate a model version."),
    "retire": ("registry", "retire", "Archive a model version no environment runs."),
    "verify": ("registry", "verify", "Check pinned artifacts against registry and DVC remote."),
    "gc": ("registry", "gc", "Collect DVC garbage, keeping every registered version."),
    "monitor": ("monitor", "monitor", "Monitor drift, performance and health; send alerts."),
    "explain": ("explain", "explain", "Explain one decision: contributions and counterfactual."),
    "gate": ("policy", "gate", "Evaluate the policies on a change: pass, warn or block."),
    "policy": ("policy", "policy", "Test, lint and document the policy rules."),
    "forge": ("forge", "forge", "The local forge: init, hooks, approvals, notes, queue."),
    "runner": ("forge", "runner", "Train the local forge's queued pushes one at a time."),
    "report": ("forge", "report", "Render (and publish) the PR report of the change."),
    "ci": ("forge", "ci", "What the workflows run: train, gate, changed environments."),
    "serve": ("serve", "serve", "Serve an environment's models over REST (inference v2)."),
    "predict": ("serve", "predict", "Score a CSV or Parquet file with a pinned model."),
    "export-edge": ("serve", "export_edge", "Export a version (ONNX + int8) for edge devices."),
    "render": ("serve", "render", "Render Kubernetes/KServe resources and a Dockerfile."),
    "deploy": ("serve", "deploy", "Verify, render and start or reload an environment."),
    "audit": ("audit", "audit", "Show the audit history; export it as CSV or JSON."),
    "docs": ("docs", "docs", "Build (or serve) the documentation site from the repository."),
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*COMMANDS, *self.commands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
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
