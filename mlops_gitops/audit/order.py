"""The commit order the audit history follows, read with one ``git log``.

The same rule as the registry's history: an event takes effect when its
commit lands on the main line (the first-parent chain of the tip), so it
is placed by the position of that landing commit, then by its own; a
commit outside the history (an unmerged branch) is placed after the last
main-line commit older than the event.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from datetime import UTC, datetime

from mlops_gitops import scm
from mlops_gitops.registry.graph import parse_time


@dataclass(frozen=True)
class CommitOrder:
    """Topological positions, landings and commit times up to a tip."""

    position: dict[str, int]
    landing: dict[str, str]
    time: dict[str, int]
    chain: list[str]

    def key(self, commit: str | None, date: str) -> tuple[int, int]:
        """Return the sort key of an event recorded at ``commit`` on ``date`` (ISO)."""
        if commit in self.landing:
            return self.position[self.landing[commit]], self.position[commit]
        stamps = [self.time[c] for c in self.chain]
        index = bisect.bisect_right(stamps, parse_time(date).timestamp()) - 1
        if index < 0:
            return -1, -1
        anchor = self.chain[index]
        return self.position[anchor], self.position[anchor]

    def landed_time(self, commit: str) -> str | None:
        """Return when ``commit`` reached the main line (ISO), or None outside the history."""
        if commit not in self.landing:
            return None
        return datetime.fromtimestamp(self.time[self.landing[commit]], UTC).isoformat()

    def commit_time(self, commit: str) -> str | None:
        """Return the commit time of ``commit`` (ISO), or None outside the history."""
        stamp = self.time.get(commit)
        return datetime.fromtimestamp(stamp, UTC).isoformat() if stamp is not None else None


def read_order(root: str | os.PathLike[str], rev: str) -> CommitOrder:
    """Read the history up to ``rev`` with one ``git log --topo-order``."""
    out = scm.git("log", "--topo-order", "--format=%H %ct %P", rev, cwd=root)
    lines = [line.split() for line in out.splitlines()]
    position: dict[str, int] = {}
    time: dict[str, int] = {}
    parents: dict[str, list[str]] = {}
    for index, (commit, stamp, *rest) in enumerate(reversed(lines)):
        position[commit], time[commit], parents[commit] = index, int(stamp), rest
    chain: list[str] = []
    current: str | None = lines[0][0] if lines else None
    while current is not None:
        chain.append(current)
        current = parents[current][0] if parents[current] else None
    chain.reverse()
    landing: dict[str, str] = {}
    for commit in chain:
        landing[commit] = commit
        stack = list(parents[commit][1:])
        while stack:
            node = stack.pop()
            if node not in landing:
                landing[node] = commit
                stack.extend(parents.get(node, []))
    return CommitOrder(position, landing, time, chain)
