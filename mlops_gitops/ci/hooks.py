"""The local forge's server-side hooks: what a push may do, and queueing its pipeline runs.

``pre-receive`` refuses, for the protected branches (``main``): deletion,
history rewrites, a new tip without a passing gate note from the runner,
and a change to ``envs/*.yaml`` that the policies (of the old tip) block,
counting SSH-signed approval tags already there or pushed alongside. It
also keeps the runner's notes and the approval tags out of clients' hands.
``post-receive`` only queues a job per pushed branch; the runner works.
"""

from __future__ import annotations

import fnmatch
import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mlops_gitops import scm
from mlops_gitops.errors import MlopsError, format_chain
from mlops_gitops.forge.approvals import APPROVAL_PREFIX, parse_approval_ref
from mlops_gitops.forge.base import ZERO_SHA, Target
from mlops_gitops.forge.local import LocalForge
from mlops_gitops.forge.queue import Job, JobQueue

log = logging.getLogger(__name__)

RUNNER_NOTES = "refs/notes/mlops-"
ENV_MANIFESTS = "envs/*.yaml"
ENVIRONMENTS_FILE = "envs/environments.yaml"


@dataclass(frozen=True)
class RefUpdate:
    """One line of a hook's input: ``<old> <new> <ref>``."""

    old: str
    new: str
    ref: str

    @property
    def deleted(self) -> bool:
        return self.new == ZERO_SHA

    @property
    def created(self) -> bool:
        return self.old == ZERO_SHA


def parse_updates(text: str) -> list[RefUpdate]:
    """Parse a hook's standard input."""
    updates = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            updates.append(RefUpdate(*parts))
    return updates


def post_receive(
    git_dir: str | Path, updates: list[RefUpdate], *, now: datetime | None = None
) -> list[Job]:
    """Queue one pipeline run per pushed branch (deletions are not queued)."""
    queue = JobQueue(git_dir)
    return [
        queue.enqueue(u.ref, u.new, u.old, now=now)
        for u in updates
        if u.ref.startswith("refs/heads/") and not u.deleted
    ]


def pre_receive(
    git_dir: str | Path, updates: list[RefUpdate], *, now: datetime | None = None
) -> list[str]:
    """Return why the push must be refused (one line each); empty when it may land."""
    forge = LocalForge(git_dir)
    pending = {u.ref: u.new for u in updates if u.ref.startswith("refs/tags/")}
    problems: list[str] = []
    for update in updates:
        problems += _check(forge, update, pending, now)
    return problems


def _check(
    forge: LocalForge, update: RefUpdate, pending: dict[str, str], now: datetime | None
) -> list[str]:
    ref = update.ref
    if ref.startswith(RUNNER_NOTES):
        return [f"{ref}: reports and gate decisions are written by the runner only"]
    if ref.startswith(APPROVAL_PREFIX):
        return _check_approval_tag(update)
    branch = ref.removeprefix("refs/heads/")
    if not ref.startswith("refs/heads/") or branch not in forge.config.protected:
        return []
    return _check_protected(forge, update, branch, pending=pending, now=now)


def _check_approval_tag(update: RefUpdate) -> list[str]:
    if not update.created:
        return [f"{update.ref}: approval tags cannot be moved or deleted"]
    if parse_approval_ref(update.ref, update.new) is None:
        return [f"{update.ref}: expected refs/tags/approve/<env>/<40-hex sha>/<user>"]
    return []


def _check_protected(
    forge: LocalForge,
    update: RefUpdate,
    branch: str,
    *,
    pending: dict[str, str],
    now: datetime | None,
) -> list[str]:
    if update.deleted:
        return [f"{branch}: a protected branch cannot be deleted"]
    if update.created:
        return []
    if not scm.git_ok("merge-base", "--is-ancestor", update.old, update.new, cwd=forge.git_dir):
        return [f"{branch}: history rewrite refused; push a fast-forward or a merge"]
    if _touches_manifests(forge.git_dir, update):
        return _promotion_gate(forge, update, branch, pending=pending, now=now)
    return _gate_note(forge, update, branch)


def _touches_manifests(git_dir: Path, update: RefUpdate) -> bool:
    changed = scm.git("diff", "--name-only", update.old, update.new, cwd=git_dir).splitlines()
    return any(fnmatch.fnmatch(p, ENV_MANIFESTS) and p != ENVIRONMENTS_FILE for p in changed)


def _gate_note(forge: LocalForge, update: RefUpdate, branch: str) -> list[str]:
    gate = forge.read_gate(Target(update.new, branch))
    if gate is None:
        return [
            f"{branch}: {update.new[:12]} has no gate decision yet; push it to a branch, "
            "let the runner train it ('mlops runner'), then fast-forward"
        ]
    if gate.decision not in ("pass", "warn"):
        return [f"{branch}: the gate {gate.decision}s {update.new[:12]}: {gate.summary}"]
    return []


def _promotion_gate(
    forge: LocalForge,
    update: RefUpdate,
    branch: str,
    *,
    pending: dict[str, str],
    now: datetime | None,
) -> list[str]:
    from mlops_gitops.ci.deploy import changed_environments
    from mlops_gitops.ci.gate import ForgeApprovals, evaluate_gate

    approvals = forge.approvals_for(update.old, pending=pending)
    author = scm.git("show", "-s", "--format=%ae", update.new, cwd=forge.git_dir).strip()
    # an approval tag of another environment (staging) is no approval of this one (prod)
    envs = changed_environments(forge.git_dir, update.old, update.new)
    provider = ForgeApprovals(approvals, env=envs, author=author)
    with tempfile.TemporaryDirectory(prefix="mlops-pre-receive-") as tmp:
        work = _materialise(forge, update, branch, Path(tmp) / "work", pending=pending)
        try:
            outcome = evaluate_gate(
                work,
                base=branch,
                branch=branch,
                approvals=[provider],
                now=now,
            )
        except MlopsError as exc:
            return [f"{branch}: the promotion gate could not decide: {format_chain(exc)}"]
    if outcome.status.decision == "block":
        policies = update.old[:12]
        lines = [
            f"{branch}: promotion blocked by the policies of {policies}: {outcome.status.summary}"
        ]
        lines += [
            f"  {row.rule}: {row.message}" for row in outcome.policies if row.outcome == "fail"
        ]
        return lines
    log.info("%s: promotion %s allowed (%s)", branch, update.new[:12], outcome.status.summary)
    return []


def _materialise(
    forge: LocalForge, update: RefUpdate, branch: str, work: Path, *, pending: dict[str, str]
) -> Path:
    """Check out the pushed tip in a scratch repository that borrows the forge's objects and tags.

    In a hook, git points every process at the push's quarantine through the
    environment, so the scratch repository sees the pushed objects too.
    Commit signatures verify against the allowed signers of the old tip.
    """
    git_dir = forge.git_dir
    scm.git("init", "-q", "-b", "scratch", str(work))
    signers = work / ".git" / "allowed_signers"
    signers.write_text(forge.read_signers(update.old))
    scm.git("config", "gpg.ssh.allowedSignersFile", str(signers), cwd=work)
    alternates = work / ".git" / "objects" / "info" / "alternates"
    alternates.parent.mkdir(parents=True, exist_ok=True)  # absent when git runs in a quarantine
    alternates.write_text(f"{Path(git_dir).resolve() / 'objects'}\n")
    tags = dict(
        line.split(" ", 1)[::-1]
        for line in scm.git(
            "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags/", cwd=git_dir
        ).splitlines()
    )
    tags.update({ref: new for ref, new in pending.items() if ref.startswith("refs/tags/")})
    lines = [f"create {ref} {oid}" for ref, oid in sorted(tags.items()) if oid != ZERO_SHA]
    lines.append(f"create refs/heads/{branch} {update.old}")
    scm.git("update-ref", "--stdin", cwd=work, input="\n".join(lines) + "\n")
    scm.git("checkout", "-q", "--detach", update.new, cwd=work)
    return work
