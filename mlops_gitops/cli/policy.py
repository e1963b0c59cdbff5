"""``mlops policy gate|scan|test|lint|schema`` (``mlops gate``, ``mlops scan`` are aliases).

Thin commands over :mod:`mlops_gitops.policies`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlops_gitops.cli.options import JSON_OPTION, find_project_root
from mlops_gitops.cli.output import echo_json, echo_table

POLICIES_OPTION = click.option(
    "--policies",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="The policies folder (default: policies/ of the repository).",
)


def _folder(folder: Path | None) -> tuple[Path, str]:
    if folder is not None:
        return folder, str(folder).rstrip("/")
    return find_project_root() / "policies", "policies"


@click.command()
@click.option(
    "--env", "environment", help="The target environment (default: the manifest the change edits)."
)
@click.option("--base", default="main", show_default=True, help="The base branch or commit.")
@click.option(
    "--branch", envvar="GITHUB_HEAD_REF", help="The branch under evaluation (default: checked out)."
)
@click.option(
    "--approvals",
    "approvals_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="An approvals JSON file (repeatable).",
)
@click.option(
    "--bundle",
    "bundle_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Evaluate a recorded bundle (a gate record) instead of building one.",
)
@click.option(
    "--replay",
    "replay_sha",
    metavar="SHA",
    help="Replay the gate record noted on this commit (refs/notes/mlops-evidence).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the gate record (default: .mlops/gate/HEAD.json).",
)
@click.option("--now", help="Evaluate as of this time (ISO 8601, UTC when no zone is given).")
@JSON_OPTION
def gate(
    *,
    environment: str | None,
    base: str,
    branch: str | None,
    approvals_files: tuple[Path, ...],
    bundle_file: Path | None,
    replay_sha: str | None,
    output: Path | None,
    now: str | None,
    as_json: bool,
) -> None:
    """Evaluate the policies on the change: exit 0 to pass (warnings too), 3 when blocked."""
    from mlops_gitops.errors import GateBlocked
    from mlops_gitops.policies.approvals import FileApprovals
    from mlops_gitops.policies.collect import GateRequest
    from mlops_gitops.policies.gate import replay_gate, run_gate

    replaying = [x for x in (bundle_file, replay_sha) if x is not None]
    if replaying and (environment or approvals_files or now or output or len(replaying) > 1):
        raise click.UsageError(
            "--bundle and --replay replay a record; "
            "give one, without --env, --approvals, --now or --output"
        )
    if replay_sha is not None:
        from mlops_gitops.ci.gate_status import replay_noted

        result = replay_noted(find_project_root(), replay_sha)
    elif bundle_file is not None:
        result = replay_gate(find_project_root(), bundle_file)
    else:
        request = GateRequest(
            root=find_project_root(),
            environment=environment,
            base=base,
            branch=branch or None,
            approvals=tuple(FileApprovals(p) for p in approvals_files),
            now=_parse_now(now),
        )
        result = run_gate(request, output=output)
    _render(result, as_json)
    decision = result.decision
    if decision.blocked:
        ids = [r.id for r in decision.results if r.outcome in ("block", "error")]
        raise GateBlocked(
            f"blocked by {len(ids)} rule{'s' if len(ids) != 1 else ''}: {', '.join(ids)}"
        )


def _parse_now(text: str | None) -> Any:
    if text is None:
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"'{text}' is not an ISO 8601 time", param_hint="--now") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _render(result: Any, as_json: bool) -> None:
    decision = result.decision
    if as_json:
        echo_json(
            {
                "decision": decision.to_json(),
                "record": str(result.record) if result.record else None,
                "matches_record": result.matches_record,
            }
        )
        return
    from mlops_gitops.policies.engine import format_value

    counts = ", ".join(f"{n} {k}" for k, n in decision.counts().items())
    subject = " ".join(x for x in (decision.model, decision.version) if x) or "change"
    target = f" -> {decision.environment}" if decision.environment else ""
    click.echo(
        f"gate: {decision.verdict.upper()}  {subject}{target}  head {decision.head[:8]}  ({counts})"
    )
    rows = [
        (
            r.id,
            r.outcome,
            ", ".join(f"{k}={format_value(v)}" for k, v in r.values.items()),
            "; ".join(x for x in (r.message, r.note) if x),
        )
        for r in decision.results
    ]
    echo_table(["rule", "outcome", "values", "message"], rows)
    if decision.expired_waivers:
        click.echo(f"expired waivers (no longer applied): {', '.join(decision.expired_waivers)}")
    if result.record is not None:
        click.echo(f"record: {result.record}")
    if result.matches_record is True:
        click.echo("replay: the same decision as the recorded one")
    if result.matches_record is False:
        click.echo("note: this decision differs from the recorded one (the policies changed since)")


@click.group()
def policy() -> None:
    """Evaluate the gate; test, lint and document the policy rules of policies/."""


policy.add_command(gate)


@policy.command("test")
@POLICIES_OPTION
@JSON_OPTION
def test_policies(*, folder: Path | None, as_json: bool) -> None:
    """Run the test cases the rules carry (like 'opa test')."""
    from mlops_gitops.policies import PolicyError, run_policy_tests

    path, origin = _folder(folder)
    report = run_policy_tests(path, origin=origin)
    if as_json:
        echo_json({"passed": report.passed, "results": report.results})
    else:
        rows = [
            (r.rule, r.name, r.expected, r.actual or "error", "ok" if r.passed else r.detail)
            for r in report.results
        ]
        echo_table(["rule", "case", "expected", "actual", "result"], rows)
    if not report.passed:
        failed = report.failures
        total = len(report.results)
        raise PolicyError(
            f"{len(failed)} of {total} policy test cases failed; first: {failed[0].source}"
        )


@policy.command("lint")
@POLICIES_OPTION
@JSON_OPTION
def lint(*, folder: Path | None, as_json: bool) -> None:
    """Check rule ids, the fields rules read, test cases, roles and waivers."""
    from datetime import UTC, datetime

    from mlops_gitops.policies import PolicyError, lint_policies

    path, origin = _folder(folder)
    findings = lint_policies(path, now=datetime.now(UTC), origin=origin)
    if as_json:
        echo_json({"findings": findings})
    else:
        for finding in findings:
            click.echo(f"{finding.level}: {finding.message}")
    errors = [f for f in findings if f.level == "error"]
    if errors:
        raise PolicyError(f"policy lint found {len(errors)} error{'s' if len(errors) != 1 else ''}")
    if not as_json and not findings:
        click.echo("policies are clean")


@policy.command("schema")
def schema() -> None:
    """Print the JSON schema of the evidence bundle."""
    from mlops_gitops.policies import bundle_json_schema

    echo_json(bundle_json_schema())


@policy.command("scan")
@click.option(
    "--base",
    default="main",
    show_default=True,
    help="Secrets are looked for in files changed since.",
)
@click.option("--env", "environment", help="The environment whose waivers apply.")
@click.option("--model", help="The model whose waivers apply.")
@click.option("--version", "version", help="The version whose waivers apply.")
@click.option("--now", help="Judge waiver expiry as of this time (ISO 8601).")
@JSON_OPTION
def scan(
    *,
    base: str,
    environment: str | None,
    model: str | None,
    version: str | None,
    now: str | None,
    as_json: bool,
) -> None:
    """Audit the locked packages, the code, pickled files and the change's secrets: 3 if blocked."""
    from datetime import UTC, datetime

    from mlops_gitops.errors import GateBlocked
    from mlops_gitops.supply.scan import scan_project

    result = scan_project(
        find_project_root(),
        base=base,
        now=_parse_now(now) or datetime.now(UTC),
        model=model,
        version=version,
        environment=environment,
    )
    if as_json:
        echo_json(result.model_dump(mode="json", exclude_none=True))
    else:
        for name, summary in result.scanners.items():
            click.echo(f"{name}: {summary}")
        echo_table(
            ["finding", "severity", "where", "verdict", "detail"],
            [(f.id, f.severity, f.location, _verdict(f), f.message[:120]) for f in result.findings],
        )
    if result.blocking:
        count = len(result.blocking)
        raise GateBlocked(
            f"blocked by {count} finding{'s' if count != 1 else ''} at or above "
            f"{result.block_at}: {', '.join(result.blocking)}"
        )


def _verdict(finding: Any) -> str:
    if finding.waiver:
        return f"waived ({finding.waiver})"
    return "BLOCK" if finding.blocking else "warn"
