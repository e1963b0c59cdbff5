"""The policies page: every rule, where it applies, its tests; active and expired waivers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_gitops.errors import MlopsError

if TYPE_CHECKING:
    from mlops_gitops.policies import Waiver


@dataclass(frozen=True, kw_only=True)
class RuleRow:
    """One rule as the page shows it."""

    id: str
    description: str
    where: str
    severity: str
    waivable: bool
    condition: str
    source: str
    tests: list[dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class WaiverRow:
    """One waiver as the page shows it."""

    id: str
    rule: str
    scope: str
    reason: str
    approver: str
    expires: str


@dataclass(frozen=True, kw_only=True)
class PolicyPage:
    """The rules, the waivers split by expiry, and a load error if any."""

    rules: list[RuleRow]
    active: list[WaiverRow]
    expired: list[WaiverRow]
    digest: str = ""
    error: str = ""


def read_policy_page(root: Path, now: datetime) -> PolicyPage:
    """Load the rules and waivers of ``root/policies``; an invalid file is reported, not raised."""
    folder = root / "policies"
    if not folder.is_dir():
        return PolicyPage(
            rules=[], active=[], expired=[], error="this repository has no policies/ folder"
        )
    from mlops_gitops.policies import load_policy_set, load_roles, load_waivers
    from mlops_gitops.policies.waivers import is_expired

    try:
        policy_set = load_policy_set(folder)
        roles = load_roles(folder / "roles.yaml", "policies/roles.yaml")
        waivers = load_waivers(folder / "waivers.yaml", "policies/waivers.yaml", roles)
    except MlopsError as exc:
        return PolicyPage(rules=[], active=[], expired=[], error=str(exc))
    rows = [
        RuleRow(
            id=loaded.id,
            description=loaded.rule.description.strip(),
            where=_where(loaded.rule.where.model_dump()),
            severity=_severity(loaded.rule.severity),
            waivable=loaded.rule.waivable,
            condition=" ".join(loaded.rule.condition.split()),
            source=loaded.source,
            tests=[{"name": t.name, "expect": t.expect} for t in loaded.rule.tests],
        )
        for loaded in policy_set.rules
    ]
    shown = [(_waiver(w), is_expired(w, now)) for w in waivers]
    return PolicyPage(
        rules=rows,
        active=[w for w, expired in shown if not expired],
        expired=[w for w, expired in shown if expired],
        digest=policy_set.digest,
    )


def _where(scope: dict[str, list[str]]) -> str:
    parts = [f"{key}: {', '.join(values)}" for key, values in scope.items() if values]
    return "; ".join(parts) or "every change"


def _severity(severity: str | Mapping[str, str]) -> str:
    if isinstance(severity, str):
        return severity
    return ", ".join(f"{env} {level}" for env, level in severity.items())


def _waiver(waiver: Waiver) -> WaiverRow:
    scope = waiver.scope.model_dump(exclude_none=True)
    return WaiverRow(
        id=waiver.id,
        rule=waiver.rule,
        scope=", ".join(f"{k} {v}" for k, v in scope.items()) or "everywhere",
        reason=waiver.reason,
        approver=waiver.approver,
        expires=waiver.expires.isoformat(),
    )
