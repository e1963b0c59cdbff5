"""Promotion through the environments, canaries and rollback, on real Git."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from mlops_gitops.errors import ScmError
from mlops_gitops.manifests import ManifestError, parse_manifest
from mlops_gitops.registry import (
    RegistryError,
    abort_canary,
    complete_canary,
    deprecate,
    promote,
    rollback,
)
from tests.helpers import git
from tests.helpers.model_repo import ModelRepo, land

DAY1 = "2026-02-01T10:00:00+00:00"
DAY2 = "2026-02-02T10:00:00+00:00"
DAY3 = "2026-02-03T12:00:00+00:00"


def at(date: str) -> datetime:
    return datetime.fromisoformat(date)


def manifest_at(repo: ModelRepo, rev: str, env: str):  # type: ignore[no-untyped-def]
    return parse_manifest(git(repo.path, "show", f"{rev}:envs/{env}.yaml"), f"envs/{env}.yaml")


def test_promote_writes_a_branch_with_trailers_and_leaves_the_work_tree(
    registered: ModelRepo,
) -> None:
    head = git(registered.path, "rev-parse", "HEAD").strip()
    before = (registered.path / "envs" / "dev.yaml").read_text()

    result = promote(registered.path, "credit-default", "v1.0.0", to="dev")

    assert result.branch == "promote/dev/credit-default-v1.0.0"
    assert git(registered.path, "rev-parse", "HEAD").strip() == head
    assert (registered.path / "envs" / "dev.yaml").read_text() == before
    assert git(registered.path, "rev-parse", f"{result.commit}^").strip() == head
    message = git(registered.path, "log", "-1", "--format=%B", result.branch)
    assert message.startswith("Promote credit-default v1.0.0 from registry to dev\n")
    trailers = git(registered.path, "log", "-1", "--format=%(trailers:only,unfold)", result.branch)
    assert (
        "Mlops-Model: credit-default\nMlops-Version: v1.0.0\nMlops-From: registry\nMlops-To: dev"
        in trailers
    )
    assert f"Mlops-Artifact-Md5: {result.md5}" in trailers
    deployment = manifest_at(registered, result.branch, "dev").models["credit-default"]
    assert (deployment.version, deployment.artifact.md5) == ("v1.0.0", result.md5)
    assert git(registered.path, "diff", "--stat", head, result.branch).count("\n") == 2


def test_promotion_may_not_skip_an_environment(registered: ModelRepo) -> None:
    with pytest.raises(RegistryError, match=r"has not run in staging; promote it there first"):
        promote(registered.path, "credit-default", "v1.0.0", to="prod")
    with pytest.raises(RegistryError, match=r"has not run in dev; promote it there first"):
        promote(registered.path, "credit-default", "v1.0.0", to="staging")
    assert git(registered.path, "branch", "--list").strip() == "* main"


def test_soak_time_in_the_previous_environment_is_computed_from_history(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("credit-default", "v1.0.0", "staging", DAY1)
    with pytest.raises(
        RegistryError,
        match=r"ran 23\.0h of the 24\.0h soak in staging \(ready after 2026-02-02T10:00",
    ):
        promote(
            registered.path,
            "credit-default",
            "v1.0.0",
            to="prod",
            now=at("2026-02-02T09:00:00+00:00"),
        )

    result = promote(registered.path, "credit-default", "v1.0.0", to="prod", now=at(DAY2))
    assert result.source_env == "staging"


def test_soak_counts_from_when_the_merge_landed_not_when_the_branch_was_written(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    result = promote(
        registered.path, "credit-default", "v1.0.0", to="staging"
    )  # written 2026-01-15
    land(registered.path, result.branch, DAY2)
    with pytest.raises(RegistryError, match=r"soak in staging"):
        promote(registered.path, "credit-default", "v1.0.0", to="prod", now=at(DAY2))


def test_promote_refuses_unregistered_and_deprecated_versions(registered: ModelRepo) -> None:
    with pytest.raises(
        RegistryError, match=r"^credit-default v1\.0\.1 is not registered; closest: v1\.0\.0"
    ):
        promote(registered.path, "credit-default", "v1.0.1", to="dev")
    with pytest.raises(RegistryError, match=r"^unknown model 'credit'; closest: credit-default"):
        promote(registered.path, "credit", "v1.0.0", to="dev")
    deprecate(registered.path, "credit-default", "v1.0.0")
    with pytest.raises(RegistryError, match=r"^credit-default v1\.0\.0 is deprecated"):
        promote(registered.path, "credit-default", "v1.0.0", to="dev")


def test_promote_refuses_a_hash_that_does_not_match_the_registration(registered: ModelRepo) -> None:
    message = git(registered.path, "tag", "-l", "--format=%(contents)", "credit-default@v1.0.0")
    git(registered.path, "tag", "-d", "credit-default@v1.0.0")
    git(
        registered.path,
        "tag",
        "-a",
        "--cleanup=verbatim",
        "-m",
        message,
        "credit-default@v1.0.0",
        registered.revs[2],
    )
    with pytest.raises(RegistryError, match=r"the tag was moved or its artifact changed"):
        promote(registered.path, "credit-default", "v1.0.0", to="dev")


def test_promote_refuses_an_unknown_environment_and_the_running_version(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    with pytest.raises(
        RegistryError,
        match=r"^unknown environment 'qa'; declared in envs/environments.yaml: dev, staging, prod",
    ):
        promote(registered.path, "credit-default", "v1.0.0", to="qa")
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    with pytest.raises(RegistryError, match=r"already runs in dev"):
        promote(registered.path, "credit-default", "v1.0.0", to="dev")


def test_promote_refuses_a_dirty_tree(registered: ModelRepo) -> None:
    (registered.path / "envs" / "dev.yaml").write_text("models: {}\n")
    with pytest.raises(RegistryError, match=r"uncommitted changes"):
        promote(registered.path, "credit-default", "v1.0.0", to="dev")


def test_promote_refuses_an_existing_branch(registered: ModelRepo) -> None:
    promote(registered.path, "credit-default", "v1.0.0", to="dev")
    with pytest.raises(
        ScmError, match=r"branch 'promote/dev/credit-default-v1.0.0' exists already"
    ):
        promote(registered.path, "credit-default", "v1.0.0", to="dev")


def test_canary_then_complete(registered: ModelRepo, deploy: Callable[..., str]) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("credit-default", "v1.1.0", "dev", DAY2, canary=10)
    canary = manifest_at(registered, "HEAD", "dev").models["credit-default"]
    assert [(r.version, r.weight) for r in canary.routes()] == [("v1.0.0", 90), ("v1.1.0", 10)]
    with pytest.raises(RegistryError, match=r"a canary of v1.1.0 is running"):
        promote(registered.path, "credit-default", "v2.0.0", to="dev")

    result = complete_canary(registered.path, "credit-default", env="dev")
    land(registered.path, result.branch, DAY3)

    done = manifest_at(registered, "HEAD", "dev").models["credit-default"]
    assert (done.version, done.rollout.strategy) == ("v1.1.0", "direct")
    assert done.artifact.md5 == canary.routes()[1].artifact.md5


def test_canary_abort_restores_the_manifest_bytes(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    before = git(registered.path, "show", "HEAD:envs/dev.yaml")
    deploy("credit-default", "v1.1.0", "dev", DAY2, canary=25)
    result = abort_canary(registered.path, "credit-default", env="dev")
    assert git(registered.path, "show", f"{result.branch}:envs/dev.yaml") == before
    assert result.action == "canary-abort" and result.previous == "v1.0.0"


def test_canary_needs_a_baseline_and_a_valid_weight(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    with pytest.raises(
        RegistryError, match=r"does not run in dev yet, so a canary has no baseline"
    ):
        promote(registered.path, "credit-default", "v1.0.0", to="dev", canary=10)
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    with pytest.raises(RegistryError, match=r"weight must be 1 to 99"):
        promote(registered.path, "credit-default", "v1.1.0", to="dev", canary=100)
    with pytest.raises(RegistryError, match=r"no canary is running in dev"):
        complete_canary(registered.path, "credit-default", env="dev")


def test_rollback_writes_the_previous_version_as_a_new_commit(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    first = git(registered.path, "show", "HEAD:envs/dev.yaml")
    deploy("credit-default", "v1.1.0", "dev", DAY2)
    head = git(registered.path, "rev-parse", "HEAD").strip()

    result = rollback(registered.path, env="dev")

    assert (result.version, result.previous, result.action) == ("v1.0.0", "v1.1.0", "rollback")
    assert git(registered.path, "show", f"{result.branch}:envs/dev.yaml") == first
    assert git(registered.path, "rev-parse", f"{result.branch}^").strip() == head
    assert "Mlops-Previous: v1.1.0" in result.message


def test_rollback_to_a_named_version_that_ran_there(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("credit-default", "v1.1.0", "dev", DAY2)
    deploy("credit-default", "v2.0.0", "dev", DAY3)
    assert (
        rollback(registered.path, env="dev", model="credit-default", to="v1.0.0").version
        == "v1.0.0"
    )
    with pytest.raises(RegistryError, match=r"^credit-default v2\.0\.0 already runs in dev"):
        rollback(registered.path, env="dev", to="v2.0.0")


def test_rollback_refusals(registered: ModelRepo, deploy: Callable[..., str]) -> None:
    with pytest.raises(RegistryError, match=r"^dev runs 0 models \(none\); name one with --model"):
        rollback(registered.path, env="dev")
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    with pytest.raises(RegistryError, match=r"has no earlier version in dev to roll back to"):
        rollback(registered.path, env="dev")
    with pytest.raises(RegistryError, match=r"never ran in dev, so it is not a rollback"):
        rollback(registered.path, env="dev", to="v1.1.0")
    with pytest.raises(RegistryError, match=r"model 'churn' does not run in dev"):
        rollback(registered.path, env="dev", model="churn")


def test_two_promotions_of_different_models_merge_without_conflict(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    from mlops_gitops.registry import register

    register(registered.path, "churn", version="v1.1.0", rev=registered.revs[1], check_remote=False)
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("churn", "v1.0.0", "dev", DAY1)
    deploy("credit-default", "v1.0.0", "staging", DAY2)
    branches = [
        promote(registered.path, "credit-default", "v1.1.0", to="dev"),
        promote(registered.path, "churn", "v1.1.0", to="dev"),
        promote(registered.path, "churn", "v1.0.0", to="staging", now=at(DAY2)),
        promote(registered.path, "credit-default", "v1.0.0", to="prod", now=at(DAY3)),
    ]
    for result in branches:
        land(registered.path, result.branch, DAY3)  # fails the test on a conflict
    dev = manifest_at(registered, "HEAD", "dev").models
    staging = manifest_at(registered, "HEAD", "staging").models
    assert (dev["credit-default"].version, dev["churn"].version) == ("v1.1.0", "v1.1.0")
    assert list(staging) == ["churn", "credit-default"]


def test_a_malformed_manifest_is_refused_and_nothing_is_written(registered: ModelRepo) -> None:
    path = registered.path / "envs" / "dev.yaml"
    path.write_text(path.read_text().replace("    min_replicas: 1", "    min_replicas: -1"))
    git(registered.path, "commit", "-q", "-am", "Break the dev manifest")
    with pytest.raises(
        ManifestError,
        match=r"^envs/dev\.yaml:25 serving\.autoscaling\.min_replicas: input should be greater",
    ):
        promote(registered.path, "credit-default", "v1.0.0", to="dev")
    assert git(registered.path, "branch", "--list").strip() == "* main"


def test_envs_may_be_a_symbolic_link(registered: ModelRepo, deploy: Callable[..., str]) -> None:
    from mlops_gitops.registry import history, status

    (registered.path / "deploy").mkdir()
    (registered.path / "envs").rename(registered.path / "deploy" / "envs")
    (registered.path / "envs").symlink_to("deploy/envs")
    git(registered.path, "add", "-A")
    git(registered.path, "commit", "-q", "-m", "Keep the manifests in deploy/")

    deploy("credit-default", "v1.0.0", "dev", DAY1)

    changed = git(registered.path, "show", "--name-only", "--format=", "HEAD^2").split()
    assert changed == ["deploy/envs/dev.yaml"]
    assert [(r.model, r.version, r.since) for r in status(registered.path)] == [
        ("credit-default", "v1.0.0", DAY1)
    ]
    assert history(registered.path, "credit-default", env="dev")[0].kind == "promote"


def test_promote_refuses_a_source_pin_that_does_not_match_the_registration(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    from mlops_gitops.registry import find_version

    deploy("credit-default", "v1.0.0", "dev", DAY1)
    artifact = find_version(registered.path, "credit-default", "v1.0.0").artifact
    assert artifact is not None
    manifest = registered.path / "envs" / "dev.yaml"
    manifest.write_text(manifest.read_text().replace(artifact.md5, "f" * 32))
    git(registered.path, "commit", "-q", "-am", "Hand edit of the hash")
    with pytest.raises(
        RegistryError, match=r"^envs/dev\.yaml pins md5 f{32} for credit-default v1\.0\.0"
    ):
        promote(registered.path, "credit-default", "v1.0.0", to="staging")
