"""``mlops register|promote|rollback|status|registry|deprecate|retire|verify|gc``."""

from __future__ import annotations

import json

from tests.helpers import git
from tests.helpers.model_repo import ModelRepo, land

# the tiny DVC project of the registry tests, as fixtures of this module

DAY1 = "2026-02-01T10:00:00+00:00"
DAY2 = "2026-02-02T10:00:00+00:00"


def one_line_error(result, text: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert text in result.stderr


def test_register(cli, model_repo: ModelRepo) -> None:
    result = cli("register", "credit-default", "--bump", "minor")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("registered credit-default@v0.1.0 on ")
    data = json.loads(cli("register", "churn", "--version", "v1.0.0", "--json").stdout)
    assert data["tag"] == "churn@v1.0.0" and data["artifact"]["path"] == "models/churn.onnx"
    one_line_error(
        cli("register", "churn", "--version", "v1.0.0"), "churn v1.0.0 is already registered"
    )


def test_promote_and_canary(cli, registered: ModelRepo, deploy) -> None:
    result = cli("promote", "credit-default", "v1.0.0", "--to", "dev")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Promote credit-default v1.0.0 from registry to dev"
    assert "git push origin promote/dev/credit-default-v1.0.0" in result.stdout
    land(registered.path, "promote/dev/credit-default-v1.0.0", DAY1)
    canary = json.loads(
        cli("promote", "credit-default", "v1.1.0", "--to", "dev", "--canary", "10", "--json").stdout
    )
    assert canary["action"] == "canary" and canary["branch"] == "canary/dev/credit-default-v1.1.0"
    land(registered.path, canary["branch"], DAY2)
    assert cli("promote", "credit-default", "--to", "dev", "--abort").exit_code == 0
    assert cli("promote", "credit-default", "--to", "dev", "--complete", "--json").exit_code == 0


def test_promote_failures(cli, registered: ModelRepo) -> None:
    one_line_error(
        cli("promote", "credit-default", "v1.0.0", "--to", "prod"), "has not run in staging"
    )
    one_line_error(cli("promote", "credit-default", "v1.0.3", "--to", "dev"), "closest: v1.0.0")
    assert cli("promote", "credit-default", "--to", "dev").exit_code == 2
    assert cli("promote", "credit-default", "v1.0.0", "--to", "dev", "--complete").exit_code == 2


def test_a_malformed_manifest_is_reported_with_its_line(cli, registered: ModelRepo) -> None:
    path = registered.path / "envs" / "prod.yaml"
    path.write_text(
        path.read_text().replace("target_cpu_utilization: 70", "target_cpu_utilization: 170")
    )
    git(registered.path, "commit", "-q", "-am", "Break prod")
    result = cli("status")
    one_line_error(
        result, "envs/prod.yaml:27 serving.autoscaling.target_cpu_utilization: input should be"
    )
    assert git(registered.path, "status", "--porcelain") == ""


def test_rollback(cli, registered: ModelRepo, deploy) -> None:
    one_line_error(
        cli("rollback", "--env", "dev"), "dev runs 0 models (none); name one with --model"
    )
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("credit-default", "v1.1.0", "dev", DAY2)
    result = cli("rollback", "--env", "dev", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["version"] == "v1.0.0"


def test_status(cli, registered: ModelRepo, deploy) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("credit-default", "v1.1.0", "dev", DAY2, canary=10)
    table = cli("status")
    assert table.exit_code == 0
    assert "v1.0.0:90% v1.1.0:10%" in table.stdout
    rows = json.loads(cli("status", "--env", "dev", "--at", "2026-02-01T12:00", "--json").stdout)
    assert [(r["model"], r["version"], r["since"]) for r in rows] == [
        ("credit-default", "v1.0.0", DAY1)
    ]
    one_line_error(cli("status", "--env", "qa"), "unknown environment 'qa'")


def test_registry_list_and_history(cli, registered: ModelRepo, deploy) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    listing = cli("registry", "list")
    assert listing.exit_code == 0 and "credit-default  v1.0.0   dev" in listing.stdout
    versions = json.loads(cli("registry", "list", "churn", "--json").stdout)
    assert [v["version"] for v in versions] == ["v1.0.0"]
    events = json.loads(cli("registry", "history", "credit-default", "--json").stdout)
    assert [e["kind"] for e in events] == ["register", "register", "register", "promote"]
    assert "promote" in cli("registry", "history", "credit-default").stdout
    one_line_error(cli("registry", "list", "credti-default"), "closest: credit-default")
    one_line_error(cli("registry", "history", "nope"), "unknown model 'nope'")


def test_deprecate_and_retire(cli, registered: ModelRepo, deploy) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    assert cli("deprecate", "credit-default", "v1.1.0", "--reason", "bias").stdout.startswith(
        "deprecated"
    )
    one_line_error(cli("deprecate", "credit-default", "v1.1.0"), "already deprecated")
    one_line_error(cli("retire", "credit-default", "v1.0.0"), "still runs in dev")
    assert (
        cli("retire", "credit-default", "v2.0.0").stdout
        == "archived credit-default v2.0.0 (tag credit-default@v2.0.0!archived)\n"
    )
    assert (
        json.loads(cli("retire", "credit-default", "v1.1.0", "--json").stdout)["mark"] == "archive"
    )
    assert (
        json.loads(cli("deprecate", "churn", "v1.0.0", "--json").stdout)["name"] == "churn@v1.0.0!"
    )


def test_verify(cli, registered: ModelRepo, deploy) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    ok = cli("verify")
    assert ok.exit_code == 0, ok.stderr
    assert "remote" in ok.stdout and "FAIL" not in ok.stdout
    git(registered.path, "tag", "-d", "credit-default@v1.0.0")
    failed = cli("verify", "--env", "dev", "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["ok"] is False
    assert failed.stderr == "error: verification failed; see the FAIL rows\n"


def test_gc(cli, registered: ModelRepo) -> None:
    result = cli("gc", "--dry")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("kept the artifacts of 4 registered versions\n")
    assert json.loads(cli("gc", "--json").stdout)["kept_versions"] == 4
    message = git(registered.path, "tag", "-l", "--format=%(contents)", "churn@v1.0.0")
    git(registered.path, "tag", "-d", "churn@v1.0.0")
    git(
        registered.path,
        "tag",
        "-a",
        "--cleanup=verbatim",
        "-m",
        message,
        "churn@v1.0.0",
        registered.revs[1],
    )
    one_line_error(cli("gc"), "so 'dvc gc' could delete it")
