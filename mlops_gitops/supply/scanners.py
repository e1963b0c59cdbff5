"""The four scanners of ``mlops scan``, each returning what it scanned and its findings.

pip-audit and bandit run as processes of this Python (their JSON reports
are read back); fickling and detect-secrets are called in-process. A tool
that is missing, or a service it cannot reach, is an error naming it: a scan
that did not run never reads as a clean one.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mlops_gitops.documents import parse_json
from mlops_gitops.errors import DependencyMissingError
from mlops_gitops.supply import SupplyError
from mlops_gitops.supply.findings import ScanFinding, Severity, finding
from mlops_gitops.supply.scanfile import OSV_URL_ENV, Code, Vulnerabilities

Scanned = tuple[str, list[ScanFinding]]
SKIPPED_DIRS = frozenset({".git", ".dvc", ".venv", "venv", "node_modules", ".mlops"})
_BANDIT: dict[str, Severity] = {"LOW": "low", "MEDIUM": "medium", "HIGH": "high"}
# fickling's verdicts, worst first: any import outside the standard library "can execute
# code" (every scikit-learn pickle does), so that alone is medium; a call it calls
# malicious (os.system, exec, a shell) is critical
_FICKLING: tuple[tuple[str, Severity], ...] = (
    ("OVERTLY_MALICIOUS", "critical"),
    ("LIKELY_OVERTLY_MALICIOUS", "critical"),
    ("LIKELY_UNSAFE", "medium"),
    ("SUSPICIOUS", "low"),
    ("POSSIBLY_UNSAFE", "low"),
)


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise DependencyMissingError(module.replace("_", "-"), "supply")


def _run_tool(name: str, args: list[str], root: Path, report: Path) -> dict[str, Any]:
    """Run ``python -m NAME ARGS`` writing a JSON ``report``; return it.

    Raises:
        SupplyError: the tool wrote no JSON report (it failed before scanning).
    """
    proc = subprocess.run(
        [sys.executable, "-m", name.replace("-", "_"), *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if not report.is_file():
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        why = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise SupplyError(f"{name} did not run: {why}")
    data = parse_json(report.read_bytes(), f"the {name} report", error=SupplyError)
    if not isinstance(data, dict):
        raise SupplyError(f"the {name} report: not a JSON object")
    return data


def audit_lock(root: Path, config: Vulnerabilities) -> Scanned:
    """Audit every package pinned in the lock file against the OSV service."""
    _require("pip_audit")
    lock = root / config.lock
    if not lock.is_file():
        raise SupplyError(f"policies/scan.yaml vulnerabilities.lock: {config.lock}: file not found")
    url = os.environ.get(OSV_URL_ENV) or config.osv_url
    with tempfile.TemporaryDirectory(prefix="mlops-audit-") as tmp:
        report = Path(tmp) / "audit.json"
        args = ["-r", str(lock), "--no-deps", "--disable-pip", "-s", "osv", "--osv-url", url]
        args += ["-f", "json", "-o", str(report), "--progress-spinner", "off", "--desc", "on"]
        data = _run_tool("pip-audit", [*args, "--cache-dir", f"{tmp}/cache"], root, report)
    packages = data.get("dependencies", [])
    found = [
        finding(
            scanner="pip-audit",
            key=f"{vuln['id']}:{pkg['name']}",
            severity=config.severity,
            location=f"{pkg['name']}=={pkg.get('version', '?')}",
            message=f"{vuln['id']} in {pkg['name']} {pkg.get('version', '?')} "
            f"({config.lock}): {vuln.get('description') or 'no description'}; fixed in "
            f"{', '.join(vuln.get('fix_versions') or []) or 'no release yet'}",
        )
        for pkg in packages
        for vuln in pkg.get("vulns", [])
    ]
    return f"{len(packages)} locked packages of {config.lock} against {url}", found


def scan_code(root: Path, config: Code) -> Scanned:
    """Run bandit over the configured paths."""
    _require("bandit")
    with tempfile.TemporaryDirectory(prefix="mlops-bandit-") as tmp:
        report = Path(tmp) / "bandit.json"
        args = ["-r", *config.paths, "-f", "json", "-o", str(report), "-q"]
        excluded = [*(str(root / d) for d in sorted(SKIPPED_DIRS)), *config.exclude]
        args += ["-x", ",".join(excluded)]
        args += ["-s", ",".join(config.skip)] if config.skip else []
        data = _run_tool("bandit", args, root, report)
    found = [
        finding(
            scanner="bandit",
            key=f"{r['test_id']}:{_relative(root, r['filename'])}",
            severity=_BANDIT.get(str(r.get("issue_severity", "")).upper(), "low"),
            location=f"{_relative(root, r['filename'])}:{r.get('line_number', '?')}",
            message=f"{r['test_id']} {r.get('test_name', '')}: {r.get('issue_text', '')}",
        )
        for r in data.get("results", [])
    ]
    scanned = data.get("metrics", {}).get("_totals", {}).get("loc", 0)
    return f"{scanned} lines of {', '.join(config.paths)}", found


def _relative(root: Path, name: str) -> str:
    path = Path(name)
    full = path if path.is_absolute() else (root / path)
    try:
        return full.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def pickle_files(root: Path, patterns: list[str]) -> list[Path]:
    """Return the files under ``root`` matching ``patterns`` (outside .git, .dvc, venvs)."""
    found = {
        path
        for pattern in patterns
        for path in root.glob(pattern)
        if path.is_file() and not SKIPPED_DIRS & set(path.relative_to(root).parts)
    }
    return sorted(found)


def scan_pickles(root: Path, patterns: list[str]) -> Scanned:
    """Analyse every pickled file with fickling; one finding per unsafe file (its worst)."""
    _require("fickling")
    from fickling.analysis import check_safety
    from fickling.fickle import Pickled, PickleDecodeError

    files = pickle_files(root, patterns)
    found: list[ScanFinding] = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            results = check_safety(Pickled.load(path.read_bytes())).results
        except (PickleDecodeError, ValueError, EOFError) as exc:
            found.append(_unreadable_pickle(rel, exc))
            continue
        worst = _worst(results)
        if worst is not None:
            severity, message = worst
            found.append(
                finding(scanner="pickle", key=rel, severity=severity, location=rel, message=message)
            )
    return f"{len(files)} pickled files", found


def _unreadable_pickle(rel: str, exc: Exception) -> ScanFinding:
    message = f"{rel}: not a pickle fickling can decode ({exc}); it cannot be shown safe"
    return finding(scanner="pickle", key=rel, severity="high", location=rel, message=message)


def _worst(results: Any) -> tuple[Severity, str] | None:
    for name, severity in _FICKLING:
        matching = [r for r in results if r.severity.name == name]
        if matching:
            return severity, f"{len(matching)} {name.lower()} operation(s): {matching[0]}"
    return None


def scan_secrets(root: Path, files: list[str]) -> Scanned:
    """Scan ``files`` (the change's files that exist) with detect-secrets' default plugins."""
    _require("detect_secrets")
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    present = [f for f in files if (root / f).is_file()]
    secrets = SecretsCollection(root=str(root))
    with default_settings():
        for name in present:
            secrets.scan_file(name)
    found = [
        finding(
            scanner="secrets",
            key=f"{name}:{secret.secret_hash[:16]}",
            severity="high",
            location=f"{name}:{secret.line_number}",
            message=f"{secret.type} in {name} line {secret.line_number}",
        )
        for name, secret in secrets
    ]
    return f"{len(present)} changed files", found
