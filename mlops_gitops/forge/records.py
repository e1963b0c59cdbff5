"""Records kept in Git on every forge: gate decisions, evidence, approvals, bot records.

Each is a note on the commit it is about, under its own ``refs/notes/mlops-*``
ref, so a clone that fetches ``+refs/notes/mlops-*:refs/notes/mlops-*`` (``mlops
forge track``) holds them all. The local forge writes them into its bare
repository; a hosted forge (GitHub) receives them by ``git push`` from the CI
checkout, which fetches the remote's notes, writes its notes on top and pushes
without force, retrying when a concurrent writer moved the ref first. Bot
records (monitoring history, deploy renders) are folders kept in the notes
tree beside the note, never commits to a protected branch.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlops_gitops import scm
from mlops_gitops.forge.base import ChangeRef, ForgeError, GateStatus
from mlops_gitops.forge.notes import write_notes

log = logging.getLogger(__name__)

GATE_REF = "refs/notes/mlops-gate"
EVIDENCE_REF = "refs/notes/mlops-evidence"
APPROVALS_REF = "refs/notes/mlops-approvals"
RECORD_REFS = {
    "monitoring": "refs/notes/mlops-monitoring",
    "deploy": "refs/notes/mlops-deploy",
}
FETCHED = "refs/mlops-fetched/"
ATTEMPTS = 5


@dataclass(frozen=True)
class NoteUpdate:
    """Notes to set under one ref (replacing a note of the same commit), files beside them."""

    ref: str
    notes: Mapping[str, str]
    files: Mapping[str, bytes] = field(default_factory=dict)
    message: str = "mlops: note"


def gate_note_text(target: ChangeRef, gate: GateStatus) -> str:
    """Return the JSON gate note of ``target.sha`` (what ``mlops audit`` and the hooks read)."""
    body = {
        "decision": gate.decision,
        "state": gate.state,
        "summary": gate.summary,
        "sha": target.sha,
        "branch": target.branch,
        "details": gate.details,
        "data": dict(gate.data),
    }
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def gate_updates(target: ChangeRef, gate: GateStatus) -> list[NoteUpdate]:
    """Return the notes of a gate decision: the decision, and its evidence record when known."""
    message = f"mlops: gate {gate.decision} for {target.sha[:12]}"
    updates = [NoteUpdate(GATE_REF, {target.sha: gate_note_text(target, gate)}, message=message)]
    if gate.evidence:
        text = gate.evidence if gate.evidence.endswith("\n") else gate.evidence + "\n"
        updates.append(NoteUpdate(EVIDENCE_REF, {target.sha: text}, message=message))
    return updates


def write_updates(git_dir: str | os.PathLike[str], updates: Sequence[NoteUpdate]) -> None:
    """Write ``updates`` into the repository ``git_dir`` (one notes commit per ref)."""
    for update in updates:
        write_notes(git_dir, update.ref, update.notes, files=update.files, message=update.message)


def push_notes(
    repo: str | os.PathLike[str],
    updates: Sequence[NoteUpdate],
    *,
    remote: str = "origin",
    token: str | None = None,
) -> None:
    """Write ``updates`` on top of ``remote``'s notes in ``repo`` and push them there.

    Each attempt fetches the remote's ``refs/notes/mlops-*``, rebuilds the
    local refs from them, adds the notes and pushes all refs atomically
    without force; a writer that got there first makes the push fail, and
    the next attempt starts again from its notes.

    Raises:
        ForgeError: the remote kept moving, or refused the notes.
    """
    auth = _auth(token)
    refs = sorted({u.ref for u in updates})
    last = ""
    for attempt in range(ATTEMPTS):
        fetched = _fetch_notes(repo, remote, auth)
        for ref in refs:
            tip = fetched.get(ref)
            if tip:
                scm.git("update-ref", ref, tip, cwd=repo)
            else:
                scm.git("update-ref", "-d", ref, cwd=repo, check=False)
        write_updates(repo, updates)
        code, _, err = scm.git_status(
            *auth, "push", "-q", "--atomic", remote, *(f"{r}:{r}" for r in refs), cwd=repo
        )
        if code == 0:
            log.info("pushed %s to %s", ", ".join(refs), remote)
            return
        last = err.strip().splitlines()[-1] if err.strip() else f"exit {code}"
        log.info("pushing the notes failed (attempt %d): %s; retrying", attempt + 1, last)
    raise ForgeError(f"{remote}: could not push {', '.join(refs)}: {last}")


def fetch_notes(
    repo: str | os.PathLike[str], *, remote: str = "origin", token: str | None = None
) -> list[str]:
    """Fetch every ``refs/notes/mlops-*`` of ``remote`` into ``repo``; return the refs."""
    fetched = _fetch_notes(repo, remote, _auth(token))
    for ref, tip in fetched.items():
        scm.git("update-ref", ref, tip, cwd=repo)
    return sorted(fetched)


def _fetch_notes(
    repo: str | os.PathLike[str], remote: str, auth: tuple[str, ...]
) -> dict[str, str]:
    spec = f"+refs/notes/mlops-*:{FETCHED}notes/mlops-*"
    code, _, err = scm.git_status(*auth, "fetch", "-q", "--no-tags", remote, spec, cwd=repo)
    if code != 0:
        raise ForgeError(f"{remote}: fetching the notes failed: {err.strip()[-300:]}")
    out = scm.git("for-each-ref", "--format=%(objectname) %(refname)", FETCHED, cwd=repo)
    found = {}
    for line in out.splitlines():
        oid, name = line.split(" ", 1)
        found["refs/" + name.removeprefix(FETCHED)] = oid
        scm.git("update-ref", "-d", name, cwd=repo)
    return found


def _auth(token: str | None) -> tuple[str, ...]:
    """Authenticate as GitHub Actions' checkout does (an ``http.extraheader``), if a token."""
    if not token:
        return ()
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return ("-c", f"http.extraheader=AUTHORIZATION: basic {basic}")


def read_note_text(repo: str | os.PathLike[str], ref: str, sha: str) -> str | None:
    """Return the note of ``sha`` under ``ref`` in ``repo``, else in its local forge, or None."""
    from mlops_gitops.errors import MlopsError
    from mlops_gitops.forge import find_local_remote

    places: list[str | os.PathLike[str]] = [repo]
    with contextlib.suppress(MlopsError):  # a hosted forge: only the clone's own notes
        places.append(find_local_remote(repo))
    for place in places:
        code, out, _ = scm.git_status("notes", f"--ref={ref}", "show", sha, cwd=place)
        if code == 0:
            return out
    return None


def folder_update(root: Path, folder: str, kind: str, sha: str) -> NoteUpdate:
    """Return the note of a bot record: every file of ``root/folder`` kept beside it.

    The note on ``sha`` (the commit the record is about) lists the files; the
    files sit at their repository paths in the notes tree, so the latest
    state of the folder is the ref's tree and its history is the ref's log.

    Raises:
        ForgeError: ``kind`` is unknown or the folder holds no file.
    """
    ref = _record_ref(kind)
    base = root / folder
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(base.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }
    if not files:
        raise ForgeError(f"{folder}: no file to record; run the step that writes it first")
    note = json.dumps({"kind": kind, "folder": folder, "files": sorted(files)}, indent=2)
    return NoteUpdate(ref, {sha: note + "\n"}, files, f"mlops: {kind} record of {sha[:12]}")


def restore_folder(root: Path, folder: str, kind: str) -> list[str]:
    """Write the recorded files of ``folder`` (from the ``kind`` notes ref) into ``root``.

    Returns:
        the paths written (none when nothing was recorded yet).
    """
    ref = _record_ref(kind)
    if not scm.git_ok("rev-parse", "--verify", "--quiet", f"{ref}^{{tree}}", cwd=root):
        return []
    code, out, _ = scm.git_status(
        "ls-tree", "-r", "-z", "--full-tree", ref, "--", folder.rstrip("/") + "/", cwd=root
    )
    written = []
    for entry in filter(None, out.split("\0") if code == 0 else []):
        meta, path = entry.split("\t", 1)
        if meta.split()[1] != "blob":
            continue
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(scm.git_bytes("cat-file", "blob", meta.split()[2], cwd=root))
        written.append(path)
    return written


def _record_ref(kind: str) -> str:
    if kind not in RECORD_REFS:
        raise ForgeError(f"unknown record kind '{kind}'; expected one of {', '.join(RECORD_REFS)}")
    return RECORD_REFS[kind]
