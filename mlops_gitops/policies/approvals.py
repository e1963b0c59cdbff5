"""Approvals: who may approve what (``policies/roles.yaml``) and which approvals count.

Approvals come from providers (:class:`ApprovalProvider`): a JSON file here,
forge reviews and SSH-signed approval tags from the forge. The gate counts
an approval for a team when the reviewer is a member, the approval is on
the head commit, and the reviewer is not an author of the change; the
others are reported (stale, self-approval) but never counted.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlops_gitops import documents
from mlops_gitops.policies.bundle import Approvals, Review
from mlops_gitops.policies.source import PolicyError, read_document, validate

TEAM = r"^[a-z0-9][a-z0-9._-]*$"
# The files that decide what the gate requires: a change to any of them is a
# policy change, judged by the base's roles whatever the rule files say.
POLICY_PATHS = ("policies/*", "envs/environments.yaml", ".github/*")


@dataclass(frozen=True)
class Approval:
    """One approval of the change: who gave it, on which commit, through which provider."""

    reviewer: str
    commit: str
    source: str = "file"
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class ApprovalSet:
    """What a provider knows of the change: its approvals and who made it.

    ``author`` and ``authors`` are identities the provider vouches for (a
    forge's authenticated pusher, a verified commit signer, a pull
    request's opener); ``unattributed`` lists commits whose maker the
    provider could not establish, in which case no approval can count (any
    approver might have made them).
    """

    approvals: tuple[Approval, ...] = ()
    author: str | None = None
    authors: tuple[str, ...] = ()
    unattributed: tuple[str, ...] = ()


class ApprovalProvider(Protocol):
    """A source of approvals for the change whose head commit is ``head``."""

    def read_approvals(self, root: Path, head: str) -> ApprovalSet:
        """Return the approvals given on the change (on any of its commits)."""
        ...


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovalEntry(_File):
    """One approval in an approvals JSON file."""

    reviewer: str = Field(min_length=1)
    commit: str = Field(pattern=r"^[0-9a-f]{7,64}$", description="the approved commit")
    submitted_at: datetime | None = None


class ApprovalsFile(_File):
    """An approvals JSON file: ``{"author": ..., "approvals": [...]}``."""

    author: str | None = None
    approvals: list[ApprovalEntry] = Field(default_factory=list)


class FileApprovals:
    """Approvals read from a JSON file (``mlops gate --approvals FILE``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_approvals(self, root: Path, head: str) -> ApprovalSet:
        """Read and validate the file."""
        missing = "approvals file not found"
        data = documents.read_json(self.path, error=PolicyError, missing=missing)
        parsed = documents.validate(
            ApprovalsFile, data, str(self.path), error=PolicyError, wording=documents.RECORD
        )
        approvals = tuple(
            Approval(
                e.reviewer, e.commit, source=f"file:{self.path.name}", submitted_at=e.submitted_at
            )
            for e in parsed.approvals
        )
        return ApprovalSet(approvals=approvals, author=parsed.author)


class StaticApprovals:
    """Approvals given in Python (tests, or a caller that already holds them)."""

    def __init__(self, approvals: Iterable[Approval], author: str | None = None) -> None:
        self.approvals = ApprovalSet(tuple(approvals), author)

    def read_approvals(self, root: Path, head: str) -> ApprovalSet:
        """Return the approvals given at construction."""
        return self.approvals


class WaiverPolicy(_File):
    """Who may approve a waiver."""

    approvers: str = Field(description="the team whose members may approve waivers")


class Requirements(_File):
    """Approvals required before a change merges."""

    environments: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="environment -> team -> approvals"
    )
    paths: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="glob of changed files -> team -> approvals"
    )
    policies: dict[str, int] | None = Field(
        default=None,
        description=(
            "team -> approvals a change to the files that decide policy needs "
            f"({', '.join(POLICY_PATHS)}); default: the strictest environment's"
        ),
    )

    def policy_requirement(self) -> dict[str, int]:
        """Return what a policy change needs: ``policies``, else the strictest environment's."""
        if self.policies is not None:
            return dict(self.policies)
        needed: dict[str, int] = {}
        for teams in self.environments.values():
            for team, count in teams.items():
                needed[team] = max(needed.get(team, 0), count)
        return needed


class Roles(_File):
    """``policies/roles.yaml``: people, teams, required approvals, waiver approvers."""

    people: dict[str, list[str]] = Field(
        default_factory=dict, description="person -> other identities (emails, forge logins)"
    )
    teams: dict[str, list[str]] = Field(default_factory=dict, description="team -> members")
    approvals: Requirements = Field(default_factory=Requirements)
    waivers: WaiverPolicy | None = None

    @field_validator("teams")
    @classmethod
    def _team_names(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        import re

        for name in value:
            if not re.match(TEAM, name):
                raise ValueError(
                    f"team name '{name}' must be lower-case letters, digits, '.', '_' or '-'"
                )
        return value

    @model_validator(mode="after")
    def _known_teams(self) -> Roles:
        wanted = [t for req in self.approvals.environments.values() for t in req]
        wanted += [t for req in self.approvals.paths.values() for t in req]
        wanted += list(self.approvals.policies or {})
        wanted += [self.waivers.approvers] if self.waivers else []
        for team in wanted:
            if team not in self.teams:
                raise ValueError(f"team '{team}' is not defined under 'teams'")
        return self

    def person(self, identity: str) -> str:
        """Return the person an identity belongs to (itself when no alias names it)."""
        wanted = identity.strip().lower()
        for person, aliases in self.people.items():
            if wanted == person.lower() or wanted in (a.lower() for a in aliases):
                return person.lower()
        return wanted

    def teams_of(self, person: str) -> list[str]:
        """Return the teams ``person`` is a member of."""
        return [
            team
            for team, members in self.teams.items()
            if person in {self.person(m) for m in members}
        ]


def load_roles(path: Path, origin: str) -> Roles:
    """Read ``roles.yaml``; a missing file means no teams and no requirements."""
    if not path.exists():
        return Roles()
    doc = read_document(path, origin)
    return validate(Roles, doc, data={} if doc.data is None else doc.data)


def assess_approvals(
    roles: Roles,
    sets: Sequence[ApprovalSet],
    *,
    head: str,
    authors: Iterable[str],
    environment: str | None = None,
    changed_files: Sequence[str] = (),
) -> Approvals:
    """Judge every approval and count the valid ones per team against the requirements."""
    people = {roles.person(a) for a in authors if a}
    people |= {roles.person(s.author) for s in sets if s.author}
    people |= {roles.person(a) for s in sets for a in s.authors if a}
    unattributed = sorted({c for s in sets for c in s.unattributed})
    reviews = [_review(roles, a, head, people) for s in sets for a in s.approvals]
    if unattributed:  # who made those commits is unknown: any approver may be their author
        reviews = [r.model_copy(update={"counted": False}) for r in reviews]
    counted: dict[str, set[str]] = {team: set() for team in roles.teams}
    for review in reviews:
        for team in review.roles if review.counted else ():
            counted[team].add(review.person)
    counted_people = {r.person for r in reviews if r.counted}
    return Approvals(
        authors=sorted(people),
        reviews=reviews,
        count={team: len(members) for team, members in counted.items()},
        required=dict(roles.approvals.environments.get(environment or "", {})),
        required_for_paths=_path_requirements(roles, changed_files),
        stale=sorted({r.person for r in reviews if not r.on_head} - counted_people),
        self_approvals=sorted({r.person for r in reviews if r.self_approval}),
        unattributed=unattributed,
    )


def _review(roles: Roles, approval: Approval, head: str, authors: set[str]) -> Review:
    person = roles.person(approval.reviewer)
    on_head = len(approval.commit) >= 7 and head.startswith(approval.commit)
    is_author = person in authors
    return Review(
        reviewer=approval.reviewer,
        person=person,
        roles=roles.teams_of(person),
        commit=approval.commit,
        source=approval.source,
        on_head=on_head,
        self_approval=is_author,
        counted=on_head and not is_author,
    )


def _path_requirements(roles: Roles, changed_files: Sequence[str]) -> dict[str, int]:
    """Return what the changed files need: their ``paths`` entries, the environment of each
    edited manifest, and the policy requirement for policy files no entry names."""
    rules = list(roles.approvals.paths.items())
    rules += [(f"envs/{env}.yaml", teams) for env, teams in roles.approvals.environments.items()]
    explicit = [pattern for pattern, _ in rules]
    policy_files = [
        f
        for f in changed_files
        if any(fnmatch.fnmatchcase(f, p) for p in POLICY_PATHS)
        and not any(fnmatch.fnmatchcase(f, p) for p in explicit)
    ]
    needed = dict(roles.approvals.policy_requirement()) if policy_files else {}
    for pattern, teams in rules:
        if any(fnmatch.fnmatchcase(f, pattern) for f in changed_files):
            for team, count in teams.items():
                needed[team] = max(needed.get(team, 0), count)
    return needed
