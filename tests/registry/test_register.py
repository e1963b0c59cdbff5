"""Registering model versions: annotated tags with the lineage in their message."""

from __future__ import annotations

import json
import shutil

import pytest

from mlops_gitops.registry import RegistryError, list_versions, read_tags, register
from tests.helpers import git
from tests.helpers.model_repo import ModelRepo


def test_register_tags_the_commit_with_lineage_metadata(model_repo: ModelRepo) -> None:
    first = model_repo.revs[0]
    version = register(model_repo.path, "credit-default", version="v1.0.0", rev=first)

    assert version.tag == "credit-default@v1.0.0"
    assert git(model_repo.path, "cat-file", "-t", "credit-default@v1.0.0").strip() == "tag"
    assert git(model_repo.path, "rev-parse", "credit-default@v1.0.0^{commit}").strip() == first
    lock = git(model_repo.path, "show", f"{first}:dvc.lock")
    assert version.artifact is not None and version.artifact.md5 in lock
    assert version.artifact.path == "models/model.onnx"
    assert set(version.data) == {"data/prepared/train.parquet"}
    assert version.data["data/prepared/train.parquet"] in lock
    assert version.params == {"params.yaml": {"train": {"seed": 1}}}
    assert version.metrics == {"metrics/train.json": {"auc": 0.81}}
    message = git(model_repo.path, "tag", "-l", "--format=%(contents)", "credit-default@v1.0.0")
    assert message.startswith("Register credit-default v1.0.0\n\n")
    body = message.partition("\n\n")[2]
    assert json.JSONDecoder().raw_decode(body)[0]["artifact"]["stage"] == "train"
    trailers = (
        f"\n\nMlops-Artifact-Path: models/model.onnx\nMlops-Artifact-Md5: {version.artifact.md5}\n"
    )
    assert trailers in message


def test_register_bumps_from_the_latest_version(model_repo: ModelRepo) -> None:
    a, b, c = model_repo.revs
    assert (
        register(model_repo.path, "churn", bump="minor", rev=a, check_remote=False).version
        == "v0.1.0"
    )
    assert (
        register(model_repo.path, "churn", bump="patch", rev=b, check_remote=False).version
        == "v0.1.1"
    )
    assert (
        register(model_repo.path, "churn", bump="major", rev=c, check_remote=False).version
        == "v1.0.0"
    )


def test_first_major_bump_is_one(model_repo: ModelRepo) -> None:
    assert register(model_repo.path, "churn", bump="major", check_remote=False).version == "v1.0.0"


def test_several_models_live_in_one_repository(registered: ModelRepo) -> None:
    models = {(v.model, v.version) for v in list_versions(registered.path)}
    assert ("churn", "v1.0.0") in models and ("credit-default", "v2.0.0") in models


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"version": "v1.0.0"},
            "credit-default v1.0.0 is already registered (tag credit-default@v1.0.0",
        ),
        ({"version": "1.2"}, "version '1.2' is not SemVer; use the form v1.2.3"),
        ({}, "give exactly one of --version vX.Y.Z or --bump"),
        ({"version": "v9.0.0", "bump": "minor"}, "give exactly one of"),
    ],
)
def test_register_refuses_bad_versions(
    registered: ModelRepo, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(RegistryError, match=r"^" + message.replace("(", r"\(").replace(".", r"\.")):
        register(registered.path, "credit-default", check_remote=False, **kwargs)  # type: ignore[arg-type]


def test_register_refuses_a_dirty_tree(model_repo: ModelRepo) -> None:
    (model_repo.path / "params.yaml").write_text("train:\n  seed: 9\n")
    with pytest.raises(RegistryError, match=r"^the work tree has uncommitted changes"):
        register(model_repo.path, "credit-default", version="v1.0.0")
    assert read_tags(model_repo.path) == []


def test_register_refuses_an_artifact_missing_from_dvc_lock(model_repo: ModelRepo) -> None:
    with pytest.raises(RegistryError, match=r"^dvc.lock at \w{8}: no output 'models/ghost.onnx'"):
        register(model_repo.path, "ghost", version="v1.0.0")


def test_register_refuses_an_artifact_missing_from_the_remote(model_repo: ModelRepo) -> None:
    shutil.rmtree(model_repo.remote / "files")
    with pytest.raises(RegistryError, match=r"is missing in the DVC remote; run 'dvc push' first$"):
        register(model_repo.path, "credit-default", version="v1.0.0")
    assert read_tags(model_repo.path) == []


def test_register_names_the_closest_artifact_of_an_unknown_model(model_repo: ModelRepo) -> None:
    with pytest.raises(
        RegistryError, match=r"no artifact 'credit-defualt'.*closest: credit-default"
    ):
        register(model_repo.path, "credit-defualt", version="v1.0.0")


def test_register_refuses_a_commit_without_dvc_lock(model_repo: ModelRepo) -> None:
    root_commit = git(model_repo.path, "rev-list", "--max-parents=0", "HEAD").strip()
    git(model_repo.path, "checkout", "-q", "-b", "empty", root_commit)
    git(model_repo.path, "rm", "-q", "-r", "--cached", ".")
    git(model_repo.path, "commit", "-q", "--allow-empty", "-m", "empty")
    with pytest.raises(RegistryError, match=r"^dvc.yaml: not committed at \w{8}"):
        register(model_repo.path, "credit-default", version="v1.0.0", check_remote=False)


def test_minor_bump_of_an_existing_version(registered: ModelRepo) -> None:
    assert (
        register(registered.path, "credit-default", bump="minor", check_remote=False).version
        == "v2.1.0"
    )


def test_metrics_files_missing_or_not_json_are_left_out(model_repo: ModelRepo) -> None:
    (model_repo.path / "metrics" / "train.json").write_text("{not json")
    git(model_repo.path, "commit", "-q", "-am", "Break the metrics")
    broken = register(model_repo.path, "churn", version="v0.1.0", check_remote=False)
    git(model_repo.path, "rm", "-q", "metrics/train.json")
    git(model_repo.path, "commit", "-q", "-m", "Drop the metrics")
    missing = register(model_repo.path, "churn", version="v0.2.0", check_remote=False)
    assert broken.metrics == {} and missing.metrics == {}


def test_tags_of_other_tools_are_read_without_metadata(registered: ModelRepo) -> None:
    from mlops_gitops.registry import gc, promote
    from mlops_gitops.registry.versions import parse_metadata

    git(
        registered.path,
        "tag",
        "-a",
        "-m",
        "Registering artifact churn version v0.0.1",
        "churn@v0.0.1",
    )
    git(registered.path, "tag", "-a", "-m", "release", "release-2026")
    git(registered.path, "tag", "churn@v0.0.2")  # lightweight: ignored, as GTO does
    versions = {v.version: v for v in list_versions(registered.path, "churn")}
    assert set(versions) == {"v0.0.1", "v1.0.0"} and versions["v0.0.1"].artifact is None
    with pytest.raises(
        RegistryError, match=r"has no artifact metadata \(not made by 'mlops register'\)"
    ):
        promote(registered.path, "churn", "v0.0.1", to="dev")
    assert gc(registered.path, dry=True).kept_versions == 5
    assert parse_metadata("subject\n{broken") == {}
    assert parse_metadata("subject\n[1]") == {}


def test_unknown_model_with_no_close_name_lists_known_ones(registered: ModelRepo) -> None:
    with pytest.raises(
        RegistryError, match=r"^unknown model 'zzz'; closest: churn, credit-default;"
    ):
        list_versions(registered.path, "zzz")
