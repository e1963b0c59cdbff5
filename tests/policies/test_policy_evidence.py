"""Building the bundle: evidence read from files and git, and what stops the gate."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest

from mlops_gitops.policies.collect import GateRequest, build_bundle, fairness_evidence
from mlops_gitops.policies.promotion import params_tree
from mlops_gitops.policies.snapshots import Pipeline, onnx_evidence, pick_model
from mlops_gitops.policies.source import PolicyError
from mlops_gitops.project import template_root
from tests.helpers import gen_tree, run

NOW = datetime(2026, 1, 15, 10, tzinfo=UTC)
DVC_YAML = """\
stages:
  evaluate:
    cmd: python evaluate.py
    metrics:
      - metrics/evaluate.json:
          cache: false
      - metrics/extra.yaml
      - metrics/more.toml
"""
FILES = {
    "dvc.yaml": DVC_YAML,
    "params.yaml": "model:\n  name: credit\nwhen: 2026-01-01\n",
    "metrics/evaluate.json": json.dumps(
        {"roc_auc": 0.8, "ok": True, "slices": {"F": {"auc": 0.7}}}
    ),
    "metrics/extra.yaml": "latency_ms: 12\n",
    "metrics/more.toml": "cost = 3\n",
}


@pytest.fixture
def repo(git_repo):
    shutil.copytree(template_root() / "policies", git_repo / "policies")
    gen_tree(git_repo, FILES, commit="Pipeline")
    return git_repo


def bundle(repo, **kwargs):
    return build_bundle(GateRequest(root=repo, now=NOW, **kwargs))


def error(repo, **kwargs):
    with pytest.raises(PolicyError) as err:
        bundle(repo, **kwargs)
    return str(err.value)


def test_metrics_of_every_format_are_flattened(repo):
    result = bundle(repo)
    assert result.candidate.metrics == {
        "roc_auc": 0.8,
        "slices.F.auc": 0.7,
        "latency_ms": 12.0,
        "cost": 3.0,
    }
    assert result.candidate.model == "credit" and result.candidate.params["when"] == "2026-01-01"
    assert result.validation is None and result.onnx is None and result.fairness is None
    assert result.deltas.base == {
        "roc_auc": 0.0,
        "slices.F.auc": 0.0,
        "latency_ms": 0.0,
        "cost": 0.0,
    }


def test_missing_metrics_file_names_the_dvc_yaml_line(repo):
    (repo / "metrics/extra.yaml").unlink()
    assert error(repo) == (
        "dvc.yaml:7 metrics file metrics/extra.yaml not found; run "
        "'dvc repro' (or 'dvc pull') before the gate"
    )


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        ("metrics/evaluate.json", "{\n  bad", "metrics/evaluate.json:2: not valid JSON"),
        ("metrics/more.toml", "cost = = 3", "metrics/more.toml: not valid (Invalid value"),
        ("params.yaml", "- a\n", "params.yaml: expected a mapping of params at the top level"),
        (
            "reports/validation.json",
            '{"passed": "yes"}',
            "reports/validation.json: expected an object with a boolean",
        ),
    ],
)
def test_invalid_evidence_files(repo, path, text, message):
    (repo / path).parent.mkdir(exist_ok=True)
    (repo / path).write_text(text)
    assert error(repo).startswith(message)


def test_no_pipeline(repo):
    (repo / "dvc.yaml").unlink()
    assert error(repo).startswith("dvc.yaml: not found in")


def test_unknown_base(repo):
    assert error(repo, base="nope") == (
        "base 'nope' does not name a commit; pass --base with the target branch (e.g. origin/main)"
    )


def test_repository_without_commits(tmp_path):
    run(["git", "init", "-q", "-b", "main"], tmp_path)
    shutil.copytree(template_root() / "policies", tmp_path / "policies")
    assert error(tmp_path).endswith(": the repository has no commit yet; commit the change first")


def test_unrelated_base_has_no_changed_files(repo):
    run(["git", "checkout", "-q", "--orphan", "other"], repo)
    run(["git", "commit", "-q", "-m", "Other root"], repo)
    result = bundle(repo)
    assert result.target.merge_base is None and result.changed_files == []


def test_a_change_to_several_manifests_needs_env(repo):
    run(["git", "checkout", "-q", "-b", "promote"], repo)
    gen_tree(
        repo, {"envs/dev.yaml": "models: {}\n", "envs/prod.yaml": "models: {}\n"}, commit="Edit"
    )
    assert (
        error(repo) == "the change edits the manifests of dev, prod; pass --env to pick the target"
    )


def test_unknown_environment(repo):
    shutil.copytree(template_root() / "envs", repo / "envs")
    gen_tree(repo, {}, commit="Environments")
    assert error(repo, environment="qa") == (
        "unknown environment 'qa'; declared in envs/environments.yaml: dev, staging, prod"
    )


def test_environment_without_deployment(repo):
    shutil.copytree(template_root() / "envs", repo / "envs")
    gen_tree(repo, {}, commit="Environments")
    result = bundle(repo, environment="prod")
    assert result.target.environment == "prod" and result.deployed is None and result.change is None


def test_model_and_artifact_come_from_dvc_yaml():
    pipe = Pipeline(text="", metrics=(), artifacts={"a": "models/a.onnx", "b": "models/b.onnx"})
    assert pick_model(pipe, {"model": {"name": "b"}}) == ("b", "models/b.onnx")
    assert pick_model(pipe, {"model": "b"}) == ("a", "models/a.onnx")
    assert pick_model(Pipeline(text="", metrics=(), artifacts={}), {"model": {"name": "c"}}) == (
        "c",
        None,
    )
    assert pick_model(Pipeline(text="", metrics=(), artifacts={}), {}) == (None, None)
    assert pipe.line_of("nowhere") == 1


def test_onnx_tolerance_must_be_a_number():
    assert (
        onnx_evidence({"onnx_max_abs_diff": 0.1}, {"export": {"tolerance": "tight"}}).tolerance
        is None
    )
    assert onnx_evidence({"onnx_max_abs_diff": 0.1}, {"export": 3}).tolerance is None


def test_fairness_comes_from_fairness_metrics():
    found = fairness_evidence(
        {"fairness.demographic_parity_difference": 0.1, "fairness.by.sex": 0.2}
    )
    assert found.demographic_parity_difference == 0.1
    assert fairness_evidence({"roc_auc": 0.8}) is None


def test_registration_params_expand_into_a_tree():
    locked = {"data.label": "y", "data.split.seed": 1, "model": {"lr": 0.1}, "data": {"rows": 3}}
    assert params_tree(locked) == {
        "data": {"label": "y", "split": {"seed": 1}, "rows": 3},
        "model": {"lr": 0.1},
    }


def test_gate_record_reading_errors(tmp_path):
    from mlops_gitops.policies.gate import read_record

    missing = tmp_path / "none.json"
    with pytest.raises(PolicyError, match=r"none\.json: file not found$"):
        read_record(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{\n  ")
    with pytest.raises(PolicyError, match=r"broken.json:2: not valid JSON"):
        read_record(broken)
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"schema_version": 2, "now": "2026-01-01T00:00:00Z"}))
    with pytest.raises(
        PolicyError, match=r"bundle schema_version 2 is not supported; this version reads 1$"
    ):
        read_record(future)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"now": "yesterday"}))
    with pytest.raises(PolicyError, match=r"wrong\.json now: input should be a valid datetime"):
        read_record(wrong)


def test_a_bare_bundle_replays_without_a_recorded_decision(repo):
    from mlops_gitops.policies.gate import replay_gate, run_gate

    result = run_gate(GateRequest(root=repo, now=NOW), output=repo.parent / "record.json")
    bare = repo.parent / "bundle.json"
    bare.write_text(json.dumps(result.bundle.to_json()))
    replay = replay_gate(repo, bare)
    assert replay.recorded is None and replay.matches_record is None
    assert replay.decision == result.decision


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stages: [\n", "dvc.yaml: not valid YAML"),
        ("- a\n", "dvc.yaml: expected a mapping at the top level"),
    ],
)
def test_malformed_dvc_yaml(repo, text, message):
    from mlops_gitops.errors import PipelineError

    (repo / "dvc.yaml").write_text(text)
    with pytest.raises(PipelineError, match=f"^{message}$"):
        bundle(repo)


def test_environment_without_a_manifest_at_the_base(repo):
    shutil.copytree(template_root() / "envs", repo / "envs")
    (repo / "envs" / "prod.yaml").unlink()
    gen_tree(repo, {}, commit="Environments without prod")
    assert error(repo, environment="prod").startswith("envs/prod.yaml: not found at the base (")


def test_an_undeclared_manifest_is_not_an_environment(repo):
    shutil.copytree(template_root() / "envs", repo / "envs")
    gen_tree(repo, {"envs/qa.yaml": "models: {}\n"}, commit="Environments")
    run(["git", "checkout", "-q", "-b", "qa"], repo)
    gen_tree(repo, {"envs/qa.yaml": "models: {}\n# edited\n"}, commit="Edit qa")
    assert error(repo).startswith("unknown environment 'qa'; declared in envs/environments.yaml")
