"""Loading model sets: fetch by hash through DVC, verify, route."""

from __future__ import annotations

import shutil

import pytest

from mlops_gitops import pipeline
from mlops_gitops.errors import PipelineError
from mlops_gitops.serving import ModelPlan, ServingError, ServingPlan, Variant, load_model_set
from tests.helpers import run

pytestmark = pytest.mark.slow


def _plan(root, *variants, strategy="direct"):
    return ServingPlan(
        env="dev", root=root, models=(ModelPlan("credit", tuple(variants), strategy),)
    )


def test_artifact_missing_from_cache_is_pulled_from_the_dvc_remote(dvc_repo, onnx_models):
    v1 = onnx_models["v1"]
    (dvc_repo / "models").mkdir()
    shutil.copyfile(v1.path, dvc_repo / "models" / "model.onnx")
    run(["dvc", "add", "-q", "models/model.onnx"], dvc_repo)
    run(["dvc", "push", "-q"], dvc_repo)
    shutil.rmtree(dvc_repo / ".dvc" / "cache")
    models = load_model_set(_plan(dvc_repo, Variant("v1.0.0", "models/model.onnx", v1.md5)))
    assert models.models["credit"].primary.md5 == v1.md5
    assert pipeline.cache_object_path(dvc_repo, v1.md5).is_file()


def test_artifact_in_neither_cache_nor_remote_is_a_one_line_error(dvc_repo):
    with pytest.raises(PipelineError, match="neither the DVC cache"):
        pipeline.fetch_object(dvc_repo, "deadbeef" * 4)


def test_a_corrupt_remote_object_is_called_corrupt_not_missing(dvc_repo):
    (dvc_repo / "model.bin").write_bytes(b"the registered bytes")
    run(["dvc", "add", "-q", "model.bin"], dvc_repo)
    run(["dvc", "push", "-q"], dvc_repo)
    md5 = next(
        p.parent.name + p.name for p in (dvc_repo / ".dvc" / "cache").rglob("*") if p.is_file()
    )
    stored = dvc_repo.parent / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]
    stored.chmod(0o644)
    stored.write_bytes(b"tampered bytes")
    shutil.rmtree(dvc_repo / ".dvc" / "cache")

    with pytest.raises(PipelineError, match=r"is in the default remote of .* but corrupt"):
        pipeline.fetch_object(dvc_repo, md5)


def test_malformed_hash_is_refused():
    with pytest.raises(PipelineError, match="32 hex digits"):
        pipeline.fetch_object(".", "abc")


def test_weights_must_sum_to_one(tmp_path):
    with pytest.raises(ServingError, match="sum to 1"):
        _plan(tmp_path, Variant("v1", "m", "a" * 32, 0.5), Variant("v2", "m", "b" * 32, 0.4))


def test_routing_follows_the_weights_and_keys(serving_root, onnx_models):
    v1, v2 = onnx_models["v1"], onnx_models["v2"]
    plan = _plan(
        serving_root,
        Variant("v1.0.0", "m", v1.md5, 0.8),
        Variant("v2.0.0", "m", v2.md5, 0.2),
        strategy="canary",
    )
    served = load_model_set(plan).models["credit"]
    keyed = [served.route(f"user-{i}".encode()).version for i in range(2000)]
    share = keyed.count("v2.0.0") / len(keyed)
    assert 0.17 < share < 0.23
    assert all(served.route(b"user-7").version == keyed[7] for _ in range(10))


def test_versions_with_different_inputs_cannot_share_traffic(serving_root, onnx_models, tmp_path):
    import onnx

    other = onnx.load(onnx_models["v2"].path)
    other.graph.input[0].name = "renamed"
    for node in other.graph.node:
        node.input[:] = ["renamed" if i == "age" else i for i in node.input]
    path = tmp_path / "other.onnx"
    onnx.save(other, path)
    from tests.helpers.serving import BuiltModel, cache_model

    digest = __import__("hashlib").md5(path.read_bytes()).hexdigest()
    cache_model(serving_root, BuiltModel(path, digest))
    plan = _plan(
        serving_root,
        Variant("v1.0.0", "m", onnx_models["v1"].md5, 0.5),
        Variant("v3.0.0", "m", digest, 0.5),
        strategy="ab",
    )
    with pytest.raises(ServingError, match="different inputs"):
        load_model_set(plan)
