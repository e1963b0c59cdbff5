"""The emulator's state: tokens, pull requests, issues, comments, reviews, statuses, check runs.

Branches, commits and trees are not state of the emulator: they live in a real
bare repository that tests push to with ``git push``; the emulator reads it
with git for every request (so ``head.sha`` is always the real tip).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlops_gitops import scm

ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
TokenKind = Literal["user", "installation"]
NOW = "2026-01-15T10:00:00Z"


@dataclass(frozen=True)
class Identity:
    """Who a token belongs to: a user (personal token) or an App installation."""

    login: str
    user_id: int
    kind: TokenKind = "user"
    app_id: int | None = None  # an installation's App (ruleset bypass actors name it)


@dataclass
class Pull:
    number: int
    title: str
    body: str
    head: str
    base: str
    author: Identity
    state: str = "open"
    created_at: str = NOW
    merge_commit_sha: str | None = None


@dataclass
class Comment:
    id: int
    number: int
    author: Identity
    body: str
    created_at: str = NOW
    updated_at: str = NOW


@dataclass
class Review:
    id: int
    number: int
    author: Identity
    state: ReviewState
    commit_id: str
    body: str = ""
    submitted_at: str = NOW


@dataclass
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: Identity
    created_at: str = NOW


@dataclass
class CheckRun:
    id: int
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    details_url: str | None
    output: dict[str, object]
    app: Identity
    started_at: str | None = NOW
    completed_at: str | None = None


@dataclass
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    labels: list[str]
    author: Identity
    state: str = "open"
    created_at: str = NOW


@dataclass(frozen=True)
class Activity:
    """One accepted ref update, as ``GET /repos/{owner}/{repo}/activity`` lists it."""

    id: int
    before: str
    after: str
    ref: str
    activity_type: str
    actor: Identity | None
    timestamp: str = NOW


@dataclass
class State:
    """Everything the emulator remembers between requests."""

    owner: str
    repo: str
    bare: Path
    tokens: dict[str, Identity]
    pulls: dict[int, Pull] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    reviews: list[Review] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)  # name -> id, created on first use
    # what GitHub knows beyond git: team slug -> member logins, verified e-mail -> login
    teams: dict[str, list[str]] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    protections: dict[str, dict[str, Any]] = field(default_factory=dict)  # branch -> body
    rulesets: dict[int, dict[str, Any]] = field(default_factory=dict)
    pushers: dict[str, Identity] = field(default_factory=dict)  # ref -> who pushed it last
    activity: list[Activity] = field(default_factory=list)  # accepted pushes, oldest first
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def next_id(self) -> int:
        return next(self.ids)

    def record_push(self, old: str, new: str, ref: str, who: Identity | None) -> None:
        """Remember an accepted update of ``ref``: its pusher, and the repository activity."""
        zero = "0" * 40
        if who is not None:
            self.pushers[ref] = who
        kind = (
            "branch_creation"
            if old == zero
            else "branch_deletion"
            if new == zero
            else "push"
            if scm.git_ok("merge-base", "--is-ancestor", old, new, cwd=self.bare)
            else "force_push"
        )
        self.activity.append(Activity(self.next_id(), old, new, ref, kind, who))

    def next_number(self) -> int:
        """Return the next issue or pull request number (GitHub numbers both in one series)."""
        return max([*self.pulls, *self.issues], default=0) + 1

    # --- the bare repository -------------------------------------------------
    def resolve(self, ref: str) -> str | None:
        """Return the commit id of a branch, tag or sha, or None."""
        for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}", ref):
            if scm.git_ok(
                "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}", cwd=self.bare
            ):
                return scm.git("rev-parse", f"{candidate}^{{commit}}", cwd=self.bare).strip()
        return None

    def ref_sha(self, ref: str) -> str | None:
        """Return the object a full ref name points to, or None."""
        out = scm.git("rev-parse", "--verify", "--quiet", ref, cwd=self.bare, check=False).strip()
        return out or None

    def hash_blob(self, content: bytes) -> str:
        return scm.git("hash-object", "-w", "--stdin", cwd=self.bare, input=content).strip()

    def make_tree(self, entries: list[tuple[str, str, str]], base_tree: str | None) -> str:
        """Write a tree from ``(mode, sha, path)`` entries on top of ``base_tree``."""
        fd, index = tempfile.mkstemp(prefix="emu-index-")
        os.close(fd)
        os.unlink(index)
        env = {"GIT_INDEX_FILE": index}
        try:
            if base_tree:
                scm.git("read-tree", base_tree, cwd=self.bare, env=env)
            for mode, sha, path in entries:
                scm.git(
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    f"{mode},{sha},{path}",
                    cwd=self.bare,
                    env=env,
                )
            return scm.git("write-tree", cwd=self.bare, env=env).strip()
        finally:
            if os.path.exists(index):
                os.unlink(index)

    def make_commit(self, tree: str, parents: list[str], message: str) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return scm.git(*args, "-m", message, cwd=self.bare).strip()

    def is_ancestor(self, old: str, new: str) -> bool:
        return scm.git_ok("merge-base", "--is-ancestor", old, new, cwd=self.bare)

    def tree_of(self, commit: str) -> str:
        return scm.git("rev-parse", f"{commit}^{{tree}}", cwd=self.bare).strip()

    def list_tree(self, tree: str) -> list[tuple[str, str, str, str]]:
        """Return ``(mode, type, sha, path)`` of the top level of ``tree``."""
        rows = []
        for line in scm.git("ls-tree", tree, cwd=self.bare).splitlines():
            meta, path = line.split("\t", 1)
            mode, kind, sha = meta.split()
            rows.append((mode, kind, sha, path))
        return rows

    def commit_people(self, sha: str) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
        """Return ``(name, email, date)`` of the author and of the committer of a commit."""
        fmt = "%an%n%ae%n%aI%n%cn%n%ce%n%cI"
        lines = scm.git("show", "-s", f"--format={fmt}", sha, cwd=self.bare).split("\n")
        return (lines[0], lines[1], lines[2]), (lines[3], lines[4], lines[5])

    def commits_between(self, base: str, head: str) -> list[str]:
        """Return the commits of ``head`` not in ``base``, oldest first."""
        out = scm.git("rev-list", "--reverse", f"{base}..{head}", cwd=self.bare)
        return out.split()

    def changed_files(self, base: str, head: str) -> list[str]:
        """Return the paths a pull request changes (``base...head``, as GitHub diffs)."""
        out = scm.git("diff", "--name-only", f"{base}...{head}", cwd=self.bare)
        return out.split("\n") if out.strip() else []

    def show(self, rev: str, path: str) -> str | None:
        """Return the text of ``path`` at ``rev``, or None."""
        code, out, _ = scm.git_status("show", f"{rev}:{path}", cwd=self.bare)
        return out if code == 0 else None

    def commit_meta(self, sha: str) -> tuple[str, str, str, list[str]]:
        """Return ``(tree, author line, message, parents)`` of a commit."""
        fmt = "%T%n%an%n%ae%n%aI%n%P%n%B"
        out = scm.git("show", "-s", f"--format={fmt}", sha, cwd=self.bare)
        tree, name, email, date, parents, *message = out.split("\n")
        return tree, f"{name}\n{email}\n{date}", "\n".join(message).strip(), parents.split()
