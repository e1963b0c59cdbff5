"""What the local forge itself saw: who pushed each commit and when it landed on main.

A commit's author and committer dates and e-mails are free text that anyone
sets; the forge's own receive time and the pusher it authenticated are not.
The post-receive hook records them as JSON notes on
``refs/notes/mlops-received`` (a ref only the forge writes):

- ``received_at`` / ``pusher`` / ``ref``: when and by whom the commit first
  reached the forge, and through which ref;
- ``landed_at`` / ``landed_by``: when a main-line commit became part of the
  protected branch (the time soak and ordering are measured from).

The pusher is the principal of a signed push certificate (``git push
--signed`` with an SSH key of ``policies/allowed_signers`` on main), which
``git receive-pack`` verifies against :data:`SIGNERS_FILE` and a nonce of its
own; an unsigned push has no pusher.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from mlops_gitops import scm
from mlops_gitops.forge.base import ZERO_SHA
from mlops_gitops.forge.notes import write_notes
from mlops_gitops.registry.graph import RECEIPTS_REF as RECEIVED_REF

log = logging.getLogger(__name__)

RUNNER_PUSHER = "mlops-runner@localhost"
"""The pusher of the commits the runner itself adds (``dvc.lock`` and metrics)."""
SIGNERS_FILE = "mlops-allowed-signers"
"""The forge's copy of main's ``policies/allowed_signers``: push certificates verify against it."""


@dataclass(frozen=True)
class PushIdentity:
    """Who pushed, as ``git receive-pack`` verified the push certificate (None: unsigned)."""

    pusher: str | None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Receipt:
    """The forge's record of one commit."""

    commit: str
    received_at: str
    pusher: str | None
    ref: str
    landed_at: str | None = None
    landed_by: str | None = None


def push_identity(environ: Mapping[str, str], signers: str) -> PushIdentity:
    """Return the pusher from git's ``GIT_PUSH_CERT_*`` variables and the trusted signers.

    The certificate counts only when git verified its signature (``G``), its
    nonce is the one this forge issued (``OK``: no replay) and its principal
    is listed in ``signers`` (main's allowed signers).
    """
    if not environ.get("GIT_PUSH_CERT"):
        return PushIdentity(None, "the push is not signed")
    status = environ.get("GIT_PUSH_CERT_STATUS", "")
    nonce = environ.get("GIT_PUSH_CERT_NONCE_STATUS", "")
    principal = environ.get("GIT_PUSH_CERT_SIGNER", "")
    if status != "G":
        return PushIdentity(None, f"the push certificate's signature is not good ({status or '?'})")
    if nonce != "OK":
        return PushIdentity(None, f"the push certificate's nonce is {nonce or 'missing'}")
    if principal not in principals(signers):
        return PushIdentity(None, f"{principal} is not in main's policies/allowed_signers")
    return PushIdentity(principal)


def principals(signers: str) -> set[str]:
    """Return the principals an ``allowed_signers`` text lists."""
    names: set[str] = set()
    for raw in signers.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            names.update(p for p in line.split()[0].split(",") if p)
    return names


def read_receipts(git_dir: str | os.PathLike[str]) -> dict[str, Receipt]:
    """Return every commit's receipt (empty when the forge recorded none)."""
    receipts: dict[str, Receipt] = {}
    for commit, text in scm.read_notes(RECEIVED_REF, git_dir).items():
        try:
            data = json.loads(text)
            receipts[commit] = Receipt(commit=commit, **data)
        except (json.JSONDecodeError, TypeError) as exc:
            log.warning("%s note of %s is not a receipt (%s); ignored", RECEIVED_REF, commit, exc)
    return receipts


def record_receipts(
    git_dir: str | os.PathLike[str],
    updates: Iterable[tuple[str, str, str]],
    *,
    pusher: str | None,
    protected: Iterable[str] = ("main",),
    now: datetime | None = None,
) -> int:
    """Record the commits a push brought and the main-line commits it landed; return how many.

    Args:
        updates: the push's ``(old, new, ref)`` lines, after the refs moved.
        pusher: the verified pusher of the push (None for an unsigned push).
        protected: the branches whose first-parent commits *land* when they move.
    """
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    known = read_receipts(git_dir)
    branches = {f"refs/heads/{name}" for name in protected}
    changed: dict[str, Receipt] = {}
    for old, new, ref in updates:
        if new == ZERO_SHA or not _is_commit(git_dir, new):
            continue
        for commit in _introduced(git_dir, old, new):
            if commit not in known and commit not in changed:
                changed[commit] = Receipt(commit=commit, received_at=stamp, pusher=pusher, ref=ref)
        if ref in branches:
            for commit in _first_parents(git_dir, old, new):
                base = (
                    changed.get(commit)
                    or known.get(commit)
                    or Receipt(commit=commit, received_at=stamp, pusher=None, ref=ref)
                )
                if base.landed_at is None:
                    changed[commit] = _landed(base, stamp, pusher)
    if changed:
        notes = {c: json.dumps(_fields(r), sort_keys=True) + "\n" for c, r in changed.items()}
        write_notes(git_dir, RECEIVED_REF, notes, message=f"mlops: {len(notes)} receipt(s)")
    return len(changed)


def _landed(receipt: Receipt, stamp: str, pusher: str | None) -> Receipt:
    return Receipt(
        commit=receipt.commit,
        received_at=receipt.received_at,
        pusher=receipt.pusher,
        ref=receipt.ref,
        landed_at=stamp,
        landed_by=pusher,
    )


def _fields(receipt: Receipt) -> dict[str, str | None]:
    return {
        "received_at": receipt.received_at,
        "pusher": receipt.pusher,
        "ref": receipt.ref,
        "landed_at": receipt.landed_at,
        "landed_by": receipt.landed_by,
    }


def _is_commit(git_dir: str | os.PathLike[str], sha: str) -> bool:
    return scm.git("cat-file", "-t", sha, cwd=git_dir, check=False).strip() == "commit"


def _introduced(git_dir: str | os.PathLike[str], old: str, new: str) -> list[str]:
    bounds = [new] if old == ZERO_SHA else [new, f"^{old}"]
    return scm.git("rev-list", *bounds, cwd=git_dir).split()


def _first_parents(git_dir: str | os.PathLike[str], old: str, new: str) -> list[str]:
    bounds = [new] if old == ZERO_SHA else [new, f"^{old}"]
    return scm.git("rev-list", "--first-parent", *bounds, cwd=git_dir).split()


def landing_times(git_dir: str | os.PathLike[str]) -> dict[str, datetime]:
    """Return when each main-line commit landed, as the forge recorded it."""
    return {
        commit: datetime.fromisoformat(r.landed_at)
        for commit, r in read_receipts(git_dir).items()
        if r.landed_at
    }
