"""The findings of a scan, as the evidence bundle holds them (section ``scan``).

A finding has a stable id that a waiver names (``finding:`` in
``policies/waivers.yaml``): ``pip-audit:VULN:PACKAGE``,
``bandit:TEST:FILE``, ``pickle:FILE`` and ``secrets:FILE:HASH``. Severities
are ranked so a rule can compare them (``low`` 1 to ``critical`` 4).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["low", "medium", "high", "critical"]
Scanner = Literal["pip-audit", "bandit", "pickle", "secrets"]
RANKS: dict[str, int] = {"low": 1, "medium": 2, "high": 3, "critical": 4}
SCAN_RULE = "scan-findings"
"""The rule that blocks on unwaived findings; a waiver of one finding names it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScanFinding(_Section):
    """One finding of one scanner."""

    id: str = Field(description="stable id a waiver names, e.g. pip-audit:PYSEC-2024-1:requests")
    scanner: Scanner
    severity: Severity
    rank: int = Field(ge=1, le=4, description="1 low, 2 medium, 3 high, 4 critical")
    location: str = Field(description="the package, file or file:line the finding is about")
    message: str
    waiver: str | None = Field(default=None, description="the waiver that covers it, if any")
    blocking: bool = Field(description="unwaived and at or above scan.block_at")


class Scan(_Section):
    """What ``mlops scan`` found, after the waivers of single findings."""

    block_at: Severity = Field(description="policies/scan.yaml 'block_at'")
    scanners: dict[str, str] = Field(
        default_factory=dict, description="scanner -> what it scanned (or why it did not run)"
    )
    findings: list[ScanFinding] = Field(default_factory=list)
    blocking: list[str] = Field(
        default_factory=list, description="ids of the unwaived findings at or above block_at"
    )
    expired_waivers: list[str] = Field(
        default_factory=list, description="waivers of findings here that have expired"
    )


def finding(
    *, scanner: Scanner, key: str, severity: Severity, location: str, message: str
) -> ScanFinding:
    """Return an unjudged finding (not waived, not yet blocking) with id ``SCANNER:KEY``."""
    return ScanFinding(
        id=f"{scanner}:{key}",
        scanner=scanner,
        severity=severity,
        rank=RANKS[severity],
        location=location,
        message=" ".join(message.split()),
        blocking=False,
    )
