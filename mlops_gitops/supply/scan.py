"""``mlops scan`` and the gate's ``scan`` evidence: run the scanners, judge the findings.

Every finding at or above ``block_at`` (``policies/scan.yaml``) blocks unless
a waiver of ``policies/waivers.yaml`` names it: ``rule: scan-findings`` with
``finding: ID``, in scope (model, version, environment) and not expired, with
an approver of the waiver team, like any other waiver. The rule
``scan-findings`` of the policies then blocks the gate on ``scan.blocking``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mlops_gitops import scm
from mlops_gitops.policies.bundle import Waiver
from mlops_gitops.policies.waivers import in_scope, is_expired
from mlops_gitops.supply.findings import RANKS, SCAN_RULE, Scan, ScanFinding
from mlops_gitops.supply.scanfile import ScanConfig
from mlops_gitops.supply.scanners import Scanned, audit_lock, scan_code, scan_pickles, scan_secrets

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ScanScope:
    """Where the findings are judged: the time and the waivers' scope."""

    now: datetime
    waivers: Sequence[Waiver] = ()
    model: str | None = None
    version: str | None = None
    environment: str | None = None


def run_scan(
    root: Path, config: ScanConfig, *, changed_files: Sequence[str], scope: ScanScope
) -> Scan:
    """Run every configured scanner on ``root`` and judge the findings.

    Raises:
        SupplyError: a scanner cannot run (a missing tool, an unreachable OSV service).
        DependencyMissingError: the ``supply`` extra is not installed.
    """
    steps: list[tuple[str, Callable[[], Scanned]]] = []
    if config.vulnerabilities is not None:
        vulnerabilities = config.vulnerabilities
        steps.append(("pip-audit", lambda: audit_lock(root, vulnerabilities)))
    if config.code is not None:
        code = config.code
        steps.append(("bandit", lambda: scan_code(root, code)))
    if config.pickles is not None:
        patterns = config.pickles
        steps.append(("pickle", lambda: scan_pickles(root, patterns)))
    if config.secrets:
        steps.append(("secrets", lambda: scan_secrets(root, list(changed_files))))
    summary: dict[str, str] = dict.fromkeys(("pip-audit", "bandit", "pickle", "secrets"), "off")
    found: list[ScanFinding] = []
    for name, step in steps:
        log.info("scan: %s", name)
        what, findings = step()
        summary[name] = f"{what}: {len(findings)} finding(s)"
        found += findings
    return judge(found, config, scope, summary)


def judge(
    findings: list[ScanFinding], config: ScanConfig, scope: ScanScope, summary: dict[str, str]
) -> Scan:
    """Apply the waivers of single findings and mark what blocks."""
    judged: list[ScanFinding] = []
    expired: set[str] = set()
    for item in findings:
        waivers = [
            w
            for w in scope.waivers
            if w.rule == SCAN_RULE
            and w.finding == item.id
            and in_scope(w, model=scope.model, version=scope.version, environment=scope.environment)
        ]
        active = next((w for w in waivers if not is_expired(w, scope.now)), None)
        expired |= {w.id for w in waivers if is_expired(w, scope.now)}
        blocking = active is None and item.rank >= RANKS[config.block_at]
        waiver = active.id if active else None
        judged.append(item.model_copy(update={"waiver": waiver, "blocking": blocking}))
    judged.sort(key=lambda f: (-f.rank, f.id))
    return Scan(
        block_at=config.block_at,
        scanners=summary,
        findings=judged,
        blocking=[f.id for f in judged if f.blocking],
        expired_waivers=sorted(expired),
    )


def changed_files(root: Path, base: str | None) -> list[str]:
    """Return the files of the change (``git diff BASE...HEAD``), or every tracked file."""
    if base is not None and scm.git_ok("rev-parse", "--verify", f"{base}^{{commit}}", cwd=root):
        out = scm.git("diff", "--name-only", f"{base}...HEAD", cwd=root)
    else:
        out = scm.git("ls-files", cwd=root)
    return [line for line in out.splitlines() if line]


def scan_evidence(root: Path, *, changed: Sequence[str], scope: ScanScope) -> Scan | None:
    """Return the gate's ``scan`` section: None when the project has no ``policies/scan.yaml``."""
    from mlops_gitops.supply.scanfile import load_scan_config

    config = load_scan_config(root / "policies")
    if config is None:
        return None
    return run_scan(root, config, changed_files=changed, scope=scope)


def scan_project(
    root: Path,
    *,
    base: str | None = "main",
    now: datetime,
    model: str | None = None,
    version: str | None = None,
    environment: str | None = None,
) -> Scan:
    """Run the scans of ``policies/scan.yaml`` on the project at ``root`` (``mlops scan``).

    Raises:
        SupplyError: the project has no ``policies/scan.yaml``, or a scanner cannot run.
        PolicyError: ``scan.yaml``, ``roles.yaml`` or ``waivers.yaml`` is not valid.
    """
    from mlops_gitops.policies.collect import read_roles_and_waivers
    from mlops_gitops.supply import SupplyError
    from mlops_gitops.supply.scanfile import load_scan_config

    config = load_scan_config(root / "policies")
    if config is None:
        raise SupplyError(
            "policies/scan.yaml: file not found; create it to say what to scan "
            "(an empty file scans everything with the defaults)"
        )
    _, waivers = read_roles_and_waivers(root)
    scope = ScanScope(
        now=now, waivers=waivers, model=model, version=version, environment=environment
    )
    return run_scan(root, config, changed_files=changed_files(root, base), scope=scope)
