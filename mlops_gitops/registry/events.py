"""Registry events: registrations, promotions, rollbacks and lifecycle marks.

Manifest events come from one ``git log`` over ``envs/``: the structured
trailers that ``mlops promote`` and ``mlops rollback`` write describe each
commit; a commit without them (a hand edit, a ``git revert``) is described
by comparing the manifests before and after it, read with one
``cat-file --batch`` by :func:`mlops_gitops.yamlhistory.read_item_changes`.
Tag events come from :func:`read_tags`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mlops_gitops import scm
from mlops_gitops.manifests.conventions import ENVIRONMENTS_FILE, envs_dir
from mlops_gitops.registry.graph import Graph, build_graph, parse_time, read_landings
from mlops_gitops.registry.versions import VersionTag
from mlops_gitops.yamlhistory import ItemChange, read_item_changes

EventKind = Literal[
    "register",
    "promote",
    "canary",
    "canary-complete",
    "canary-abort",
    "rollback",
    "edit",
    "remove",
    "deprecate",
    "archive",
]
MANIFEST_KINDS = (
    "promote",
    "canary",
    "canary-complete",
    "canary-abort",
    "rollback",
    "edit",
    "remove",
)
# Kinds after which the event's version is the serving version of the environment.
SERVING_KINDS = ("promote", "canary-complete", "rollback", "edit")
TRAILER_PREFIX = "Mlops-"
_RANK = {"register": 0, "deprecate": 2, "archive": 3}
_LOG_FORMAT = "%x1e%H%x1f%ct%x1f%P%x1f%an%x1f%ae%x1f%(trailers:only,unfold)%x1d"


@dataclass(frozen=True, kw_only=True)
class Event:
    """One event of a model's life, in Git-graph order.

    ``date`` is when it took effect: the tagger date for a tag, the time
    its commit landed on the main line for a manifest change. ``commit`` is
    the commit that records it (the tagged commit for a tag) and
    ``landed`` the main-line commit that brought it in. ``running`` is the
    serving version of ``model`` in ``env`` after the event.
    """

    kind: EventKind
    model: str
    version: str | None
    env: str | None
    commit: str
    author: str
    email: str
    date: str
    source_env: str | None = None
    landed: str | None = None
    md5: str | None = None
    weight: int | None = None
    previous: str | None = None
    running: str | None = None
    tag: str | None = None
    registration: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Commit:
    commit: str
    parents: list[str]
    author: str
    email: str
    trailers: dict[str, str]
    files: list[str]


Draft = dict[str, Any]  # the fields of an Event before its order is known


def tag_events(tags: list[VersionTag]) -> list[Draft]:
    """Return the events that registry tags record (as drafts for :func:`order_events`)."""
    return [
        {
            "kind": tag.mark,
            "model": tag.model,
            "version": tag.version,
            "env": None,
            "commit": tag.commit,
            "author": tag.tagger,
            "email": tag.email,
            "date": tag.date,
            "md5": artifact.md5 if (artifact := tag.artifact()) else None,
            "tag": tag.name,
        }
        for tag in tags
    ]


def read_history(root: str | os.PathLike[str], rev: str) -> tuple[Graph, list[Draft]]:
    """Read the graph and the manifest events up to ``rev`` with one ``git log``.

    The events are drafts, unordered (see :func:`order_events`).
    """
    folder = envs_dir(root, rev)
    records = scm.git_records(
        "log", "--topo-order", f"--format={_LOG_FORMAT}", "--name-only",
        f"--relative={folder}/", rev, cwd=root, separator="\x1e",
    )  # fmt: skip
    rows: list[tuple[str, int, list[str]]] = []
    commits: list[_Commit] = []
    for record in records:
        if not record:
            continue
        head, _, names = record.partition("\x1d")
        commit, stamp, parents, rest = head.split("\x1f", 3)
        rows.append((commit, int(stamp), parents.split()))
        if not names.strip():
            continue
        files = [f"{folder}/{name}" for name in names.splitlines() if _is_manifest(name)]
        if files and " " not in parents:  # merges bring the changes of their branch commits
            commits.append(_parse_commit(commit, parents, rest, files))
    graph = build_graph(rows, landed=read_landings(root))
    return graph, _manifest_events(root, graph, commits)


def _manifest_events(
    root: str | os.PathLike[str], graph: Graph, commits: list[_Commit]
) -> list[Draft]:
    manual = [c for c in commits if "Mlops-Action" not in c.trailers]
    touched = [(c.commit, c.parents[0] if c.parents else None, f) for c in manual for f in c.files]
    edits: dict[str, list[ItemChange]] = {}
    for change in read_item_changes(root, touched, items=_models_of, view=_serving):
        edits.setdefault(change.commit, []).append(change)
    events: list[Draft] = []
    for commit in commits:
        when = graph.landed_time(commit.commit).isoformat()
        landed = graph.landing[commit.commit]
        if "Mlops-Action" in commit.trailers:
            events.append(_trailer_event(commit, when, landed))
        else:
            events += [_edit_event(commit, c, when, landed) for c in edits.get(commit.commit, [])]
    return events


def _parse_commit(commit: str, parents: str, rest: str, files: list[str]) -> _Commit:
    author, email, trailer_text = rest.split("\x1f")
    trailers: dict[str, str] = {}
    for line in trailer_text.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith(TRAILER_PREFIX):
            trailers[key] = value.strip()
    return _Commit(
        commit=commit,
        parents=parents.split(),
        author=author,
        email=email,
        trailers=trailers,
        files=files,
    )


def _is_manifest(name: str) -> bool:
    """Return whether ``name`` (relative to ``envs/``) is an environment manifest."""
    return "/" not in name and name.endswith(".yaml") and name != ENVIRONMENTS_FILE


def _trailer_event(commit: _Commit, when: str, landed: str) -> Draft:
    t = commit.trailers
    kind = t.get("Mlops-Action", "edit")
    weight = t.get("Mlops-Weight")
    return {
        "kind": kind if kind in MANIFEST_KINDS else "edit",
        "model": t.get("Mlops-Model", ""),
        "version": t.get("Mlops-Version"),
        "env": t.get("Mlops-To"),
        "source_env": t.get("Mlops-From") or None,
        "commit": commit.commit,
        "author": commit.author,
        "email": commit.email,
        "date": when,
        "landed": landed,
        "md5": t.get("Mlops-Artifact-Md5"),
        "weight": int(weight) if weight and weight.isdigit() else None,
        "registration": t.get("Mlops-Registration"),
    }


def _models_of(data: Any) -> dict[str, Any]:
    models = data.get("models") if isinstance(data, dict) else None
    return (
        {str(k): v for k, v in models.items() if isinstance(v, dict)}
        if isinstance(models, dict)
        else {}
    )


def _edit_event(commit: _Commit, change: ItemChange, when: str, landed: str) -> Draft:
    new = change.after
    version = new.get("version") if new else None
    artifact = (new or {}).get("artifact") or {}
    return {
        "kind": "edit" if new else "remove",
        "model": change.key,
        "version": str(version) if version is not None else None,
        "env": change.path.rpartition("/")[2].removesuffix(".yaml"),
        "commit": commit.commit,
        "author": commit.author,
        "email": commit.email,
        "date": when,
        "landed": landed,
        "md5": artifact.get("md5") if isinstance(artifact, dict) else None,
    }


def _serving(block: dict[str, Any] | None) -> tuple[str, str] | None:
    if block is None:
        return None
    rollout = block.get("rollout") or {}
    candidate = rollout.get("candidate") if isinstance(rollout, dict) else None
    return str(block.get("version")), str((candidate or {}).get("version"))


def order_events(drafts: list[Draft], graph: Graph) -> list[Event]:
    """Sort event drafts by the Git graph; fill in ``previous`` and ``running``."""

    def key(draft: Draft) -> tuple[Any, ...]:
        kind = draft["kind"]
        return (*graph.order_of(draft["commit"], draft["date"]), _RANK.get(kind, 1), draft["date"])

    serving: dict[tuple[str | None, str], str | None] = {}
    ordered: list[Event] = []
    for draft in sorted(drafts, key=key):
        if draft["kind"] not in MANIFEST_KINDS:
            ordered.append(Event(**draft))
            continue
        slot = (draft["env"], draft["model"])
        previous = serving.get(slot)
        serving[slot] = running = _running_after(draft, previous)
        ordered.append(Event(**draft, previous=previous, running=running))
    return ordered


def _running_after(draft: Draft, previous: str | None) -> str | None:
    if draft["kind"] in SERVING_KINDS:
        return str(draft["version"])
    if draft["kind"] == "remove":
        return None
    return previous


def serving_intervals(
    events: list[Event], env: str, model: str, version: str
) -> list[tuple[datetime, datetime | None]]:
    """Return the ``(start, end)`` intervals in which ``version`` served ``model`` in ``env``.

    ``end`` is None while it still serves. ``events`` must be ordered.
    """
    intervals: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    for event in events:
        if event.env != env or event.model != model or event.kind not in MANIFEST_KINDS:
            continue
        serves = event.running == version
        if serves and start is None:
            start = parse_time(event.date)
        elif not serves and start is not None:
            intervals.append((start, parse_time(event.date)))
            start = None
    if start is not None:
        intervals.append((start, None))
    return intervals
