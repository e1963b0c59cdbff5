"""Red team: a policy written to stall the gate is refused quickly, with its reason.

Issue 12, attack 9: five nested ``.all()`` over 30 elements made ``mlops gate``
take 15.5 s and six did not finish in a minute, so anyone who could land a
policy could stall the runner and the pre-receive hook. The attacks run the
real ``mlops`` process on a real repository (the reference project).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run

pytestmark = pytest.mark.slow

THIRTY = "[" + ", ".join(str(i) for i in range(30)) + "]"
RULE = """\
rules:
  - id: {id}
    description: Looks harmless.
    condition: "{condition}"
    severity: warn
    message: "{message}"
"""


def nested_all(depth: int) -> str:
    text = "true"
    for level in reversed(range(depth)):
        text = f"{THIRTY}.all(x{level}, {text})"
    return text


def mlops(project: Path, *args: str) -> tuple[int, str]:
    """Run the real ``mlops`` process; return its exit code and stdout + stderr.

    A stalled gate fails the test by the subprocess timeout (a hang, not a speed:
    the speed is measured in bench/gate_bench.py).
    """
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVCLIVE_NO_ANALYTICS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_gitops", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def land_policy(project: Path, name: str, text: str) -> None:
    run(["git", "checkout", "-q", "-b", "policy/stall"], project)
    (project / "policies" / name).write_text(text)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "Add a policy"], project)


def test_six_nested_comprehensions_are_refused_by_lint_and_gate(project):
    land_policy(
        project, "stall.yaml", RULE.format(id="stall", condition=nested_all(6), message="m")
    )
    code, err = mlops(project, "policy", "lint")
    assert code == 1
    assert "policies/stall.yaml:4 rule 'stall' condition: estimated cost " in err
    assert "is over the budget of 100,000" in err
    code, err = mlops(project, "gate", "--env", "prod")
    assert code == 1, err
    assert "error: policies/stall.yaml:4 rule 'stall' condition: estimated cost" in err
    assert err.count("error: ") == 1


def test_a_rule_cheap_on_paper_but_costly_on_the_bundle_is_an_error_not_a_hang(project):
    condition = "changed_files.all(a, changed_files.all(b, a != b || true))"
    land_policy(project, "pairs.yaml", RULE.format(id="pairs", condition=condition, message="m"))
    for i in range(400):  # 400 changed files: 160,000 pairs, over the budget
        (project / "notes" / f"{i:03d}.md").parent.mkdir(exist_ok=True)
        (project / "notes" / f"{i:03d}.md").write_text(f"{i}\n")
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "Many files"], project)
    code, err = mlops(project, "policy", "lint")
    assert code == 0, err  # within the budget with lists of 100
    code, out = mlops(project, "gate", "--json")
    assert code == 3, out  # blocked: the rule's outcome is an error, it was never run
    report, _, blocked = out.partition("\nerror: blocked by ")
    assert "pairs" in blocked.split(": ", 1)[1].strip().split(", ")
    result = next(r for r in json.loads(report)["decision"]["results"] if r["id"] == "pairs")
    assert result["outcome"] == "error"
    assert "rule 'pairs' condition: cost " in result["message"]
    assert "on this bundle is over the budget of 100,000; not evaluated" in result["message"]
