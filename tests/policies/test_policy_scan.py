"""Scans in the gate: pip-audit against a stub OSV service, bandit, pickles, secrets, waivers.

The gate project (a real Git + DVC repository) gets a ``policies/scan.yaml``
whose OSV endpoint is a stub on 127.0.0.1 that declares a vulnerability in
one locked package; each scanner's finding is driven to block, to pass under
a waiver naming it, and to block again once the waiver has expired, through
``mlops scan`` and ``mlops gate`` (the real processes) and the gate's bundle.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.commands import mlops_process
from tests.helpers.osv import StubOsv, stub_osv

pytestmark = pytest.mark.slow
VULN = "pip-audit:PYSEC-2099-1:requests"
LOCK = "click==8.1.8\nrequests==2.32.3\nnumpy==2.2.0\n"
WAIVER = """\
waivers:
  - id: W-1
    rule: scan-findings
    finding: {finding}
    reason: not reachable from the served code (RISK-57)
    approver: alice
    expires: 2026-01-31
"""
BEFORE, AFTER = "2026-01-20T12:00:00+00:00", "2026-02-01T12:00:00+00:00"


class Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo owned",))


@pytest.fixture
def osv() -> Iterator[StubOsv]:
    with stub_osv({"requests": ["PYSEC-2099-1"]}) as stub:
        yield stub


@pytest.fixture
def scanned(gate_repo, osv):
    """The gate project scanning its lock, its code, its pickles and the change's secrets."""
    gate_repo.commit(
        {
            "requirements/lock.txt": LOCK,
            "policies/scan.yaml": f"block_at: high\nvulnerabilities:\n  osv_url: {osv.url}\n",
        },
        "Scan the supply chain",
    )
    gate_repo.git("checkout", "-q", "-b", "train/next")
    return gate_repo


def mlops(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return mlops_process(root, *args)


def scan_result(result) -> dict[str, object]:
    return {f.id: f for f in result.bundle.scan.findings}


def rule(result, rule_id="scan-findings"):
    return next(r for r in result.decision.results if r.id == rule_id)


def test_a_vulnerable_locked_package_blocks_scan_and_gate_and_is_named(scanned, osv):
    scan = mlops(scanned.path, "scan", "--json")
    assert scan.returncode == 3, scan.stderr
    assert scan.stderr.strip() == f"error: blocked by 1 finding at or above high: {VULN}"
    report = json.loads(scan.stdout)
    assert report["blocking"] == [VULN]
    assert {q["package"]["name"] for q in osv.queries} >= {"click", "requests", "numpy"}
    gate = mlops(scanned.path, "gate", "--env", "dev", "--now", BEFORE)
    assert gate.returncode == 3
    assert "scan-findings" in gate.stderr and VULN in gate.stdout


def test_a_waiver_of_the_finding_lets_it_pass_until_its_expiry(scanned, decide):
    scanned.commit({"policies/waivers.yaml": WAIVER.format(finding=VULN)}, "Waive PYSEC-2099-1")
    waived = decide("dev", now=BEFORE)
    assert rule(waived).outcome == "pass"
    assert scan_result(waived)[VULN].waiver == "W-1"
    assert mlops(scanned.path, "scan", "--now", BEFORE).returncode == 0
    expired = decide("dev", now=AFTER)
    assert rule(expired).outcome == "block" and VULN in rule(expired).message
    assert expired.bundle.scan.expired_waivers == ["W-1"]
    assert mlops(scanned.path, "scan", "--now", AFTER).returncode == 3


def test_a_waiver_of_another_finding_or_of_the_whole_rule_does_not_cover_it(scanned, decide):
    other = WAIVER.format(finding="pip-audit:PYSEC-2099-1:click")
    whole = "\n".join(line for line in other.splitlines() if "finding:" not in line) + "\n"
    for text in (other, whole):
        scanned.commit({"policies/waivers.yaml": text}, "Waive something else")
        result = decide("dev", now=BEFORE)
        assert rule(result).outcome == "block" and VULN in rule(result).message


def test_an_insecure_call_in_the_code_blocks_until_waived(scanned, decide):
    code = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    scanned.commit({"tools/run.py": code}, "Add a runner")
    finding = "bandit:B602:tools/run.py"
    result = decide("dev", now=BEFORE)
    found = scan_result(result)[finding]
    assert found.severity == "high" and found.location == "tools/run.py:5" and found.blocking
    assert finding in rule(result).message
    waivers = WAIVER.format(finding=finding).replace("W-1", "W-2")
    scanned.commit({"policies/waivers.yaml": waivers + WAIVER.format(finding=VULN)[9:]}, "Waive")
    assert rule(decide("dev", now=BEFORE)).outcome == "pass"
    assert rule(decide("dev", now=AFTER)).outcome == "block"


def test_a_pickle_with_a_malicious_reduce_is_caught_and_a_plain_one_is_not(scanned, decide):
    models = scanned.path / "models"
    models.mkdir(exist_ok=True)
    (models / "evil.pkl").write_bytes(pickle.dumps(Evil()))
    (models / "plain.pkl").write_bytes(pickle.dumps({"weights": [0.5, 1.5], "bias": 0.1}))
    result = decide("dev", now=BEFORE)
    found = scan_result(result)
    evil = found["pickle:models/evil.pkl"]
    assert evil.severity == "critical" and evil.blocking and "system" in evil.message
    assert "pickle:models/plain.pkl" not in found
    assert "pickle:models/evil.pkl" in rule(result).message


def test_a_secret_in_the_change_blocks(scanned, decide):
    key = "AKIA" + "ZQ3DLPW7X4RE2N5T"
    scanned.commit({"config/cloud.ini": f"[aws]\naws_access_key_id = {key}\n"}, "Add config")
    result = decide("dev", now=BEFORE)
    secrets = [f for f in result.bundle.scan.findings if f.scanner == "secrets"]
    assert [(f.location, f.severity, f.blocking) for f in secrets] == [
        ("config/cloud.ini:2", "high", True)
    ]
    assert key not in json.dumps(result.bundle.to_json())  # the secret itself is never recorded


def test_an_unreachable_osv_service_is_a_one_line_error_never_a_clean_scan(scanned):
    config = scanned.path / "policies" / "scan.yaml"
    config.write_text("vulnerabilities:\n  osv_url: http://127.0.0.1:9/v1/query\n")
    for command in (("scan",), ("gate", "--env", "dev")):
        result = mlops(scanned.path, *command)
        assert result.returncode == 1, result.stdout
        assert result.stderr.startswith("error: pip-audit did not run: ")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_bad_scan_file_names_its_line_and_field(scanned):
    (scanned.path / "policies" / "scan.yaml").write_text("block_at: severe\n")
    result = mlops(scanned.path, "scan")
    assert result.returncode == 1
    assert result.stderr.startswith("error: policies/scan.yaml:1") and "block_at" in result.stderr


def test_a_finding_waiver_on_another_rule_is_refused_naming_its_line(scanned):
    waiver = WAIVER.format(finding=VULN).replace("rule: scan-findings", "rule: min-metrics")
    (scanned.path / "policies" / "waivers.yaml").write_text(waiver)
    result = mlops(scanned.path, "gate", "--env", "dev", "--now", BEFORE)
    assert result.returncode == 1
    assert result.stderr == (
        "error: policies/waivers.yaml:2 waiver 'W-1': 'finding' waives one scan finding; "
        "its rule must be 'scan-findings', not 'min-metrics'\n"
    )
