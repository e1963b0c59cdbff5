"""``mlops registry register|promote|rollback|status|list|history|deprecate|retire|verify|sbom|gc``.

Thin commands over :mod:`mlops_gitops.registry`; the earlier top-level forms
(``mlops promote``, ...) are aliases of these (:data:`mlops_gitops.cli.ALIASES`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlops_gitops.cli.options import AT_OPTION, JSON_OPTION, find_project_root
from mlops_gitops.cli.output import echo_json, echo_table


def _short(commit: str | None) -> str:
    return commit[:8] if commit else "-"


@click.command()
@click.argument("model")
@click.option("--version", "version", help="The version to register, e.g. v1.2.0.")
@click.option("--bump", type=click.Choice(["major", "minor", "patch"]), help="Bump the latest.")
@click.option(
    "--rev", default="HEAD", show_default=True, help="The commit whose dvc.lock holds it."
)
@click.option(
    "--sign-key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MLOPS_SIGNING_KEY",
    help="SSH private key that signs the tag and the artifact's SHA-256 (MLOPS_SIGNING_KEY).",
)
@JSON_OPTION
def register(
    *, model: str, version: str | None, bump: Any, rev: str, sign_key: Path | None, as_json: bool
) -> None:
    """Register MODEL (an artifact of dvc.yaml) as a new version: a Git tag MODEL@vX.Y.Z."""
    from mlops_gitops.registry import register as register_version

    result = register_version(
        find_project_root(), model, version=version, bump=bump, rev=rev, sign_key=sign_key
    )
    if as_json:
        echo_json(result)
        return
    md5 = result.artifact.md5 if result.artifact else "-"
    click.echo(f"registered {result.tag} on {_short(result.commit)} (artifact md5 {md5})")


@click.command()
@click.argument("model")
@click.argument("version", required=False)
@click.option("--to", "env", required=True, help="The environment to promote into.")
@click.option("--canary", type=int, help="Send this percent of traffic to VERSION first.")
@click.option(
    "--complete", is_flag=True, help="Finish the running canary: the candidate serves all."
)
@click.option(
    "--abort", is_flag=True, help="Drop the running canary: the stable version serves all."
)
@JSON_OPTION
def promote(
    *,
    model: str,
    version: str | None,
    env: str,
    canary: int | None,
    complete: bool,
    abort: bool,
    as_json: bool,
) -> None:
    """Promote MODEL VERSION into an environment, on a new branch ready for a pull request."""
    from mlops_gitops import registry

    if complete or abort:
        if (complete and abort) or version is not None or canary is not None:
            raise click.UsageError("use --complete or --abort alone, without VERSION or --canary")
        finish = registry.complete_canary if complete else registry.abort_canary
        _echo_promotion(finish(find_project_root(), model, env=env), as_json)
        return
    if version is None:
        raise click.UsageError("VERSION is required (or --complete / --abort for a canary)")
    promoted = registry.promote(find_project_root(), model, version, to=env, canary=canary)
    _echo_promotion(promoted, as_json)


@click.command()
@click.option("--env", required=True, help="The environment to roll back.")
@click.option("--model", help="The model to roll back (needed when ENV runs several).")
@click.option("--to", "version", help="The version to go back to (default: the previous one).")
@JSON_OPTION
def rollback(env: str, model: str | None, version: str | None, as_json: bool) -> None:
    """Write the previous (or named) version back into ENV as a new commit on a new branch."""
    from mlops_gitops.registry import rollback as rollback_version

    rolled_back = rollback_version(find_project_root(), env=env, model=model, to=version)
    _echo_promotion(rolled_back, as_json)


def _echo_promotion(result: Any, as_json: bool) -> None:
    if as_json:
        echo_json(result)
        return
    click.echo(result.message.splitlines()[0])
    click.echo(f"branch {result.branch}, commit {_short(result.commit)} edits {result.manifest}")
    click.echo(f"next: git push origin {result.branch} and open a pull request")


@click.command()
@click.option("--env", help="Only this environment.")
@AT_OPTION
@JSON_OPTION
def status(env: str | None, at: str | None, as_json: bool) -> None:
    """Show what runs in each environment, since when, brought by which commit and author."""
    from mlops_gitops.registry import status as read_status

    rows = read_status(find_project_root(), env, at=at)
    if as_json:
        echo_json(rows)
        return
    echo_table(
        ["env", "model", "version", "rollout", "since", "commit", "author"],
        [
            (
                r.env,
                r.model,
                r.version,
                " ".join(f"{s.version}:{s.weight}%" for s in r.routes)
                if len(r.routes) > 1
                else "direct",
                r.since or "-",
                _short(r.commit),
                r.author or "-",
            )
            for r in rows
        ],
    )


@click.group()
def registry() -> None:
    """The model registry: register, promote and roll back versions; read their history."""


@registry.command("list")
@click.argument("model", required=False)
@click.option("--metadata", is_flag=True, help="Include data hashes, params and metrics.")
@AT_OPTION
@JSON_OPTION
def list_command(model: str | None, metadata: bool, at: str | None, as_json: bool) -> None:
    """List registered versions (of MODEL) with their lifecycle state."""
    from mlops_gitops.registry import list_versions

    versions = list_versions(find_project_root(), model, at=at, with_metadata=metadata)
    if as_json:
        echo_json(versions)
        return
    echo_table(
        ["model", "version", "state", "environments", "registered", "by", "commit"],
        [
            (
                v.model,
                v.version,
                v.state,
                ",".join(v.environments) or "-",
                v.registered_at,
                v.registered_by,
                _short(v.commit),
            )
            for v in versions
        ],
    )


@registry.command("history")
@click.argument("model")
@click.option("--env", help="Only events of this environment.")
@AT_OPTION
@JSON_OPTION
def history_command(model: str, env: str | None, at: str | None, as_json: bool) -> None:
    """Show every event of MODEL (registration, promotion, rollback, deprecation) in order."""
    from mlops_gitops.registry import history

    events = history(find_project_root(), model, env=env, at=at)
    if as_json:
        echo_json(events)
        return
    echo_table(
        ["date", "event", "version", "env", "from", "by", "commit"],
        [
            (
                e.date,
                e.kind,
                e.version or "-",
                e.env or "-",
                e.source_env or "-",
                e.author,
                _short(e.commit),
            )
            for e in events
        ],
    )


@click.command()
@click.argument("model")
@click.argument("version")
@click.option("--reason", default="", help="Why (kept in the tag message).")
@JSON_OPTION
def deprecate(model: str, version: str, reason: str, as_json: bool) -> None:
    """Deprecate MODEL VERSION: it may no longer be promoted (tag MODEL@VERSION!)."""
    from mlops_gitops.registry import deprecate as deprecate_version

    tag = deprecate_version(find_project_root(), model, version, reason=reason)
    if as_json:
        echo_json(tag)
        return
    click.echo(f"deprecated {model} {version} (tag {tag.name})")


@click.command()
@click.argument("model")
@click.argument("version")
@click.option("--reason", default="", help="Why (kept in the tag message).")
@JSON_OPTION
def retire(model: str, version: str, reason: str, as_json: bool) -> None:
    """Archive MODEL VERSION (tag MODEL@VERSION!archived); refused while an environment runs it."""
    from mlops_gitops.registry import retire as retire_version

    tag = retire_version(find_project_root(), model, version, reason=reason)
    if as_json:
        echo_json(tag)
        return
    click.echo(f"archived {model} {version} (tag {tag.name})")


@click.command()
@click.option("--env", help="Only this environment.")
@click.option("--remote", help="The DVC remote to check (default: the default remote).")
@JSON_OPTION
@click.pass_context
def verify(ctx: click.Context, env: str | None, remote: str | None, as_json: bool) -> None:
    """Check each pinned artifact: registered, same hash, tag in place, intact in the remote."""
    from mlops_gitops.registry import verify as verify_pins

    report = verify_pins(find_project_root(), env=env, remote=remote)
    if as_json:
        echo_json({"ok": report.ok, "findings": report.findings})
    else:
        echo_table(
            ["env", "model", "version", "check", "result", "detail"],
            [
                (f.env, f.model, f.version, f.check, "ok" if f.ok else "FAIL", f.detail)
                for f in report.findings
            ],
        )
    if not report.ok:
        click.echo("error: verification failed; see the FAIL rows", err=True)
        ctx.exit(1)


@click.command()
@click.argument("model")
@click.argument("version")
@click.option(
    "--lock",
    default="requirements/lock.txt",
    show_default=True,
    help="The lock file, as committed with the version.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the document to this file.",
)
@JSON_OPTION
def sbom(*, model: str, version: str, lock: str, output: Path | None, as_json: bool) -> None:
    """Write the CycloneDX 1.6 SBOM of MODEL VERSION and attach it to its tag (a git note)."""
    from mlops_gitops.supply.sbom import SBOM_REF, write_sbom

    result = write_sbom(find_project_root(), model, version, lock=lock, output=output)
    if as_json:
        echo_json(result.document)
        return
    click.echo(
        f"SBOM of {result.tag}: the model, {result.datasets} datasets, {result.packages} "
        f"locked packages; valid CycloneDX 1.6; attached as a {SBOM_REF} note"
        + (f"; written to {output}" if output else "")
    )


@click.command()
@click.option("--cloud", is_flag=True, help="Also collect garbage in the DVC remote.")
@click.option("--remote", help="The DVC remote (with --cloud).")
@click.option("--dry", is_flag=True, help="Only show what would be removed.")
@JSON_OPTION
def gc(cloud: bool, remote: str | None, dry: bool, as_json: bool) -> None:
    """Collect DVC garbage safely: every registered version's artifacts are kept."""
    from mlops_gitops.registry import gc as collect

    result = collect(find_project_root(), cloud=cloud, remote=remote, dry=dry)
    if as_json:
        echo_json(result)
        return
    click.echo(result.output.rstrip() or "nothing to collect")
    click.echo(f"kept the artifacts of {result.kept_versions} registered versions")


for _command in (register, promote, rollback, status, deprecate, retire, verify, sbom, gc):
    registry.add_command(_command)
