"""Deprecation, retirement, verification and garbage collection."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_gitops.registry import (
    RegistryError,
    deprecate,
    find_version,
    gc,
    list_versions,
    read_tags,
    retire,
    verify,
)
from tests.helpers import git
from tests.helpers.model_repo import ModelRepo

DAY1 = "2026-02-01T10:00:00+00:00"
DAY2 = "2026-02-02T10:00:00+00:00"


def remote_object(repo: ModelRepo, md5: str) -> Path:
    return repo.remote / "files" / "md5" / md5[:2] / md5[2:]


def test_deprecate_writes_gto_deregister_tag(registered: ModelRepo) -> None:
    tag = deprecate(registered.path, "credit-default", "v1.0.0", reason="leaks a feature")
    assert tag.name == "credit-default@v1.0.0!" and tag.mark == "deprecate"
    assert tag.metadata["reason"] == "leaks a feature"
    assert find_version(registered.path, "credit-default", "v1.0.0").state == "deprecated"
    with pytest.raises(RegistryError, match=r"^credit-default v1\.0\.0 is already deprecated$"):
        deprecate(registered.path, "credit-default", "v1.0.0")


def test_retire_refuses_while_an_environment_runs_the_version(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("credit-default", "v1.1.0", "dev", DAY2, canary=10)
    for version in ("v1.0.0", "v1.1.0"):
        with pytest.raises(
            RegistryError, match=rf"v{version[1:]} still runs in dev \(envs/dev\.yaml\)"
        ):
            retire(registered.path, "credit-default", version)
    tag = retire(registered.path, "credit-default", "v2.0.0")
    assert tag.name == "credit-default@v2.0.0!archived"
    assert find_version(registered.path, "credit-default", "v2.0.0").state == "archived"
    with pytest.raises(RegistryError, match=r"already archived"):
        retire(registered.path, "credit-default", "v2.0.0")
    with pytest.raises(RegistryError, match=r"already archived"):
        deprecate(registered.path, "credit-default", "v2.0.0")


def test_verify_passes_on_a_sound_repository(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("churn", "v1.0.0", "dev", DAY1)
    report = verify(registered.path)
    assert report.ok
    assert {(f.model, f.check) for f in report.findings} >= {
        ("churn", "remote"),
        ("credit-default", "tag"),
    }


def test_verify_detects_a_tampered_and_a_deleted_artifact(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("churn", "v1.0.0", "dev", DAY1)
    credit = find_version(registered.path, "credit-default", "v1.0.0").artifact
    churn = find_version(registered.path, "churn", "v1.0.0").artifact
    assert credit and churn
    remote_object(registered, credit.md5).chmod(0o644)
    remote_object(registered, credit.md5).write_bytes(b"tampered")
    remote_object(registered, churn.md5).unlink()

    failed = {
        (f.model, f.check): f.detail
        for f in verify(registered.path, env="dev").findings
        if not f.ok
    }

    assert (
        failed[("credit-default", "remote")]
        == f"{credit.md5} is corrupt in the DVC remote; run 'dvc push'"
    )
    assert "is missing in the DVC remote" in failed[("churn", "remote")]


def test_verify_detects_a_moved_and_a_deleted_tag(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("churn", "v1.0.0", "dev", DAY1)
    # move churn@v1.0.0 to a commit whose dvc.lock holds the same churn artifact
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
        registered.revs[2],
    )
    git(registered.path, "tag", "-d", "credit-default@v1.0.0")

    failed = {(f.model, f.check): f.detail for f in verify(registered.path).findings if not f.ok}

    assert failed[("churn", "tag")].startswith("churn@v1.0.0 moved from ")
    assert (
        failed[("credit-default", "registered")]
        == "tag credit-default@v1.0.0 is missing or has no metadata (deleted?)"
    )


def test_verify_detects_a_tag_moved_to_another_artifact_and_a_hand_edited_hash(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("churn", "v1.0.0", "dev", DAY1)
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
        registered.revs[1],
    )
    manifest = registered.path / "envs" / "dev.yaml"
    churn = find_version(registered.path, "churn", "v1.0.0").artifact
    assert churn
    manifest.write_text(manifest.read_text().replace(churn.md5, "f" * 32))
    git(registered.path, "commit", "-q", "-am", "Hand edit")

    failed = {(f.model, f.check): f.detail for f in verify(registered.path).findings if not f.ok}

    assert "credit-default@v1.0.0 moved: dvc.lock at" in failed[("credit-default", "tag")]
    assert failed[("churn", "hash")] == f"manifest pins {'f' * 32}, registration says {churn.md5}"


def test_verify_refuses_an_unknown_environment(registered: ModelRepo) -> None:
    with pytest.raises(RegistryError, match=r"^unknown environment 'qa'"):
        verify(registered.path, env="qa")
    assert verify(registered.path).findings == ()


def test_gc_keeps_every_registered_version(registered: ModelRepo) -> None:
    cache = registered.path / ".dvc" / "cache" / "files" / "md5"
    garbage = cache / "00" / ("1" * 30)
    garbage.parent.mkdir(parents=True, exist_ok=True)
    garbage.write_bytes(b"garbage")
    result = gc(registered.path)
    assert result.kept_versions == 4
    assert not garbage.exists()
    for version in list_versions(registered.path):
        assert (
            version.artifact
            and (cache / version.artifact.md5[:2] / version.artifact.md5[2:]).exists()
        )


def test_gc_refuses_when_a_tag_no_longer_holds_its_artifact(registered: ModelRepo) -> None:
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
        registered.revs[1],
    )
    with pytest.raises(RegistryError, match=r"so 'dvc gc' could delete it; run 'mlops verify'"):
        gc(registered.path, dry=True)


def test_gc_reports_a_dvc_failure(registered: ModelRepo) -> None:
    shutil.rmtree(registered.path / ".dvc")
    with pytest.raises(RegistryError, match=r"^dvc gc failed; nothing of the registry was removed"):
        gc(registered.path, cloud=True, remote="local")
    assert len(read_tags(registered.path)) == 4
