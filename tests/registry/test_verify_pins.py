"""``verify`` checks the pins of every environment against the registration tags."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mlops_gitops.manifests import read_environments
from mlops_gitops.registry import PinCheck, RegistryError, check_pins, compare_pins, verify
from mlops_gitops.registry.versions import format_message, parse_metadata
from tests.helpers import git
from tests.helpers.model_repo import ModelRepo

DAYS = ("2026-02-01T10:00:00+00:00", "2026-02-02T10:00:00+00:00", "2026-02-04T10:00:00+00:00")


def recreate_tag(repo: ModelRepo, tag: str, target: str, **artifact: str) -> None:
    """Delete ``tag`` and create it again on ``target``, its metadata edited."""
    metadata = parse_metadata(git(repo.path, "tag", "-l", "--format=%(contents)", tag))
    metadata["artifact"].update(artifact)
    metadata.setdefault("metrics", {})["auc"] = 0.999
    git(repo.path, "tag", "-d", tag)
    message = format_message(f"Register {tag}", metadata)
    git(repo.path, "tag", "-a", "--cleanup=verbatim", "-m", message, tag, target)


@pytest.fixture
def everywhere(registered: ModelRepo, deploy: Callable[..., str]) -> ModelRepo:
    """credit-default v1.0.0 in dev, staging and prod; v1.1.0 a canary in dev."""
    for env, day in zip(("dev", "staging", "prod"), DAYS, strict=True):
        deploy("credit-default", "v1.0.0", env, day)
    deploy("credit-default", "v1.1.0", "dev", DAYS[2], canary=10)
    return registered


def failures(repo: ModelRepo) -> set[tuple[str, str, str, str]]:
    return {(f.env, f.model, f.version, f.check) for f in verify(repo.path).findings if not f.ok}


def test_a_tag_recreated_with_another_md5_fails_in_every_environment(everywhere):
    other = parse_metadata(
        git(everywhere.path, "tag", "-l", "--format=%(contents)", "credit-default@v1.1.0")
    )["artifact"]["md5"]
    recreate_tag(everywhere, "credit-default@v1.0.0", everywhere.revs[1], md5=other)
    assert failures(everywhere) == {
        (env, "credit-default", "v1.0.0", "hash") for env in ("dev", "staging", "prod")
    }


def test_a_tag_recreated_on_another_commit_with_the_same_md5_fails_everywhere(everywhere):
    recreate_tag(everywhere, "credit-default@v1.0.0", "HEAD")  # same md5, another commit
    assert failures(everywhere) == {
        (env, "credit-default", "v1.0.0", "tag") for env in ("dev", "staging", "prod")
    }


def test_compare_pins_lists_every_route_with_its_registration(everywhere):
    pins = compare_pins(everywhere.path, read_environments(everywhere.path))
    routes = {(p.env, p.version, p.route) for p in pins}
    assert routes == {
        ("dev", "v1.0.0", "stable"),
        ("dev", "v1.1.0", "candidate"),
        ("staging", "v1.0.0", "stable"),
        ("prod", "v1.0.0", "stable"),
    }
    assert all(isinstance(p, PinCheck) and p.ok for p in pins)


def test_check_pins_names_the_manifest_model_version_and_both_hashes(everywhere):
    manifest = everywhere.path / "envs" / "prod.yaml"
    pinned = next(p for p in compare_pins(everywhere.path, read_environments(everywhere.path)))
    manifest.write_text(manifest.read_text().replace(pinned.md5, "e" * 32))
    prod = read_environments(everywhere.path)["prod"]
    with pytest.raises(RegistryError) as err:
        check_pins(everywhere.path, "prod", prod)
    assert str(err.value) == (
        f"envs/prod.yaml models.credit-default (stable): v1.0.0 pins models/model.onnx md5 "
        f"{'e' * 32} but its registration (tag credit-default@v1.0.0) records "
        f"models/model.onnx md5 {pinned.md5}; pin the registered artifact (mlops promote writes it)"
    )


def test_a_recreated_tag_is_caught_in_an_environment_reached_by_a_hand_edit(registered, deploy):
    deploy("credit-default", "v1.0.0", "dev", DAYS[0])
    envs = registered.path / "envs"
    (envs / "staging.yaml").write_text((envs / "dev.yaml").read_text())  # no promotion trailers
    git(registered.path, "commit", "-q", "-am", "Run dev's models in staging too")
    git(registered.path, "checkout", "-q", "--detach", registered.revs[0])
    git(registered.path, "commit", "-q", "--allow-empty", "-m", "Same dvc.lock, another commit")
    elsewhere = git(registered.path, "rev-parse", "HEAD").strip()
    git(registered.path, "checkout", "-q", "main")
    recreate_tag(registered, "credit-default@v1.0.0", elsewhere)
    assert failures(registered) == {
        (env, "credit-default", "v1.0.0", "tag") for env in ("dev", "staging")
    }
