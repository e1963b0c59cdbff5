"""What a push to a protected branch of the local forge must show before it lands.

A fast-forward of ``main`` lands when the runner's gate passed its tip (a
training change) or the promotion gate passes it now (a change to
``envs/*.yaml``), and when it has the approvals the old tip's
``policies/roles.yaml`` requires for the files it changes: policy files,
roles, signers and every edited environment manifest. Approvals count only
for a change whose makers the forge knows: the pusher of each commit (a
signed push certificate, recorded in the forge's receipts) or the commit's
own verified signature. A commit's free-text author still counts as an
author (it can only take an approval away, never add one).
"""

from __future__ import annotations

import fnmatch
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_gitops import scm
from mlops_gitops.errors import MlopsError, format_chain
from mlops_gitops.forge.base import ZERO_SHA, ChangeRef
from mlops_gitops.forge.local import LocalForge
from mlops_gitops.forge.receipts import PushIdentity, read_receipts

if TYPE_CHECKING:
    from mlops_gitops.ci.gate_status import ForgeApprovals

log = logging.getLogger(__name__)

ENV_MANIFESTS = "envs/*.yaml"
ENVIRONMENTS_FILE = "envs/environments.yaml"


@dataclass(frozen=True)
class Push:
    """One push: the tags it brings, who the forge says pushed it, and the clock."""

    pending: dict[str, str] = field(default_factory=dict)
    identity: PushIdentity = field(default_factory=lambda: PushIdentity(None))
    now: datetime | None = None


@dataclass(frozen=True)
class Makers:
    """Who made the commits of a change, as far as the forge can vouch for it."""

    identities: tuple[str, ...]
    unattributed: tuple[str, ...]


def check_protected(forge: LocalForge, span: tuple[str, str], branch: str, push: Push) -> list[str]:
    """Return why moving the protected ``branch`` from ``span[0]`` to ``span[1]`` must be
    refused (empty: it may land)."""
    old, new = span
    if new == ZERO_SHA:
        return [f"{branch}: a protected branch cannot be deleted"]
    if old == ZERO_SHA:
        return []
    if not scm.git_ok("merge-base", "--is-ancestor", old, new, cwd=forge.git_dir):
        return [f"{branch}: history rewrite refused; push a fast-forward or a merge"]
    changed = scm.git("diff", "--name-only", old, new, cwd=forge.git_dir).splitlines()
    envs = sorted(
        p.removeprefix("envs/").removesuffix(".yaml")
        for p in changed
        if fnmatch.fnmatch(p, ENV_MANIFESTS) and p != ENVIRONMENTS_FILE
    )
    makers = change_makers(forge, old, new, push.identity)
    if envs:
        problems: list[str] = []
        for env in envs:
            problems += _promotion_gate(
                forge, (old, new), branch, env=env, push=push, makers=makers
            )
        return problems
    return _gate_note(forge, new, branch) + _path_approvals(
        forge, (old, new), branch, changed=changed, push=push, makers=makers
    )


def change_makers(forge: LocalForge, old: str, new: str, identity: PushIdentity) -> Makers:
    """Return the identities that made ``old..new`` and the commits no one can be tied to.

    Each commit's makers are its recorded pusher (or this push's, for a
    commit the forge has not seen yet), its verified signer, and the e-mails
    it claims; a commit with neither a known pusher nor a good signature is
    unattributed.
    """
    receipts = read_receipts(forge.git_dir)
    with tempfile.TemporaryDirectory(prefix="mlops-signers-") as tmp:
        signers = Path(tmp) / "allowed_signers"
        signers.write_text(forge.read_signers(old))
        out = scm.git(
            "-c", f"gpg.ssh.allowedSignersFile={signers}",
            "log", "--format=%H%x1f%G?%x1f%GS%x1f%ae%x1f%ce", f"{old}..{new}",
            cwd=forge.git_dir,
        )  # fmt: skip
    identities: set[str] = set()
    unattributed: list[str] = []
    for line in out.splitlines():
        sha, status, signer, author, committer = line.split("\x1f")
        receipt = receipts.get(sha)
        vouched = {receipt.pusher if receipt else identity.pusher}
        vouched |= {signer} if status == "G" else set()
        vouched.discard(None)
        vouched.discard("")
        if not vouched:
            unattributed.append(sha)
        identities |= {str(v) for v in vouched} | {author.lower(), committer.lower()}
    return Makers(tuple(sorted(identities - {""})), tuple(unattributed))


def _gate_note(forge: LocalForge, new: str, branch: str) -> list[str]:
    gate = forge.read_gate(ChangeRef(new, branch))
    if gate is None:
        return [
            f"{branch}: {new[:12]} has no gate decision yet; push it to a branch, "
            "let the runner train it ('mlops runner'), then fast-forward"
        ]
    if gate.decision in ("pass", "warn"):
        return []
    results = gate.data.get("results") if isinstance(gate.data, dict) else None
    blocking = [r for r in results or [] if r.get("outcome") == "block"]
    if gate.decision == "block" and blocking and all(map(_judges_approvals, blocking)):
        # approvals arrive after training; this push's approvals are judged below
        return []
    return [f"{branch}: the gate {gate.decision}s {new[:12]}: {gate.summary}"]


def _judges_approvals(result: dict[str, object]) -> bool:
    """Whether a rule result only compared approvals (re-judged at push time)."""
    values = result.get("values")
    return (
        isinstance(values, dict)
        and bool(values)
        and all(str(k).startswith("approvals.") for k in values)
    )


def _provider(
    forge: LocalForge, old: str, push: Push, *, makers: Makers, env: str | None
) -> ForgeApprovals:
    from mlops_gitops.ci.gate_status import ForgeApprovals

    approvals = forge.approvals_for(old, pending=push.pending)
    return ForgeApprovals(
        approvals, env=env, authors=makers.identities, unattributed=makers.unattributed
    )


def _path_approvals(
    forge: LocalForge,
    span: tuple[str, str],
    branch: str,
    *,
    changed: list[str],
    push: Push,
    makers: Makers,
) -> list[str]:
    """Check the approvals the old tip's roles.yaml requires for the changed paths."""
    from mlops_gitops.policies.approvals import Roles, assess_approvals
    from mlops_gitops.policies.builtin import judge_roles_approvals
    from mlops_gitops.policies.source import PolicyError, parse_document, validate

    old, new = span
    text = scm.show_file(old, "policies/roles.yaml", forge.git_dir)
    try:
        doc = parse_document(text or "", f"{old[:8]}:policies/roles.yaml")
        roles = validate(Roles, doc, data={} if doc.data is None else doc.data)
    except PolicyError as exc:
        return [f"{branch}: the approvals cannot be judged: {format_chain(exc)}"]
    provider = _provider(forge, old, push, makers=makers, env=None)
    approvals = assess_approvals(
        roles,
        [provider.read_approvals(forge.git_dir, new)],
        head=new,
        authors=makers.identities,
        changed_files=changed,
    )
    result = judge_roles_approvals(approvals)
    if result is None or result.outcome == "pass":
        return []
    return [f"{branch}: {new[:12]} changes protected paths without approvals: {result.message}"]


def _promotion_gate(
    forge: LocalForge,
    span: tuple[str, str],
    branch: str,
    *,
    env: str,
    push: Push,
    makers: Makers,
) -> list[str]:
    from mlops_gitops.ci.gate_status import evaluate_gate

    old, new = span
    # an approval tag of another environment (staging) is no approval of this one (prod)
    provider = _provider(forge, old, push, makers=makers, env=env)
    with tempfile.TemporaryDirectory(prefix="mlops-pre-receive-") as tmp:
        work = materialise(forge, span, branch, Path(tmp) / "work", pending=push.pending)
        try:
            outcome = evaluate_gate(
                work,
                base=branch,
                branch=branch,
                environment=env,
                approvals=[provider],
                now=push.now,
            )
        except MlopsError as exc:
            return [f"{branch}: the promotion gate could not decide: {format_chain(exc)}"]
    if outcome.status.decision == "block":
        lines = [
            f"{branch}: promotion to {env} blocked by the policies of {old[:12]}: "
            f"{outcome.status.summary}"
        ]
        lines += [
            f"  {row.rule}: {row.message}" for row in outcome.policies if row.outcome == "fail"
        ]
        return lines
    log.info("%s: promotion %s to %s allowed (%s)", branch, new[:12], env, outcome.status.summary)
    from mlops_gitops.ci.merged import stash_decision

    stash_decision(forge.git_dir, ChangeRef(new, branch), outcome.status)
    return []


def materialise(
    forge: LocalForge, span: tuple[str, str], branch: str, work: Path, *, pending: dict[str, str]
) -> Path:
    """Check out the pushed tip in a scratch repository that borrows the forge's objects,
    tags and receipts.

    In a hook, git points every process at the push's quarantine through the
    environment, so the scratch repository sees the pushed objects too.
    Commit signatures verify against the allowed signers of the old tip.
    """
    from mlops_gitops.registry.graph import RECEIPTS_REF

    old, new = span
    git_dir = forge.git_dir
    scm.git("init", "-q", "-b", "scratch", str(work))
    signers = work / ".git" / "allowed_signers"
    signers.write_text(forge.read_signers(old))
    scm.git("config", "gpg.ssh.allowedSignersFile", str(signers), cwd=work)
    alternates = work / ".git" / "objects" / "info" / "alternates"
    alternates.parent.mkdir(parents=True, exist_ok=True)  # absent when git runs in a quarantine
    alternates.write_text(f"{Path(git_dir).resolve() / 'objects'}\n")
    refs = dict(
        line.split(" ", 1)[::-1]
        for line in scm.git(
            "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags/", RECEIPTS_REF,
            cwd=git_dir,
        ).splitlines()
    )  # fmt: skip
    refs.update({ref: oid for ref, oid in pending.items() if ref.startswith("refs/tags/")})
    lines = [f"create {ref} {oid}" for ref, oid in sorted(refs.items()) if oid != ZERO_SHA]
    lines.append(f"create refs/heads/{branch} {old}")
    scm.git("update-ref", "--stdin", cwd=work, input="\n".join(lines) + "\n")
    scm.git("checkout", "-q", "--detach", new, cwd=work)
    return work
