"""Lifecycle marks, verification and garbage collection of the registry.

``deprecate`` and ``retire`` write annotated tags on the current HEAD (so
the graph orders them after the promotions they follow). ``verify`` checks
every pinned artifact of every environment against its registration,
``dvc.lock`` and the DVC remote; ``gc`` runs ``dvc gc`` keeping every tagged commit, after checking
that each registered artifact is referenced by its tag's commit.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from mlops_gitops import pipeline, scm
from mlops_gitops.errors import PipelineError
from mlops_gitops.manifests.conventions import manifest_path
from mlops_gitops.registry.pins import PinCheck, compare_pins
from mlops_gitops.registry.signing import (
    check_bytes,
    check_signature,
    require_signature,
    trusted_signers,
)
from mlops_gitops.registry.state import RegistryState, load_state
from mlops_gitops.registry.versions import (
    Mark,
    ModelVersion,
    RegistryError,
    VersionTag,
    format_message,
    locked_md5,
    read_tags,
    tag_name,
)

log = logging.getLogger(__name__)


def deprecate(
    root: str | os.PathLike[str], model: str, version: str, *, reason: str = ""
) -> VersionTag:
    """Deprecate a version: it may no longer be promoted (tag ``MODEL@VERSION!``)."""
    state = load_state(root)
    target = state.find(model, version)
    if target.deprecated or target.archived:
        raise RegistryError(f"{model} {version} is already {target.state}")
    return _mark(state, target, "deprecate", reason)


def retire(
    root: str | os.PathLike[str], model: str, version: str, *, reason: str = ""
) -> VersionTag:
    """Archive a version (tag ``MODEL@VERSION!archived``); refused while an environment runs it."""
    state = load_state(root)
    target = state.find(model, version)
    if target.archived:
        raise RegistryError(f"{model} {version} is already archived")
    if target.environments:
        where = ", ".join(manifest_path(env) for env in target.environments)
        raise RegistryError(
            f"{model} {version} still runs in {', '.join(target.environments)} ({where}); "
            "promote or roll back to another version first"
        )
    return _mark(state, target, "archive", reason)


def _mark(state: RegistryState, target: ModelVersion, mark: Mark, reason: str) -> VersionTag:
    name = tag_name(target.model, target.version, mark)
    verb = {"deprecate": "Deprecate", "archive": "Archive"}[mark]
    metadata = {"event": mark, "model": target.model, "version": target.version, "reason": reason}
    message = format_message(f"{verb} {target.model} {target.version}", metadata)
    scm.create_tag(state.root, name, state.snapshot.rev, message)
    return next(t for t in read_tags(state.root) if t.name == name)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """The result of one check of ``verify`` on one pinned artifact."""

    env: str
    model: str
    version: str
    check: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    """Every check that ``verify`` ran; ``ok`` when all passed."""

    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """Return whether every check passed."""
        return all(f.ok for f in self.findings)


def verify(
    root: str | os.PathLike[str] = ".", *, env: str | None = None, remote: str | None = None
) -> VerifyReport:
    """Check every pin of every environment (or of ``env``) against its registration.

    Each pinned artifact (serving version, canary candidate, A/B variant) must be
    registered with the same path and md5, its tag must not have moved (``dvc.lock``
    at the tag's commit holds the artifact; the tag is on the commit any promotion
    of the version recorded), its signature must verify against
    ``policies/allowed_signers`` with the artifact's bytes matching the signed
    SHA-256 (unsigned only where the environment does not set ``signed_models``),
    and the artifact must be intact in the DVC remote.
    Every failing pin of every environment is reported, not only the first.
    """
    state = load_state(root, with_history=True)
    envs = [env] if env is not None else state.environments.order
    if env is not None and env not in state.manifests:
        raise RegistryError(
            f"unknown environment '{env}'; declared: {', '.join(state.environments.order)}"
        )
    registered = {(v.model, v.version): v for v in state.versions()}
    pins = compare_pins(state.root, {name: state.manifests[name] for name in envs})
    findings: list[Finding] = []
    sound: set[str] = set()
    with trusted_signers(state.root, state.snapshot.rev) as signers:
        for pin in dict.fromkeys(pins):
            version = registered.get((pin.model, pin.version))
            found = _check_pin(state, version, pin)
            if version is not None and version.artifact is not None:
                found.append(_check_signed(state, version, pin, signers))
            findings += found
            if all(f.ok for f in found):
                sound.add(pin.md5)
    findings += _check_remote(Path(root), pins, sound, remote)
    return VerifyReport(tuple(findings))


def _check_pin(state: RegistryState, version: ModelVersion | None, pin: PinCheck) -> list[Finding]:
    env, model, name = pin.env, pin.model, pin.version
    tag = tag_name(model, name)
    if version is None or version.artifact is None or pin.registered is None:
        detail = f"tag {tag} is missing or has no metadata (deleted?)"
        return [
            Finding(env=env, model=model, version=name, check="registered", ok=False, detail=detail)
        ]
    checks = [
        Finding(
            env=env,
            model=model,
            version=name,
            check="registered",
            ok=True,
            detail=f"tag {tag} on {version.commit[:8]}",
        )
    ]
    if not pin.ok:
        said = pin.registered
        detail = (
            f"manifest pins {pin.md5}, registration says {said.md5}"
            if said.path == pin.path
            else f"manifest pins {pin.path} md5 {pin.md5}, registration says "
            f"{said.path} md5 {said.md5}"
        )
        return [
            *checks,
            Finding(env=env, model=model, version=name, check="hash", ok=False, detail=detail),
        ]
    checks.append(
        Finding(env=env, model=model, version=name, check="hash", ok=True, detail=pin.md5)
    )
    ok, detail = _tag_in_place(state, version)
    return [*checks, Finding(env=env, model=model, version=name, check="tag", ok=ok, detail=detail)]


def _check_signed(
    state: RegistryState, version: ModelVersion, pin: PinCheck, signers: Path
) -> Finding:
    spec = state.environments.environments.get(pin.env)
    required = spec is not None and spec.signed_models
    check = check_signature(state.root, version.tag, version.tag_object, signers)
    where = {"env": pin.env, "model": pin.model, "version": pin.version, "check": "signature"}
    try:
        sha256 = require_signature(check, env=pin.env, required=required)
        if sha256 is not None:
            path = pipeline.fetch_object(state.root, pin.md5)
            check_bytes(path, sha256, what=version.tag)
    except (RegistryError, PipelineError) as exc:
        return Finding(**where, ok=False, detail=str(exc))
    if sha256 is None:
        detail = f"not signed ({pin.env} does not set signed_models)"
        return Finding(**where, ok=True, detail=detail)
    return Finding(**where, ok=True, detail=check.describe())


def _tag_in_place(state: RegistryState, version: ModelVersion) -> tuple[bool, str]:
    md5 = version.artifact.md5 if version.artifact else ""
    path = version.artifact.path if version.artifact else ""
    locked = locked_md5(state.root, version.commit, path)
    if locked != md5:
        return (
            False,
            f"{version.tag} moved: dvc.lock at {version.commit[:8]} has {locked} for {path}",
        )
    # any environment's promotion recorded the registration it saw: a tag re-created on
    # another commit afterwards is caught in every environment, however each got the version
    recorded = [
        e.registration
        for e in state.events
        if e.model == version.model and e.version == version.version and e.registration
    ]
    moved = [commit for commit in recorded if commit != version.commit]
    if moved:
        return False, (
            f"{version.tag} moved from {moved[-1][:8]} (when promoted) to {version.commit[:8]}"
        )
    return True, f"{version.tag} on {version.commit[:8]}"


def _check_remote(
    root: Path, pins: tuple[PinCheck, ...], md5s: set[str], remote: str | None
) -> list[Finding]:
    if not md5s:
        return []
    status = pipeline.check_remote_objects(root, sorted(md5s), remote=remote)
    findings: list[Finding] = []
    for env, model, version, md5 in dict.fromkeys((p.env, p.model, p.version, p.md5) for p in pins):
        if md5 in status:
            state = status[md5]
            detail = md5 if state == "ok" else f"{md5} is {state} in the DVC remote; run 'dvc push'"
            findings.append(
                Finding(
                    env=env,
                    model=model,
                    version=version,
                    check="remote",
                    ok=state == "ok",
                    detail=detail,
                )
            )
    return findings


@dataclass(frozen=True)
class GcResult:
    """What ``gc`` kept and what DVC reported."""

    kept_versions: int
    cloud: bool
    dry: bool
    output: str


def gc(
    root: str | os.PathLike[str] = ".",
    *,
    cloud: bool = False,
    remote: str | None = None,
    dry: bool = False,
) -> GcResult:
    """Collect DVC garbage, keeping the work tree, every branch and every tagged commit.

    Raises:
        RegistryError: a registered artifact is not referenced by its tag's commit
            (a moved tag), so collecting could lose it; run ``mlops verify``.
    """
    versions = load_state(root).versions()
    for version in versions:
        _check_kept(Path(root), version)
    args = ["gc", "--workspace", "--all-branches", "--all-tags", "--force"]
    args += ["--cloud"] if cloud else []
    args += ["--remote", remote] if remote else []
    args += ["--dry"] if dry else []
    try:
        output = pipeline.dvc(*args, cwd=root)
    except PipelineError as exc:
        raise RegistryError("dvc gc failed; nothing of the registry was removed") from exc
    log.info("kept the artifacts of %d registered versions", len(versions))
    return GcResult(kept_versions=len(versions), cloud=cloud, dry=dry, output=output)


def _check_kept(root: Path, version: ModelVersion) -> None:
    if version.artifact is None:
        return
    if locked_md5(root, version.commit, version.artifact.path) != version.artifact.md5:
        raise RegistryError(
            f"{version.tag}: dvc.lock at {version.commit[:8]} does not hold its artifact "
            f"{version.artifact.md5}, so 'dvc gc' could delete it; "
            "run 'mlops verify' and fix the tag"
        )
