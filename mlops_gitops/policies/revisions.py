"""The revisions a gate compares: head, base, merge base, changed files, commits.

Read with a handful of git calls through :mod:`mlops_gitops.scm`: the
changed files are ``git diff --name-only BASE...HEAD`` and the commits of
the change (authors and ``%G?`` signature status) are ``BASE..HEAD``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from mlops_gitops import scm
from mlops_gitops.policies.bundle import Commit, Signature
from mlops_gitops.policies.source import PolicyError

_SHA = re.compile(r"^[0-9a-f]{40,64}$")
_SIGNATURES = frozenset("GBUXYREN")


@dataclass(frozen=True)
class ChangeCommit:
    """One commit of the change: id, signature status and author email."""

    sha: str
    signature: Signature
    email: str


@dataclass(frozen=True, kw_only=True)
class Revisions:
    """The head, the base and what lies between them."""

    head: str
    base_ref: str
    base: str
    merge_base: str | None
    branch: str | None
    changed_files: tuple[str, ...]
    commits: tuple[ChangeCommit, ...]

    @property
    def authors(self) -> tuple[str, ...]:
        """The author emails of the change's commits."""
        return tuple(dict.fromkeys(c.email for c in self.commits))

    def commit_evidence(self) -> Commit:
        """Return the bundle's ``commit`` section."""
        head = self.commits[0]
        return Commit(
            sha=self.head,
            author=head.email,
            signature=head.signature,
            verified=head.signature == "G",
            unverified=[c.sha for c in self.commits if c.signature != "G"],
        )


def read_revisions(root: Path, *, base_ref: str, branch: str | None = None) -> Revisions:
    """Resolve HEAD and ``base_ref`` and read the change between them.

    Raises:
        PolicyError: HEAD or the base does not name a commit.
    """
    out = scm.git("rev-parse", "HEAD^{commit}", f"{base_ref}^{{commit}}", cwd=root, check=False)
    lines = out.split()
    if not lines or not _SHA.match(lines[0]):
        raise PolicyError(f"{root}: the repository has no commit yet; commit the change first")
    if len(lines) < 2 or not _SHA.match(lines[1]):
        raise PolicyError(
            f"base '{base_ref}' does not name a commit; "
            "pass --base with the target branch (e.g. origin/main)"
        )
    head, base = lines[0], lines[1]
    merge_base = scm.git("merge-base", base, head, cwd=root, check=False).strip() or None
    changed: tuple[str, ...] = ()
    if merge_base is not None:
        diff = scm.git("diff", "--name-only", "-z", "--no-renames", merge_base, head, cwd=root)
        changed = tuple(sorted(p for p in diff.split("\0") if p))
    return Revisions(
        head=head,
        base_ref=base_ref,
        base=base,
        merge_base=merge_base,
        branch=branch if branch is not None else scm.current_branch(root),
        changed_files=changed,
        commits=_read_commits(root, head, merge_base),
    )


def _read_commits(root: Path, head: str, merge_base: str | None) -> tuple[ChangeCommit, ...]:
    fmt = "--format=%H%x1f%G?%x1f%ae"
    out = ""
    if merge_base is not None and merge_base != head:
        out = scm.git("log", fmt, f"{merge_base}..{head}", cwd=root)
    if not out.strip():
        out = scm.git("log", "-1", fmt, head, cwd=root)
    commits: list[ChangeCommit] = []
    for line in out.splitlines():
        sha, sig, email = line.split("\x1f")
        status = cast(Signature, sig if sig in _SIGNATURES else "N")
        commits.append(ChangeCommit(sha, status, email.lower()))
    return tuple(commits)
