"""The forge interface: where reports, gate decisions and approvals live.

A forge backend publishes a rendered PR report (one per change, updated in
place), sets the gate as a required status, lists the approvals given on a
change, and opens issues (the ``forge_issue`` alert channel of monitoring).
The ``policies`` concept never sees a forge; the ``ci`` concept turns its
decisions into :class:`GateStatus` values for a forge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from mlops_gitops.errors import MlopsError

GATE_CONTEXT = "mlops/gate"
REPORT_MARKER = "<!-- mlops-report:{key} -->"
ATTACHMENT_SCHEME = "attachment://"
ZERO_SHA = "0" * 40

GateState = Literal["success", "failure", "pending", "error"]
Decision = Literal["pass", "warn", "block", "pending", "error"]
DECISION_STATES: dict[str, GateState] = {
    "pass": "success",
    "warn": "success",
    "block": "failure",
    "pending": "pending",
    "error": "error",
}


class ForgeError(MlopsError):
    """A forge refused a call, is misconfigured or cannot be reached."""


@dataclass(frozen=True)
class ChangeRef:
    """The change a report or gate is about: a commit on a branch, maybe a pull request."""

    sha: str
    branch: str
    base: str = "main"
    pull: int | None = None


@dataclass(frozen=True)
class Report:
    """A rendered PR report: Markdown whose images are ``attachment://NAME`` links.

    Each forge stores the attachments where it can serve them and rewrites
    the links; ``key`` scopes the marker so different reports do not collide.
    """

    markdown: str
    attachments: Mapping[str, bytes] = field(default_factory=dict)
    key: str = "train"

    def marker(self) -> str:
        """Return the hidden marker that identifies this report's comment."""
        return REPORT_MARKER.format(key=self.key)

    def with_links(self, links: Mapping[str, str]) -> str:
        """Return the Markdown with each ``attachment://NAME`` replaced by ``links[NAME]``."""
        text = self.markdown
        for name, url in links.items():
            text = text.replace(f"{ATTACHMENT_SCHEME}{name}", url)
        return text


@dataclass(frozen=True, kw_only=True)
class GateStatus:
    """The gate's verdict on one commit, as a forge shows it."""

    decision: Decision
    summary: str
    details: str = ""
    target_url: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    evidence: str | None = None
    """The gate record (bundle and decision, JSON) kept as a note beside the decision."""

    @property
    def state(self) -> GateState:
        """Return the commit-status state of the decision."""
        return DECISION_STATES[self.decision]

    def description(self) -> str:
        """Return the summary cut to GitHub's 140-character status description."""
        return self.summary if len(self.summary) <= 140 else self.summary[:139] + "…"


@dataclass(frozen=True)
class Approval:
    """One approval of a change: who (as the forge knows them), on which commit, from where."""

    reviewer: str
    commit: str
    source: str
    env: str | None = None


@dataclass(frozen=True)
class Publication:
    """Where a report or gate was published and whether it was created or updated."""

    location: str
    created: bool
    url: str | None = None


class Forge(Protocol):
    """A place that shows reports and gates and holds approvals (GitHub, a bare repository)."""

    name: str

    def publish_report(self, target: ChangeRef, report: Report) -> Publication:
        """Create or update the one report of ``target`` (same ``report.key``)."""
        ...

    def set_gate(self, target: ChangeRef, gate: GateStatus) -> Publication:
        """Record the gate decision for ``target.sha`` as a required status."""
        ...

    def list_approvals(self, target: ChangeRef) -> list[Approval]:
        """Return every approval given on the change, oldest first (the policies judge them)."""
        ...

    def list_authors(self, target: ChangeRef) -> list[str]:
        """Return the identities the forge itself attaches to the change (never free text).

        The policies judge self-approval by them: a reviewer who is one of
        them does not count.
        """
        ...

    def read_report(self, target: ChangeRef, key: str = "train") -> str | None:
        """Return the published report of ``target``, or None."""
        ...

    def read_gate(self, target: ChangeRef) -> GateStatus | None:
        """Return the recorded gate decision of ``target.sha``, or None."""
        ...

    def open_issue(self, title: str, body: str, labels: Sequence[str]) -> str:
        """Open an issue (e.g. a monitoring alert); return its URL or identifier."""
        ...

    def keep_notes(self, updates: Sequence[Any]) -> None:
        """Record ``updates`` (``records.NoteUpdate`` values) as notes in the forge's Git."""
        ...
