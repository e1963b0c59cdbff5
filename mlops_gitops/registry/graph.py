"""The commit graph that orders registry and audit events, read with one ``git log``.

Events are ordered by the Git graph, never by clocks alone: each commit gets
its topological position, and each commit reachable from the tip gets the
first-parent commit that brought it in (its *landing*): a promotion made on
a branch takes effect when its merge lands on the main line.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from mlops_gitops import scm
from mlops_gitops.errors import MlopsError

RECEIPTS_REF = "refs/notes/mlops-received"
"""Where a local forge records when each main-line commit landed (see ``forge.receipts``)."""
_DATE_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


@dataclass(frozen=True)
class Snapshot:
    """A point of the history: the commit of the main line and the time it stands for."""

    rev: str
    time: datetime


@dataclass(frozen=True)
class Graph:
    """Topological positions, landings and commit times of the history up to a tip."""

    position: dict[str, int]
    landing: dict[str, str]
    time: dict[str, int]
    chain: list[str]

    def order_of(self, commit: str, fallback_time: str) -> tuple[int, int]:
        """Return the sort key of an event recorded at ``commit``.

        A commit outside the history (a tag on an unmerged or squashed
        branch) is placed after the last main-line commit older than
        ``fallback_time`` (an ISO time).
        """
        if commit in self.landing:
            return self.position[self.landing[commit]], self.position[commit]
        stamps = [self.time[c] for c in self.chain]
        index = bisect.bisect_right(stamps, parse_time(fallback_time).timestamp()) - 1
        if index < 0:
            return -1, -1
        anchor = self.chain[index]
        return self.position[anchor], self.position[anchor]

    def landed_time(self, commit: str) -> datetime:
        """Return when ``commit`` reached the main line (its landing's commit time)."""
        return datetime.fromtimestamp(self.time[self.landing[commit]], UTC)


def resolve_at(root: str | os.PathLike[str], at: str | None = None) -> Snapshot:
    """Resolve ``at`` (a date, a revision or None for HEAD) to a main-line commit.

    A date picks the last first-parent commit of HEAD that landed (as the forge
    recorded it; else was committed) at or before it.

    Raises:
        RegistryError: no commit exists before the date, or the revision is unknown.
    """
    from mlops_gitops.registry.versions import RegistryError

    if at is not None and _DATE_RE.match(at):
        moment = parse_time(at)
        rev = _landed_before(root, moment)
        if rev is None:
            before = f"--before={moment.isoformat()}"
            rev = scm.git("rev-list", "-1", "--first-parent", before, "HEAD", cwd=root).strip()
        if not rev:
            raise RegistryError(f"--at {at}: the repository has no commit at or before that date")
        return Snapshot(rev=rev, time=moment)
    try:
        out = scm.git("log", "-1", "--format=%H %ct", f"{at or 'HEAD'}^{{commit}}", "--", cwd=root)
    except MlopsError as exc:
        raise RegistryError(f"--at {at or 'HEAD'}: not a date (YYYY-MM-DD) nor a revision") from exc
    rev, stamp = out.split()
    return Snapshot(rev=rev, time=datetime.fromtimestamp(int(stamp), UTC))


def _landed_before(root: str | os.PathLike[str], moment: datetime) -> str | None:
    """Return the last main-line commit the forge saw land at or before ``moment`` ('' for
    none; None when the forge recorded no landing, so the committer dates decide)."""
    landed = read_landings(root)
    if not landed:
        return None
    rows = [line.split() for line in scm.git("log", "--first-parent", "--format=%H %ct", "HEAD",
                                             cwd=root).splitlines()]  # fmt: skip
    chain = [commit for commit, _ in reversed(rows)]
    times = forge_times(chain, {c: int(t) for c, t in rows}, landed, now=2**62)
    before = [c for c in chain if times[c] <= moment.timestamp()]
    return before[-1] if before else ""


def parse_time(value: str) -> datetime:
    """Parse an ISO date or time; a value without a zone is UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if len(value) == 10:
        moment = moment.replace(hour=23, minute=59, second=59)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_landings(root: str | os.PathLike[str]) -> dict[str, int]:
    """Return when the forge saw each main-line commit land (epoch seconds; empty without)."""
    import json

    landed: dict[str, int] = {}
    for commit, text in scm.read_notes(RECEIPTS_REF, root).items():
        try:
            stamp = json.loads(text).get("landed_at")
            if stamp:
                landed[commit] = int(parse_time(stamp).timestamp())
        except (ValueError, AttributeError):
            continue
    return landed


def forge_times(
    chain: list[str], time: dict[str, int], landed: dict[str, int], *, now: int
) -> dict[str, int]:
    """Return the main-line times the forge vouches for instead of the committer dates.

    A commit's committer date is whatever its maker set; where the forge
    recorded landings, a main-line commit takes its landing time, one after
    the last recorded landing (not landed yet: the change under review) takes
    ``now``, and history from before the forge keeps its date, capped at the
    first landing. Without landings, the dates stand.
    """
    recorded = [i for i, c in enumerate(chain) if c in landed]
    if not recorded:
        return time
    out = dict(time)
    first = landed[chain[recorded[0]]]
    later = now
    for index in range(len(chain) - 1, -1, -1):
        commit = chain[index]
        if commit in landed:
            later = out[commit] = landed[commit]
        elif index > recorded[0]:
            out[commit] = later
        else:
            out[commit] = min(time[commit], first)
    return out


def read_graph(root: str | os.PathLike[str], rev: str) -> Graph:
    """Read the graph up to ``rev`` with one ``git log --topo-order`` (commit times as recorded)."""
    out = scm.git("log", "--topo-order", "--format=%H %ct %P", rev, cwd=root)
    rows = [(c, int(stamp), parents) for c, stamp, *parents in map(str.split, out.splitlines())]
    return build_graph(rows)


def build_graph(
    rows: list[tuple[str, int, list[str]]], *, landed: dict[str, int] | None = None
) -> Graph:
    """Build the graph from ``(commit, commit time, parents)`` rows, newest first in
    topological order (as ``git log --topo-order`` prints them); ``landed`` gives the
    forge's landing times (see :func:`forge_times`)."""
    position: dict[str, int] = {}
    time: dict[str, int] = {}
    parents: dict[str, list[str]] = {}
    for index, (commit, stamp, rest) in enumerate(reversed(rows)):
        position[commit] = index
        time[commit] = stamp
        parents[commit] = rest
    chain: list[str] = []
    current: str | None = rows[0][0] if rows else None
    while current is not None:
        chain.append(current)
        current = parents[current][0] if parents[current] else None
    chain.reverse()
    if landed:
        now = int(datetime.now(UTC).timestamp())
        time = forge_times(chain, time, landed, now=now)
    return Graph(position=position, landing=_landings(chain, parents), time=time, chain=chain)


def _landings(chain: list[str], parents: dict[str, list[str]]) -> dict[str, str]:
    landing: dict[str, str] = {}
    for commit in chain:
        landing[commit] = commit
        stack = list(parents[commit][1:])
        while stack:
            node = stack.pop()
            if node in landing:
                continue
            landing[node] = commit
            stack.extend(parents.get(node, []))
    return landing
