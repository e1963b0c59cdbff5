"""Reading manifests from the work tree and from any revision."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mlops_gitops.manifests import (
    ManifestError,
    list_environments,
    load_manifest,
    read_environment,
    read_environments,
)
from mlops_gitops.project import template_root


@pytest.fixture
def envs_repo(git_repo: Path) -> Path:
    shutil.copytree(template_root() / "envs", git_repo / "envs")
    subprocess.run(["git", "add", "-A"], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "Add envs"], cwd=git_repo, check=True)
    return git_repo


def test_the_starter_manifests_are_valid(envs_repo: Path) -> None:
    assert list_environments(envs_repo).order == ["dev", "staging", "prod"]
    manifests = read_environments(envs_repo)
    assert list(manifests) == ["dev", "staging", "prod"]
    assert manifests["prod"].serving.autoscaling is not None
    assert manifests["prod"].serving.autoscaling.max_replicas == 6


def test_a_manifest_is_read_at_a_past_revision(envs_repo: Path) -> None:
    path = envs_repo / "envs" / "dev.yaml"
    path.write_text(path.read_text().replace("  replicas: 1 ", "  replicas: 4 "))
    assert read_environment(envs_repo, "dev").serving.replicas == 4
    assert read_environment(envs_repo, "dev", rev="HEAD").serving.replicas == 1
    assert read_environments(envs_repo, rev="HEAD")["dev"].serving.replicas == 1


def test_errors_name_the_file(envs_repo: Path) -> None:
    with pytest.raises(
        ManifestError,
        match=r"^unknown environment 'qa'; declared in envs/environments.yaml: dev, staging, prod$",
    ):
        read_environment(envs_repo, "qa")
    with pytest.raises(ManifestError, match=r"missing\.yaml: file not found$"):
        load_manifest(envs_repo / "missing.yaml")
    (envs_repo / "envs" / "prod.yaml").unlink()
    subprocess.run(["git", "commit", "-q", "-am", "Drop prod"], cwd=envs_repo, check=True)
    with pytest.raises(ManifestError, match=r"^envs/prod.yaml: not found at revision HEAD$"):
        read_environments(envs_repo, rev="HEAD")
    with pytest.raises(ManifestError, match=r"^envs/prod.yaml: not found at revision HEAD$"):
        read_environment(envs_repo, "prod", rev="HEAD")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "prod.yaml"
    path.write_text("models:\n  churn: [\n")
    with pytest.raises(ManifestError, match=r"prod\.yaml:3: not valid YAML"):
        load_manifest(path)


def test_the_package_names_its_public_api() -> None:
    from mlops_gitops import manifests

    assert manifests.manifest_path("prod") == "envs/prod.yaml"
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        manifests.nope  # noqa: B018
