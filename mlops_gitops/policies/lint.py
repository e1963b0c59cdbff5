"""Policy lint: every problem of a policies folder at once, each naming ``file:line``.

Checks that every file loads and every rule compiles, that rule ids are
unique across files, that every field a rule reads exists in the bundle
schema, that every rule carries test cases, that roles and waivers are
valid, that waivers name existing rules, and reports expired waivers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from mlops_gitops.policies.approvals import Roles, load_roles
from mlops_gitops.policies.bundle import SCHEMA_VERSION, Waiver
from mlops_gitops.policies.engine import format_path
from mlops_gitops.policies.fields import schema_at
from mlops_gitops.policies.rules import (
    ROLES_FILE,
    WAIVERS_FILE,
    LoadedRule,
    list_rule_files,
    load_rule_file,
)
from mlops_gitops.policies.source import PolicyError
from mlops_gitops.policies.waivers import is_expired, load_waivers


@dataclass(frozen=True)
class LintFinding:
    """One problem: its level and a one-line message that starts with ``file:line``."""

    level: Literal["error", "warning"]
    message: str


def lint_policies(folder: Path, *, now: datetime, origin: str = "policies") -> list[LintFinding]:
    """Return every finding for the policies folder (an empty list when it is clean)."""
    findings: list[LintFinding] = []
    rules: list[LoadedRule] = []
    for path in list_rule_files(folder):
        try:
            rules += load_rule_file(path, f"{origin}/{path.name}")
        except PolicyError as exc:
            findings.append(LintFinding("error", str(exc)))
    findings += _duplicates(rules)
    for rule in rules:
        findings += _rule_findings(rule)
    roles = _lint_roles(folder, origin, findings)
    if roles is not None:
        waivers = _lint_waivers(folder, origin, roles, findings)
        findings += _waiver_findings(
            waivers, {r.id for r in rules}, now, f"{origin}/{WAIVERS_FILE}"
        )
    return findings


def _duplicates(rules: list[LoadedRule]) -> list[LintFinding]:
    first: dict[str, LoadedRule] = {}
    out: list[LintFinding] = []
    for rule in rules:
        if rule.id in first:
            out.append(
                LintFinding(
                    "error",
                    f"{rule.source} rule '{rule.id}': duplicate id; "
                    f"first defined at {first[rule.id].source}",
                )
            )
        else:
            first[rule.id] = rule
    return out


def _rule_findings(rule: LoadedRule) -> list[LintFinding]:
    out: list[LintFinding] = []
    for path in (*rule.reads, *rule.requires):
        if path[0] != "vars" and schema_at(path) is None:
            out.append(
                LintFinding(
                    "error",
                    f"{rule.source} rule '{rule.id}': reads {format_path(path)}, "
                    f"which is not a field of the evidence bundle (schema {SCHEMA_VERSION}); "
                    "see 'mlops policy schema'",
                )
            )
    if not rule.rule.tests:
        out.append(LintFinding("warning", f"{rule.source} rule '{rule.id}': has no test cases"))
    return out


def _lint_roles(folder: Path, origin: str, findings: list[LintFinding]) -> Roles | None:
    try:
        return load_roles(folder / ROLES_FILE, f"{origin}/{ROLES_FILE}")
    except PolicyError as exc:
        findings.append(LintFinding("error", str(exc)))
        return None


def _lint_waivers(
    folder: Path, origin: str, roles: Roles, findings: list[LintFinding]
) -> list[Waiver]:
    try:
        return load_waivers(folder / WAIVERS_FILE, f"{origin}/{WAIVERS_FILE}", roles)
    except PolicyError as exc:
        findings.append(LintFinding("error", str(exc)))
        return []


def _waiver_findings(
    waivers: list[Waiver], rule_ids: set[str], now: datetime, origin: str
) -> list[LintFinding]:
    out: list[LintFinding] = []
    for waiver in waivers:
        if waiver.rule not in rule_ids:
            out.append(
                LintFinding(
                    "error", f"{origin} waiver '{waiver.id}': rule '{waiver.rule}' does not exist"
                )
            )
        if is_expired(waiver, now):
            out.append(
                LintFinding(
                    "warning",
                    f"{origin} waiver '{waiver.id}': "
                    f"expired on {waiver.expires.isoformat()}; remove it",
                )
            )
    return out
