"""Issues of the local forge: one JSON file per issue, committed on a notes ref.

The ref ``refs/notes/mlops-issues`` of the forge's bare repository holds a
chain of commits; each opening of an issue adds one commit whose tree gains
``<number>.json`` (numbers count up from 1; nothing is ever rewritten)::

    {"number": 3, "title": "...", "body": "...", "labels": ["monitoring", "P2"],
     "state": "open", "created_at": "2026-01-15T10:00:00+00:00"}

The ref is moved with a compare-and-swap, so concurrent openers each get
their own number (the loser of a race retries on the new tip). Being under
``refs/notes/mlops-*``, it is fetched by every clone that ran
``mlops forge track``; ``mlops forge issues`` lists it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from mlops_gitops import scm
from mlops_gitops.forge.base import ZERO_SHA, ForgeError
from mlops_gitops.forge.notes import IDENTITY

log = logging.getLogger(__name__)

ISSUES_REF = "refs/notes/mlops-issues"
ATTEMPTS = 5


@dataclass(frozen=True, kw_only=True)
class Issue:
    """One issue of the local forge."""

    number: int
    title: str
    body: str
    labels: tuple[str, ...]
    state: str
    created_at: str

    @property
    def location(self) -> str:
        """Return where the issue is stored: ``refs/notes/mlops-issues:<number>.json``."""
        return f"{ISSUES_REF}:{self.number}.json"


def open_issue(
    git_dir: str | os.PathLike[str],
    title: str,
    body: str,
    labels: Sequence[str],
    *,
    now: datetime | None = None,
) -> Issue:
    """Commit a new issue to ``git_dir``'s issues ref and return it.

    Raises:
        ForgeError: the title is empty, or the ref kept moving under concurrent writers.
    """
    if not title.strip():
        raise ForgeError("an issue needs a title; got an empty one")
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    for _ in range(ATTEMPTS):
        old = _tip(git_dir)
        entries = _entries(git_dir, old)
        number = max(entries, default=0) + 1
        issue = Issue(
            number=number,
            title=title,
            body=body,
            labels=tuple(labels),
            state="open",
            created_at=stamp,
        )
        commit = _commit(git_dir, old, entries, issue)
        if scm.git_ok("update-ref", ISSUES_REF, commit, old or ZERO_SHA, cwd=git_dir):
            log.info("opened issue #%d on %s: %s", number, git_dir, title)
            return issue
        log.info("%s moved while opening an issue; retrying", ISSUES_REF)
    raise ForgeError(f"{ISSUES_REF}: could not open the issue; concurrent writers, retry")


def list_issues(git_dir: str | os.PathLike[str]) -> list[Issue]:
    """Return the issues of ``git_dir`` (a forge or a clone that fetched the ref), by number.

    Raises:
        ForgeError: ``git_dir`` is not a repository, or an issue file is not an issue.
    """
    if not Path(git_dir).is_dir() or not scm.git_ok("rev-parse", "--git-dir", cwd=git_dir):
        raise ForgeError(
            f"{git_dir}: not a git repository; give the forge with --forge-path "
            "or run this in a clone of it"
        )
    entries = _entries(git_dir, _tip(git_dir))
    names = [f"{ISSUES_REF}:{n}.json" for n in sorted(entries)]
    return [_parse(name, data) for name, _, data in scm.cat_file_batch(names, git_dir)]


def _parse(name: str, data: bytes | None) -> Issue:
    try:
        raw = json.loads(data or b"")
        return Issue(
            number=int(raw["number"]),
            title=str(raw["title"]),
            body=str(raw.get("body", "")),
            labels=tuple(str(label) for label in raw.get("labels", ())),
            state=str(raw.get("state", "open")),
            created_at=str(raw.get("created_at", "")),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ForgeError(f"{name}: not an issue; expected number, title, labels") from exc


def _tip(git_dir: str | os.PathLike[str]) -> str | None:
    code, out, _ = scm.git_status("rev-parse", "--verify", "--quiet", ISSUES_REF, cwd=git_dir)
    return out.strip() if code == 0 else None


def _entries(git_dir: str | os.PathLike[str], tip: str | None) -> dict[int, str]:
    """Return ``number -> ls-tree line`` of the issues at ``tip``."""
    if tip is None:
        return {}
    found = {}
    for line in scm.git("ls-tree", tip, cwd=git_dir).splitlines():
        name = line.split("\t", 1)[1]
        stem = name.removesuffix(".json")
        if name.endswith(".json") and stem.isdigit():
            found[int(stem)] = line
    return found


def _commit(
    git_dir: str | os.PathLike[str], old: str | None, entries: dict[int, str], issue: Issue
) -> str:
    text = json.dumps({**asdict(issue), "labels": list(issue.labels)}, indent=2) + "\n"
    blob = scm.git("hash-object", "-w", "--stdin", cwd=git_dir, input=text.encode()).strip()
    lines = [*entries.values(), f"100644 blob {blob}\t{issue.number}.json"]
    tree = scm.git("mktree", cwd=git_dir, input="\n".join(lines) + "\n").strip()
    parents = ["-p", old] if old else []
    message = f"mlops: issue #{issue.number}: {issue.title}"
    return scm.git(*IDENTITY, "commit-tree", tree, *parents, "-m", message, cwd=git_dir).strip()
