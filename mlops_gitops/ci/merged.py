"""What counted when a change landed, kept in Git: its approvals, and the gate that let it in.

A merge (GitHub: the merge of a pull request; local forge: a push that moves
``main``) gets one note on ``refs/notes/mlops-approvals``: the approvals that
counted — reviewer, teams (by the base's ``policies/roles.yaml``), state, the
commit reviewed, time and source. GitHub's come from the pull request's
reviews (``mlops ci record-approvals`` on push to main); the local forge's
from the SSH-signed approval tags its pre-receive hook verified
(post-receive). ``mlops audit`` reads them from any clone.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_gitops import scm
from mlops_gitops.ci.changed_envs import changed_environments
from mlops_gitops.documents import parse_yaml
from mlops_gitops.errors import ConfigError
from mlops_gitops.forge.base import ChangeRef, Forge, GateStatus
from mlops_gitops.forge.records import APPROVALS_REF, NoteUpdate, gate_updates
from mlops_gitops.roundtrip import write_atomic

log = logging.getLogger(__name__)

ROLES_FILE = "policies/roles.yaml"
DECIDED_DIR = "mlops-decided"
_MERGE_SUBJECT = re.compile(r"^Merge pull request #(\d+)\b|\(#(\d+)\)\s*$")


def approvals_update(merge: str, pull: int | None, entries: Sequence[dict[str, Any]]) -> NoteUpdate:
    """Return the approvals note of ``merge``."""
    body = {"merge": merge, "pull": pull, "approvals": list(entries)}
    text = json.dumps(body, indent=2, sort_keys=True) + "\n"
    return NoteUpdate(APPROVALS_REF, {merge: text}, message=f"mlops: approvals of {merge[:12]}")


def read_teams(root: str | Path, rev: str) -> dict[str, list[str]]:
    """Return ``{identity: [team, ...]}`` by ``policies/roles.yaml`` at ``rev`` (e-mails too)."""
    text = scm.show_file(rev, ROLES_FILE, root)
    try:
        data = parse_yaml(text or "", f"{rev}:{ROLES_FILE}") or {}
    except ConfigError as exc:
        log.warning("%s; approvals noted without teams", exc)
        return {}
    people = data.get("people") or {} if isinstance(data, dict) else {}
    teams = data.get("teams") or {} if isinstance(data, dict) else {}
    found: dict[str, list[str]] = {}
    for team, members in teams.items():
        for member in members or []:
            for identity in (str(member), *(str(e) for e in people.get(member) or [])):
                found.setdefault(identity, []).append(str(team))
    return found


def record_pull_approvals(root: Path, forge: Forge, merge: str = "HEAD") -> NoteUpdate | None:
    """Record on the merge commit the reviews that counted for its pull request (GitHub).

    Returns:
        the note written, or None when ``merge`` is not the merge of a pull request.

    Raises:
        ForgeError: the forge cannot read the pull request's reviews.
    """
    from mlops_gitops.forge.reviews import counted_reviews

    sha = scm.git("rev-parse", "--verify", f"{merge}^{{commit}}", cwd=root).strip()
    parents = scm.git("rev-list", "--parents", "-n", "1", sha, cwd=root).split()[1:]
    match = _MERGE_SUBJECT.search(scm.git("log", "-1", "--format=%s", sha, cwd=root).strip())
    if match is None or not parents:
        log.info("%s is not the merge of a pull request; no approvals to record", sha[:12])
        return None
    pull = int(match[1] or match[2])
    head = parents[-1]
    teams = read_teams(root, parents[0])
    envs: list[str | None] = [*changed_environments(root, parents[0], sha)] or [None]
    reviews = counted_reviews(forge, pull, head)
    entries = [
        {**review, "teams": teams.get(review["reviewer"], []), "env": env}
        for review in reviews
        for env in envs
    ]
    update = approvals_update(sha, pull, entries)
    forge.keep_notes([update])
    return update


def stash_decision(git_dir: Path, target: ChangeRef, gate: GateStatus) -> None:
    """Keep the pre-receive gate's decision until the push lands (hooks cannot write refs).

    Its notes are written by :func:`record_landed` in post-receive; a refused
    push leaves a stale file that the next decision on the same tip replaces.
    """
    folder = Path(git_dir) / DECIDED_DIR
    folder.mkdir(exist_ok=True)
    updates = gate_updates(target, gate)
    body = {u.ref: dict(u.notes)[target.sha] for u in updates}
    write_atomic(folder / f"{target.sha}.json", json.dumps(body, sort_keys=True) + "\n")


def record_landed(git_dir: Path, old: str, new: str) -> list[NoteUpdate]:
    """Note on a tip that landed on the local forge's main its gate decision and approvals."""
    from mlops_gitops.forge.records import write_updates

    stash = Path(git_dir) / DECIDED_DIR / f"{new}.json"
    updates = []
    if stash.is_file():
        for ref, text in json.loads(stash.read_text(encoding="utf-8")).items():
            updates.append(NoteUpdate(ref, {new: text}, message=f"mlops: gate of {new[:12]}"))
    approvals = landed_approvals(git_dir, old, new)
    if approvals is not None:
        updates.append(approvals)
    write_updates(git_dir, updates)
    stash.unlink(missing_ok=True)
    return updates


def landed_approvals(git_dir: Path, old: str, new: str) -> NoteUpdate | None:
    """Return the approvals note of a landed tip: its tags that verify against ``old``'s signers."""
    from mlops_gitops.forge.local import LocalForge
    from mlops_gitops.forge.signed_approvals import list_approval_tags, verify_approvals

    forge = LocalForge(git_dir)
    signers = forge.read_signers(old)
    teams = read_teams(git_dir, old)
    entries = []
    for tag in list_approval_tags(git_dir):
        if tag.sha != new:
            continue
        for approval in verify_approvals(git_dir, [tag], signers=signers):
            entries.append(
                {
                    "reviewer": approval.reviewer,
                    "teams": teams.get(approval.reviewer, []),
                    "state": "APPROVED",
                    "commit": approval.commit,
                    "time": _tag_time(git_dir, tag.refname),
                    "source": approval.source,
                    "env": approval.env,
                    "ref": tag.refname.removeprefix("refs/tags/"),
                }
            )
    return approvals_update(new, None, entries) if entries else None


def _tag_time(git_dir: Path, refname: str) -> str:
    return scm.git(
        "for-each-ref", "--format=%(taggerdate:iso-strict)", refname, cwd=git_dir
    ).strip()
