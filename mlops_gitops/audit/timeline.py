"""The audit history: every registry event, waiver change, approval and gate decision.

Built on the registry's own history (:func:`mlops_gitops.registry.load_state`
with its events: registrations, promotions, canaries, rollbacks, manifest
edits, deprecations, archives) plus the history of
``policies/waivers.yaml``, the approval tags and the gate decisions noted
on commits. Everything is ordered by the Git graph (an event takes effect
when its commit lands on the main line), numbered, and can be filtered.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from mlops_gitops.audit.sources import (
    ApprovalRecord,
    GateNote,
    WaiverChange,
    read_approvals,
    read_commit_dates,
    read_gate_notes,
    read_pull_requests,
    read_waiver_changes,
    utc_text,
)
from mlops_gitops.errors import MlopsError
from mlops_gitops.registry import Event, RegistryState, load_state
from mlops_gitops.registry.graph import Graph, parse_time, read_graph

AUDIT_KINDS = (
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
    "waiver-add",
    "waiver-change",
    "waiver-remove",
    "approve",
    "gate",
)
# The source that promote records for an entry environment (mlops_gitops.registry.promote.ENTRY).
REGISTRY_SOURCE = "registry"
# Rank of events recorded on the same commit: registered, decided, approved, then changed.
_RANK = {"register": 0, "gate": 1, "approve": 2, "deprecate": 4, "archive": 5}
_VERBS = {
    "promote": "promoted",
    "canary": "started a canary of",
    "canary-complete": "completed the canary of",
    "canary-abort": "aborted the canary of",
    "rollback": "rolled back to",
    "edit": "set by a manual edit to",
    "remove": "removed",
}


class AuditError(MlopsError):
    """The audit history cannot be read, filtered or exported."""


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """One event of the audit history; absent fields are None.

    ``commit`` is the commit that records the event, ``landed`` the
    main-line commit that brought it in, ``pr`` the pull request that
    merged it (from the merge subject), ``ref`` the tag, note or file
    that holds it, ``actor`` who did it.
    """

    seq: int
    kind: str
    date: str
    summary: str
    model: str | None = None
    version: str | None = None
    env: str | None = None
    actor: str | None = None
    email: str | None = None
    commit: str | None = None
    landed: str | None = None
    pr: str | None = None
    ref: str | None = None
    detail: str | None = None


FIELDS = tuple(f.name for f in fields(AuditEvent))


def list_events(
    root: str | os.PathLike[str] = ".",
    *,
    model: str | None = None,
    env: str | None = None,
    kinds: Collection[str] = (),
    since: str | None = None,
    until: str | None = None,
    at: str | None = None,
    state: RegistryState | None = None,
) -> list[AuditEvent]:
    """Return the audit history (filtered), oldest first, numbered from 1.

    Args:
        at: read the history as of a date or revision (default HEAD).
        since: keep events at or after this date; ``until``: at or before it.
        state: a registry state read with ``with_history=True`` (read here if None).

    Raises:
        AuditError: an unknown kind or a date that does not parse.
    """
    unknown = sorted(set(kinds) - set(AUDIT_KINDS))
    if unknown:
        raise AuditError(
            f"unknown event kind '{unknown[0]}'; expected one of {', '.join(AUDIT_KINDS)}"
        )
    low, high = _bound("--since", since), _bound("--until", until)
    loaded = (
        state if state is not None and state.events else load_state(root, at=at, with_history=True)
    )
    events = collect_events(loaded)
    return [
        e
        for e in events
        if (model is None or e.model == model)
        and (env is None or e.env == env)
        and (not kinds or e.kind in kinds)
        and (low is None or parse_time(e.date) >= low)
        and (high is None or parse_time(e.date) <= high)
    ]


def _bound(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parse_time(value)
    except ValueError as exc:
        raise AuditError(f"{option} {value}: not a date; use YYYY-MM-DD or an ISO time") from exc
    if option == "--since" and len(value) == 10:
        moment = moment.replace(hour=0, minute=0, second=0)
    return moment


def collect_events(state: RegistryState) -> list[AuditEvent]:
    """Return every audit event of the repository that ``state`` was read from, in order."""
    root, rev = state.root, state.snapshot.rev
    graph = read_graph(root, rev)
    prs = read_pull_requests(root, rev)
    reasons = {t.name: str((t.metadata or {}).get("reason") or "") for t in state.tags}
    staged: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for index, event in enumerate(state.events):
        staged.append(
            ((*_key(graph, event.commit, event.date), 3, index), _from_registry(event, reasons))
        )
    for change in read_waiver_changes(root, rev):
        staged.append((_key_of(graph, change.commit, change.date, 3), _from_waiver(change, graph)))
    for approval in read_approvals(root):
        if not approval.date or parse_time(approval.date) > state.snapshot.time:
            continue
        staged.append(
            (_key_of(graph, approval.commit, approval.date, 2), _from_approval(approval, graph))
        )
    notes = read_gate_notes(root)
    dates = _note_dates(root, notes, graph)
    for note in notes:
        if note.commit in dates and parse_time(dates[note.commit]) <= state.snapshot.time:
            date = dates[note.commit]
            staged.append((_key_of(graph, note.commit, date, 1), _from_gate(note, date, graph)))
    staged.sort(key=lambda item: item[0])
    return [
        AuditEvent(seq=seq, pr=prs.get(values.get("landed") or ""), **values)
        for seq, (_, values) in enumerate(staged, start=1)
    ]


def _key(graph: Graph, commit: str, date: str) -> tuple[int, int]:
    return graph.order_of(commit, date)


def _key_of(graph: Graph, commit: str, date: str, rank: int) -> tuple[Any, ...]:
    return (*_key(graph, commit, date), rank, 0)


def _landed(graph: Graph, commit: str) -> str | None:
    return graph.landing.get(commit)


def _from_registry(event: Event, reasons: dict[str, str]) -> dict[str, Any]:
    who = f"{event.model} {event.version}" if event.version else event.model
    if event.kind == "register":
        summary = f"registered {who}"
    elif event.kind in ("deprecate", "archive"):
        summary = f"{event.kind}d {who}"
    else:
        summary = f"{event.env}: {_VERBS.get(event.kind, event.kind)} {who}"
        if (
            event.source_env
            and event.source_env != REGISTRY_SOURCE
            and event.kind in ("promote", "canary")
        ):
            summary += f" from {event.source_env}"
        if event.previous and event.previous != event.version:
            summary += f" (was {event.previous})"
        if event.weight is not None:
            summary += f" at {event.weight}%"
    detail = reasons.get(event.tag or "") or (f"artifact md5 {event.md5}" if event.md5 else None)
    return {
        "kind": event.kind,
        "date": utc_text(event.date),
        "summary": summary,
        "model": event.model or None,
        "version": event.version,
        "env": event.env,
        "actor": event.author or None,
        "email": event.email or None,
        "commit": event.commit,
        "landed": event.landed or (event.commit if event.kind != "register" else None),
        "ref": event.tag or (f"envs/{event.env}.yaml" if event.env else None),
        "detail": detail or None,
    }


def _from_waiver(change: WaiverChange, graph: Graph) -> dict[str, Any]:
    waiver = change.waiver
    scope = waiver.get("scope") or {}
    verb = {"waiver-add": "added", "waiver-change": "changed", "waiver-remove": "removed"}
    detail = (
        f"rule {waiver.get('rule')}; approver {waiver.get('approver')}; "
        f"expires {waiver.get('expires')}; reason: {waiver.get('reason')}"
    )
    return {
        "kind": change.action,
        "date": utc_text(_landing_date(graph, change.commit, change.date)),
        "summary": f"waiver {waiver.get('id')} {verb[change.action]} (rule {waiver.get('rule')})",
        "model": scope.get("model"),
        "version": scope.get("version"),
        "env": scope.get("environment"),
        "actor": change.author,
        "email": change.email,
        "commit": change.commit,
        "landed": _landed(graph, change.commit),
        "ref": change.path,
        "detail": detail,
    }


def _landing_date(graph: Graph, commit: str, fallback: str) -> str:
    return graph.landed_time(commit).isoformat() if commit in graph.landing else fallback


def _from_approval(approval: ApprovalRecord, graph: Graph) -> dict[str, Any]:
    if approval.merge is None:
        detail = "SSH-signed approval tag (the gate verifies its signature)"
    else:
        teams = f"; team {', '.join(approval.teams)}" if approval.teams else ""
        detail = (
            f"counted at merge {approval.merge[:8]}: {approval.state} by {approval.user} "
            f"({approval.source}) on {approval.commit[:8]}{teams}"
        )
    return {
        "kind": "approve",
        "date": utc_text(approval.date),
        "summary": f"{approval.env}: {approval.user} approved {approval.commit[:8]}",
        "env": approval.env,
        "actor": approval.user,
        "commit": approval.commit,
        "landed": approval.merge or _landed(graph, approval.commit),
        "ref": approval.tag,
        "detail": detail,
    }


def _note_dates(root: Any, notes: list[GateNote], graph: Graph) -> dict[str, str]:
    dates = {
        n.commit: datetime.fromtimestamp(graph.time[n.commit], UTC).isoformat()
        for n in notes
        if n.commit in graph.time
    }
    dates.update(read_commit_dates(root, [n.commit for n in notes if n.commit not in dates]))
    return dates


def _from_gate(note: GateNote, date: str, graph: Graph) -> dict[str, Any]:
    data = note.data
    env, model, version = data.get("environment"), data.get("model"), data.get("version")
    where = f"{env}: " if env else ""
    return {
        "kind": "gate",
        "date": utc_text(date),
        "summary": f"{where}gate {note.decision} on {note.commit[:8]}: {note.summary}".strip(),
        "model": model,
        "version": version,
        "env": env,
        "actor": "mlops gate",
        "commit": note.commit,
        "landed": _landed(graph, note.commit),
        "ref": f"refs/notes/mlops-gate:{note.commit}",
        "detail": _gate_detail(note),
    }


def _gate_detail(note: GateNote) -> str:
    detail = note.decision if not note.branch else f"{note.decision} (branch {note.branch})"
    digest = note.data.get("bundle_digest")
    return f"{detail}; evidence {digest}" if digest else detail
