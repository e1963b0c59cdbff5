"""Waivers: time-limited exceptions to rules, in ``policies/waivers.yaml``.

A waiver names a rule, a scope (model, version, environment), a reason, an
approver and an expiry date. A failed rule in scope becomes ``waived`` (a
warning that cites the waiver) until the waiver expires; an expired waiver
no longer applies and is reported. The approver must belong to the team
that ``roles.yaml`` names for waivers; changing the waivers file itself
needs the approvals ``roles.yaml`` requires for its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mlops_gitops.policies.approvals import Roles
from mlops_gitops.policies.bundle import Waiver
from mlops_gitops.policies.source import PolicyError, read_document, validate
from mlops_gitops.supply.findings import SCAN_RULE


class WaiversFile(BaseModel):
    """``policies/waivers.yaml``: a list of waivers."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    waivers: list[Waiver] = Field(default_factory=list)


@dataclass(frozen=True)
class WaiverMatch:
    """The waivers in scope of one failed rule: the one that applies, the expired ones."""

    active: Waiver | None
    expired: tuple[Waiver, ...]


def load_waivers(path: Path, origin: str, roles: Roles) -> list[Waiver]:
    """Read the waivers file (a missing file means none) and check each approver's team.

    Raises:
        PolicyError: the file is not valid, an id repeats, or an approver may not approve waivers.
    """
    if not path.exists():
        return []
    doc = read_document(path, origin)
    data = {} if doc.data is None else doc.data
    if isinstance(data, dict) and data.get("waivers") is None:
        data = {**data, "waivers": []}
    waivers = validate(WaiversFile, doc, data=data).waivers
    seen: set[str] = set()
    for index, waiver in enumerate(waivers):
        where = f"{origin}:{doc.line_of(['waivers', index])} waiver '{waiver.id}'"
        if waiver.id in seen:
            raise PolicyError(f"{where}: duplicate id; waiver ids must be unique")
        seen.add(waiver.id)
        if waiver.finding is not None and waiver.rule != SCAN_RULE:
            raise PolicyError(
                f"{where}: 'finding' waives one scan finding; its rule must be '{SCAN_RULE}', "
                f"not '{waiver.rule}'"
            )
        _check_approver(roles, waiver, where)
    return waivers


def _check_approver(roles: Roles, waiver: Waiver, where: str) -> None:
    if roles.waivers is None:
        raise PolicyError(
            f"{where}: roles.yaml names no waiver approvers; add 'waivers: {{approvers: TEAM}}'"
        )
    team = roles.waivers.approvers
    if team not in roles.teams_of(roles.person(waiver.approver)):
        raise PolicyError(f"{where}: approver '{waiver.approver}' is not a member of team '{team}'")


def is_expired(waiver: Waiver, now: datetime) -> bool:
    """Return whether ``waiver`` has expired at ``now`` (it applies through its expiry day)."""
    return now.date() > waiver.expires


def in_scope(
    waiver: Waiver, *, model: str | None, version: str | None, environment: str | None
) -> bool:
    """Return whether the waiver's scope covers this model, version and environment."""
    scope = waiver.scope
    wanted = ((scope.model, model), (scope.version, version), (scope.environment, environment))
    return all(expected is None or expected == actual for expected, actual in wanted)


def match_waivers(
    waivers: list[Waiver],
    rule_id: str,
    *,
    now: datetime,
    model: str | None,
    version: str | None,
    environment: str | None,
) -> WaiverMatch:
    """Return the waiver that applies to ``rule_id`` here (if any) and the expired ones in scope."""
    matching = [  # a waiver of one scan finding never waives its whole rule
        w
        for w in waivers
        if w.rule == rule_id
        and w.finding is None
        and in_scope(w, model=model, version=version, environment=environment)
    ]
    active = [w for w in matching if not is_expired(w, now)]
    expired = tuple(w for w in matching if is_expired(w, now))
    return WaiverMatch(active=active[0] if active else None, expired=expired)
