"""Where audit events come from besides the registry: waivers, gate notes, approvals, PRs.

Each reader makes a fixed number of git calls however long the history is:
one ``git log`` of ``policies/waivers.yaml`` and one ``cat-file --batch`` of
its versions (:func:`mlops_gitops.yamlhistory.read_item_changes`); one
``notes list`` of the gate ref and one batch of the notes (read from the
repository, else from its local forge); one ``for-each-ref`` of the approval
tags; one ``git log`` of the main line's subjects for pull-request numbers.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from mlops_gitops import scm
from mlops_gitops.errors import MlopsError
from mlops_gitops.registry.graph import parse_time
from mlops_gitops.yamlhistory import ItemChange, read_item_changes

log = logging.getLogger(__name__)

WAIVERS_FILE = "policies/waivers.yaml"
GATE_REF = "refs/notes/mlops-gate"
APPROVALS_REF = "refs/notes/mlops-approvals"
APPROVAL_REFS = "refs/tags/approve/"
APPROVAL_FIELDS = (
    "%(refname)",
    "%(objectname)",
    "%(taggername)",
    "%(taggerdate:iso-strict)",
    "%(creatordate:iso-strict)",
)
_PR = re.compile(r"^Merge pull request #(\d+)\b|\(#(\d+)\)\s*$")
_LOG = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%cI"


@dataclass(frozen=True, kw_only=True)
class WaiverChange:
    """A waiver added, changed or removed by a commit of ``policies/waivers.yaml``."""

    action: str
    waiver: dict[str, Any]
    commit: str
    author: str
    email: str
    date: str
    path: str


@dataclass(frozen=True, kw_only=True)
class GateNote:
    """A gate decision noted on a commit."""

    commit: str
    decision: str
    summary: str
    branch: str | None
    data: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ApprovalRecord:
    """An approval: an approval tag, or one that counted when a change merged (a note)."""

    tag: str
    env: str
    commit: str
    user: str
    tagger: str
    date: str
    source: str = "ssh-signed-tag"
    state: str = "APPROVED"
    teams: tuple[str, ...] = ()
    merge: str | None = None


def utc_text(value: str) -> str:
    """Return an ISO date or time as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    return parse_time(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def waivers_path(root: str | os.PathLike[str]) -> str:
    """Return the tracked path of the waivers file (following a ``policies`` symlink)."""
    folder = Path(root) / "policies"
    if folder.is_symlink():
        try:
            real = folder.resolve().relative_to(Path(root).resolve())
        except ValueError:
            return WAIVERS_FILE
        return f"{real.as_posix()}/waivers.yaml"
    return WAIVERS_FILE


def read_waiver_changes(root: str | os.PathLike[str], rev: str) -> list[WaiverChange]:
    """Return every waiver change in the history of ``rev``, oldest commit first."""
    path = waivers_path(root)
    out = scm.git("log", "--reverse", "--no-merges", f"--format={_LOG}", rev, "--", path, cwd=root)
    commits = {c[0]: c for c in (r.strip("\n").split("\x1f") for r in out.split("\x1e")[1:])}
    touched = [(sha, c[1].split()[0] if c[1] else None, path) for sha, c in commits.items()]
    changes: list[WaiverChange] = []
    for change in read_item_changes(root, touched, items=_waivers_of):
        _, _, author, email, date = commits[change.commit]
        action, waiver = _action(change)
        changes.append(
            WaiverChange(
                action=action,
                waiver=waiver,
                commit=change.commit,
                author=author,
                email=email,
                date=date,
                path=path,
            )
        )
    return changes


def _waivers_of(data: Any) -> dict[str, dict[str, Any]]:
    items = data.get("waivers") if isinstance(data, dict) else None
    return {
        str(w["id"]): w for w in (items or []) if isinstance(w, dict) and w.get("id") is not None
    }


def _action(change: ItemChange) -> tuple[str, dict[str, Any]]:
    if change.before is None:
        return "waiver-add", change.after
    if change.after is None:
        return "waiver-remove", change.before
    return "waiver-change", change.after


def read_gate_notes(root: str | os.PathLike[str]) -> list[GateNote]:
    """Return the gate decisions noted in the repository (else in its local forge)."""
    for place in _note_places(root):
        code, out, _ = scm.git_status("notes", f"--ref={GATE_REF}", "list", cwd=place)
        if code == 0 and out.strip():
            return _parse_notes(place, out)
    return []


def _note_places(root: str | os.PathLike[str]) -> list[Path]:
    places = [Path(root)]
    try:
        from mlops_gitops.forge import find_local_remote

        places.append(find_local_remote(root))
    except MlopsError:
        pass  # no local forge: the repository's own notes are all there is
    return places


def _parse_notes(place: Path, listing: str) -> list[GateNote]:
    pairs = [line.split() for line in listing.splitlines() if line.strip()]
    blobs = {blob: commit for blob, commit in pairs}
    notes: list[GateNote] = []
    for blob, _, content in scm.cat_file_batch(sorted(blobs), place):
        try:
            data = json.loads(content or b"")
        except json.JSONDecodeError:
            log.warning("%s note %s: not a gate decision; left out", GATE_REF, blob[:12])
            continue
        if not isinstance(data, dict) or "decision" not in data:
            continue
        notes.append(
            GateNote(
                commit=blobs[blob],
                decision=str(data["decision"]),
                summary=str(data.get("summary", "")),
                branch=data.get("branch"),
                data=_mapping(data.get("data")),
            )
        )
    return notes


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def read_commit_dates(root: str | os.PathLike[str], commits: list[str]) -> dict[str, str]:
    """Return the committer date of each commit that exists here (one ``git log``)."""
    wanted = sorted(set(commits))
    if not wanted:
        return {}
    present = {
        name
        for name, kind, _ in scm.cat_file_batch([f"{c}^{{commit}}" for c in wanted], root)
        if kind == "commit"
    }
    shas = [c for c in wanted if f"{c}^{{commit}}" in present]
    if not shas:
        return {}
    out = scm.git("log", "--no-walk=unsorted", "--format=%H %cI", *shas, cwd=root)
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def read_approvals(root: str | os.PathLike[str]) -> list[ApprovalRecord]:
    """Return the approvals recorded at merges (notes), then the approval tags not among them."""
    noted = read_merge_approvals(root)
    seen = {a.tag for a in noted}
    tags = [t for t in read_approval_tags(root) if t.tag not in seen]
    return noted + tags


def read_merge_approvals(root: str | os.PathLike[str]) -> list[ApprovalRecord]:
    """Return the approvals that counted, as noted on each merge (``refs/notes/mlops-approvals``).

    The notes are the repository's (fetched), else its local forge's; the
    same on every forge: GitHub reviews and local SSH-signed tags alike.
    """
    for place in _note_places(root):
        found = scm.read_notes(APPROVALS_REF, place)
        if found:
            return [a for merge, text in sorted(found.items()) for a in _noted(merge, text)]
    return []


def _noted(merge: str, text: str) -> list[ApprovalRecord]:
    try:
        data = json.loads(text)
        return [
            ApprovalRecord(
                tag=str(a.get("ref") or f"{APPROVALS_REF}:{merge}"),
                env=str(a.get("env") or "-"),
                commit=str(a["commit"]),
                user=str(a["reviewer"]),
                tagger=str(a["reviewer"]),
                date=str(a.get("time") or ""),
                source=str(a.get("source") or ""),
                state=str(a.get("state") or "APPROVED"),
                teams=tuple(str(t) for t in a.get("teams") or ()),
                merge=merge,
            )
            for a in data["approvals"]
        ]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        log.warning("%s note of %s: not an approvals record; left out", APPROVALS_REF, merge[:12])
        return []


def read_approval_tags(root: str | os.PathLike[str]) -> list[ApprovalRecord]:
    """Return the approval tags ``approve/<env>/<sha>/<user>`` (signatures are the gate's job)."""
    from mlops_gitops.forge.signed_approvals import parse_approval_ref

    fmt = "%1f".join(APPROVAL_FIELDS)
    out = scm.git("for-each-ref", f"--format={fmt}", APPROVAL_REFS, cwd=root)
    records: list[ApprovalRecord] = []
    for line in out.splitlines():
        refname, oid, tagger, tag_date, created = line.split("\x1f")
        parsed = parse_approval_ref(refname, oid)
        if parsed is None:
            continue
        records.append(
            ApprovalRecord(
                tag=refname.removeprefix("refs/tags/"),
                env=parsed.env,
                commit=parsed.sha,
                user=parsed.user,
                tagger=tagger or parsed.user,
                date=tag_date or created,
            )
        )
    return records


def read_pull_requests(root: str | os.PathLike[str], rev: str) -> dict[str, str]:
    """Return ``{main-line commit: pull-request number}`` read from merge and squash subjects."""
    out = scm.git("log", "--first-parent", "--format=%H%x1f%s", rev, cwd=root)
    found: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, subject = line.partition("\x1f")
        match = _PR.search(subject)
        if match:
            found[sha] = match[1] or match[2]
    return found
