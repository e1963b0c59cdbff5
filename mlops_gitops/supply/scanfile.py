"""``policies/scan.yaml``: what ``mlops scan`` and the gate scan, and what blocks.

A project scans once this file exists; a section set to ``null`` turns its
scanner off. Changing the file is a policy change (``policies/*``), reviewed
with the approvals ``roles.yaml`` requires for one.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mlops_gitops.policies.rules import SCAN_FILE
from mlops_gitops.supply.findings import Severity

OSV_URL_ENV = "MLOPS_OSV_URL"
DEFAULT_PICKLES = ("**/*.pkl", "**/*.pickle", "**/*.joblib")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Vulnerabilities(_Section):
    """The audit of the locked packages against an OSV service (pip-audit)."""

    lock: str = Field(default="requirements/lock.txt", description="a pinned requirements file")
    osv_url: str = Field(
        default="https://api.osv.dev/v1/query",
        description=f"the OSV query endpoint ({OSV_URL_ENV} overrides it)",
    )
    severity: Severity = Field(
        default="high", description="the severity of a known vulnerability (OSV gives none here)"
    )


class Code(_Section):
    """The static security scan of the project's Python code (bandit)."""

    paths: list[str] = Field(default_factory=lambda: ["."], description="folders or files to scan")
    exclude: list[str] = Field(default_factory=list, description="paths bandit skips")
    skip: list[str] = Field(default_factory=list, description="bandit test ids not run, e.g. B101")


class ScanConfig(_Section):
    """``policies/scan.yaml``."""

    block_at: Severity = Field(
        default="high", description="an unwaived finding of this severity or above blocks"
    )
    vulnerabilities: Vulnerabilities | None = Field(default_factory=Vulnerabilities)
    code: Code | None = Field(default_factory=Code)
    pickles: list[str] | None = Field(
        default_factory=lambda: list(DEFAULT_PICKLES),
        description="globs of pickled files to scan (fickling)",
    )
    secrets: bool = Field(default=True, description="scan the changed files for secrets")


def load_scan_config(folder: Path, origin: str = "policies") -> ScanConfig | None:
    """Read ``FOLDER/scan.yaml``; None when the project has none (it does not scan).

    Raises:
        PolicyError: the file is not valid (one line naming file, line and field).
    """
    from mlops_gitops.policies.source import read_document, validate

    path = folder / SCAN_FILE
    if not path.is_file():
        return None
    doc = read_document(path, f"{origin}/{SCAN_FILE}")
    return validate(ScanConfig, doc, data={} if doc.data is None else doc.data)
