"""The local forge's server-side hooks: what a push may do, and queueing its pipeline runs.

``pre-receive`` refuses, for the protected branches (``main``): deletion,
history rewrites, a new tip without a passing gate note from the runner,
a change to ``envs/*.yaml`` that the policies (of the old tip) block, and a
change to a protected path (policy files, roles, signers) without the
approvals the old tip's ``roles.yaml`` requires, counting SSH-signed
approval tags already there or pushed alongside. It keeps the forge's
notes out of clients' hands, accepts an approval tag only when its signed
content is the claim its name makes, and keeps registry tags immutable.
Who made a change is what the forge authenticated (signed pushes, signed
commits), never a commit's free-text author. ``post-receive`` records the
forge's receipts (pusher, receive and landing times) and queues a job per
pushed branch; the runner works.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mlops_gitops import scm
from mlops_gitops.ci.protected import Push, check_protected
from mlops_gitops.errors import GateBlocked
from mlops_gitops.forge.base import ZERO_SHA
from mlops_gitops.forge.local import LocalForge, sync_signers
from mlops_gitops.forge.queue import Job, JobQueue
from mlops_gitops.forge.receipts import PushIdentity, push_identity, record_receipts
from mlops_gitops.forge.signed_approvals import APPROVAL_PREFIX, check_approval, parse_approval_ref
from mlops_gitops.registry.versions import parse_tag_name

log = logging.getLogger(__name__)

RUNNER_NOTES = "refs/notes/mlops-"


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


@dataclass(frozen=True)
class HookOutcome:
    """What a hook tells the pusher, and whether the push is refused."""

    lines: list[str]
    refused: bool = False

    def raise_if_refused(self) -> None:
        """Raise :class:`GateBlocked` when the hook refuses the push (its lines say why)."""
        if self.refused:
            raise GateBlocked(
                f"push refused by the mlops gate ({len(self.lines)} problem(s) above)"
            )


def run_hook(
    name: str,
    text: str,
    environ: Mapping[str, str] | None = None,
    *,
    now: datetime | None = None,
) -> HookOutcome:
    """Run the server-side hook ``name`` on its standard input ``text`` and environment.

    ``environ`` defaults to a copy of this process's environment, the one git
    gives the hook.

    git runs hooks with ``GIT_DIR`` set; the hook's own git calls name the
    repository instead. The push's quarantine stays visible
    (``GIT_OBJECT_DIRECTORY``); dropping its marker lets the gate's scratch
    repository set its own refs (the forge's refs are never touched).
    """
    environ = dict(os.environ) if environ is None else environ
    git_dir = Path(environ.get("GIT_DIR", ".")).resolve()
    os.environ.pop("GIT_DIR", None)
    os.environ.pop("GIT_QUARANTINE_PATH", None)
    updates = parse_updates(text)
    forge = LocalForge(git_dir)
    identity = push_identity(environ, forge.read_signers(_protected_ref(forge)))
    if name == "post-receive":
        jobs = post_receive(git_dir, updates, pusher=identity.pusher, now=now)
        return HookOutcome(
            [f"queued the pipeline for {j.branch} @ {j.sha[:12]} (job {j.id})" for j in jobs]
        )
    problems = pre_receive(git_dir, updates, identity=identity, now=now)
    return HookOutcome(problems, refused=bool(problems))


def post_receive(
    git_dir: str | Path,
    updates: list[RefUpdate],
    *,
    pusher: str | None = None,
    now: datetime | None = None,
) -> list[Job]:
    """Record the push's receipts, then queue one pipeline run per pushed branch.

    Deletions are not queued. When a protected branch moved, the signers that
    verify the next push certificates are refreshed from it, and the landed
    tip gets the notes of the gate that let it in and of its approvals.
    """
    forge = LocalForge(git_dir)
    record_receipts(
        git_dir,
        [(u.old, u.new, u.ref) for u in updates],
        pusher=pusher,
        protected=forge.config.protected,
        now=now,
    )
    landed = [u for u in updates if u.ref == _protected_ref(forge) and not u.deleted]
    if landed:
        sync_signers(git_dir, forge.config.protected[0])
    for update in landed:
        if not update.created:
            from mlops_gitops.ci.merged import record_landed

            record_landed(Path(git_dir), update.old, update.new)
    queue = JobQueue(git_dir)
    return [
        queue.enqueue(u.ref, u.new, u.old, now=now)
        for u in updates
        if u.ref.startswith("refs/heads/") and not u.deleted
    ]


def pre_receive(
    git_dir: str | Path,
    updates: list[RefUpdate],
    *,
    identity: PushIdentity | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Return why the push must be refused (one line each); empty when it may land."""
    forge = LocalForge(git_dir)
    push = Push(
        pending={u.ref: u.new for u in updates if u.ref.startswith("refs/tags/")},
        identity=identity or PushIdentity(None, "the push is not signed"),
        now=now,
    )
    problems: list[str] = []
    for update in updates:
        problems += _check(forge, update, push)
    return problems


def _protected_ref(forge: LocalForge) -> str:
    return f"refs/heads/{forge.config.protected[0]}"


def _check(forge: LocalForge, update: RefUpdate, push: Push) -> list[str]:
    ref = update.ref
    if ref.startswith(RUNNER_NOTES):
        return [f"{ref}: reports, gate decisions and receipts are written by the forge only"]
    if ref.startswith(APPROVAL_PREFIX):
        return _check_approval_tag(forge, update)
    if ref.startswith("refs/tags/") and parse_tag_name(ref.removeprefix("refs/tags/")):
        return _check_registry_tag(forge, update)
    if forge.config.require_signed_push and push.identity.pusher is None:
        return [
            f"{ref}: this forge accepts signed pushes only ({push.identity.reason}); "
            "push with 'git push --signed' and a key of policies/allowed_signers"
        ]
    branch = ref.removeprefix("refs/heads/")
    if not ref.startswith("refs/heads/") or branch not in forge.config.protected:
        return []
    return check_protected(forge, (update.old, update.new), branch, push)


def _check_approval_tag(forge: LocalForge, update: RefUpdate) -> list[str]:
    if not update.created:
        return [f"{update.ref}: approval tags cannot be moved or deleted"]
    tag = parse_approval_ref(update.ref, update.new)
    if tag is None:
        return [f"{update.ref}: expected refs/tags/approve/<env>/<40-hex sha>/<user>"]
    with tempfile.TemporaryDirectory(prefix="mlops-signers-") as tmp:
        signers = Path(tmp) / "allowed_signers"
        signers.write_text(forge.read_signers(_protected_ref(forge)))
        _, problem = check_approval(forge.git_dir, tag, signers)
    return [f"{update.ref}: not a valid approval: {problem}"] if problem else []


def _check_registry_tag(forge: LocalForge, update: RefUpdate) -> list[str]:
    name = update.ref.removeprefix("refs/tags/")
    if not update.created:
        verb = "deleted" if update.deleted else "moved"
        return [
            f"{update.ref}: registry tags are immutable and cannot be {verb}; "
            "register a new version (or deprecate this one with its own tag)"
        ]
    kind = scm.git("cat-file", "-t", update.new, cwd=forge.git_dir, check=False).strip()
    if kind != "tag":
        return [f"{update.ref}: a registry tag must be an annotated tag ('mlops register')"]
    header = scm.git("cat-file", "tag", update.new, cwd=forge.git_dir).partition("\n\n")[0]
    signed_name = next((line[4:] for line in header.splitlines() if line.startswith("tag ")), "")
    if signed_name != name:
        return [f"{update.ref}: the tag object is named {signed_name!r}, not {name!r}"]
    return []
