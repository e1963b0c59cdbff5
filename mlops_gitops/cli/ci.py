"""``mlops ci ...``: what the workflows run, thin commands over :mod:`mlops_gitops.ci`.

``mlops ci report`` (:mod:`mlops_gitops.cli.report`) and the record commands
(:mod:`mlops_gitops.cli.records`) are registered here.
"""

from __future__ import annotations

from typing import Any

import click

from mlops_gitops.cli.options import BASE_OPTION, FORGE_OPTION, JSON_OPTION, find_project_root
from mlops_gitops.cli.output import echo_json
from mlops_gitops.cli.report import report


@click.group()
def ci() -> None:
    """What the workflows run: train, gate, report, changed environments."""


ci.add_command(report)


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
    from mlops_gitops.ci.gate_status import raise_for_status

    outcome = train(find_project_root(), CiOptions(forge=forge_name, base=base, commit=commit))
    _echo_gate(outcome.summary(), outcome.gate.status, as_json)
    raise_for_status(outcome.gate.status)


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
    from mlops_gitops.ci.gate_status import raise_for_status

    options = CiOptions(forge=forge_name, base=base, environment=environment)
    outcome = gate(find_project_root(), options)
    summary = {
        "decision": outcome.status.decision,
        "summary": outcome.status.summary,
        "rules": outcome.policies,
    }
    _echo_gate(summary, outcome.status, as_json)
    raise_for_status(outcome.status)


@ci.command("changed-envs")
@click.option("--before", required=True, help="The commit before the push (github.event.before).")
@click.option("--after", default="HEAD", show_default=True, help="The commit after the push.")
@JSON_OPTION
def ci_changed_envs(*, before: str, after: str, as_json: bool) -> None:
    """Print the environments whose manifest the push changed, one per line."""
    from mlops_gitops.ci import changed_environments

    envs = changed_environments(find_project_root(), before, after)
    if as_json:
        echo_json(envs)
        return
    for env in envs:
        click.echo(env)


def _echo_gate(summary: Any, status: Any, as_json: bool) -> None:
    if as_json:
        echo_json(summary)
    else:
        click.echo(f"mlops/gate: {status.decision}: {status.summary}")


# the record commands of the group live in their own module (imported for their registration)
from mlops_gitops.cli import records as _records  # noqa: E402,F401
