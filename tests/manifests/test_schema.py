"""The manifest schema: rollouts, serving settings, environments."""

from __future__ import annotations

import pytest

from mlops_gitops.manifests import (
    ManifestError,
    manifest_json_schema,
    parse_environments,
    parse_manifest,
)

MD5_A = "a" * 32
MD5_B = "b" * 32
MD5_C = "c" * 32


def model(rollout: str = "") -> str:
    head = "models:\n  churn:\n    version: v1.0.0\n"
    return f"{head}    artifact: {{path: m.onnx, md5: {MD5_A}}}\n{rollout}"


def variant(name: str, version: str, weight: int, md5: str) -> str:
    artifact = f"{{path: m.onnx, md5: {md5}}}"
    fields = f"name: {name}, version: {version}, weight: {weight}, artifact: {artifact}"
    return f"        - {{{fields}}}\n"


def test_a_manifest_with_empty_sections_gets_the_defaults() -> None:
    manifest = parse_manifest("models: {}\n", "envs/dev.yaml")
    assert manifest.models == {} and manifest.monitoring == {}
    assert (manifest.serving.replicas, manifest.serving.resources.cpu) == (1, "1")
    assert parse_manifest("models:\nmonitoring:\n", "x").models == {}


def test_direct_canary_and_ab_rollouts_give_routes_summing_to_100() -> None:
    direct = parse_manifest(model(), "x").models["churn"]
    assert [(r.name, r.weight) for r in direct.routes()] == [("stable", 100)]
    canary = parse_manifest(
        model(
            "    rollout:\n      strategy: canary\n      weight: 10\n"
            f"      candidate: {{version: v1.1.0, artifact: {{path: m.onnx, md5: {MD5_B}}}}}\n"
        ),
        "x",
    ).models["churn"]
    assert [(r.version, r.weight) for r in canary.routes()] == [("v1.0.0", 90), ("v1.1.0", 10)]
    ab = parse_manifest(
        model(
            "    rollout:\n      strategy: ab\n      variants:\n"
            + variant("b", "v2.0.0", 30, MD5_B)
            + variant("c", "v3.0.0", 20, MD5_C)
        ),
        "x",
    ).models["churn"]
    assert [(r.name, r.weight) for r in ab.routes()] == [("control", 50), ("b", 30), ("c", 20)]
    assert ab.running_versions() == ["v1.0.0", "v2.0.0", "v3.0.0"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            model("    rollout:\n      strategy: blue-green\n"),
            "x:5 models.churn.rollout: input tag 'blue-green'",
        ),
        (
            model("    rollout:\n      strategy: canary\n      weight: 100\n      candidate: {}\n"),
            "x:7 models.churn.rollout.weight: input should be less than or equal to 99",
        ),
        (
            model(
                "    rollout:\n      strategy: ab\n      variants:\n"
                + variant("b", "v2.0.0", 60, MD5_B)
                + variant("c", "v3.0.0", 40, MD5_C)
            ),
            "x:5 models.churn.rollout: variant weights sum to 100",
        ),
        (
            model(
                "    rollout:\n      strategy: ab\n      variants:\n"
                + variant("control", "v2.0.0", 10, MD5_B)
            ),
            "x:5 models.churn.rollout: variant names must be unique",
        ),
        (
            model().replace("v1.0.0", "1.0.0"),
            "x:3 models.churn.version: string should match pattern",
        ),
        (
            model().replace("v1.0.0", "1.0"),
            "x:3 models.churn.version: input should be a valid string",
        ),
        (
            model().replace(MD5_A, "abc"),
            "x:4 models.churn.artifact.md5: string should match pattern",
        ),
        (model() + "    replicas: 2\n", "x:5 models.churn.replicas: unknown field; remove it"),
        (
            "models:\n  churn:\n    version: v1.0.0\n",
            "x:2 models.churn.artifact: required field is missing",
        ),
        (
            "serving:\n  autoscaling:\n    min_replicas: 3\n    max_replicas: 2\n",
            "x:2 serving.autoscaling: min_replicas (3) is above max_replicas (2)",
        ),
        (
            "serving:\n  resources:\n    cpu: lots\n",
            "x:3 serving.resources.cpu: string should match",
        ),
        ("models: [1]\n", "x:1 models: input should be a valid dictionary"),
        ("- 1\n", "x:1 (top level): input should be a valid dictionary"),
        (
            "models:\n  Bad Name!:\n    version: v1.0.0\n",
            "x:2 models.Bad Name!: string should match",
        ),
    ],
)
def test_malformed_manifests_name_line_and_field(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "x")
    assert str(info.value).startswith(message)


def test_numbers_are_accepted_as_resource_quantities() -> None:
    resources = parse_manifest(
        "serving:\n  resources:\n    cpu: 2\n    memory: 0.5\n", "x"
    ).serving.resources
    assert (resources.cpu, resources.memory) == ("2", "0.5")


def test_environments_declare_order_feeds_and_soak() -> None:
    text = (
        "environments:\n  dev:\n    feeds: [staging]\n"
        "  staging:\n    feeds: [prod]\n    soak: 1d12h\n  prod:\n"
    )
    environments = parse_environments(text, "envs/environments.yaml")
    assert environments.order == ["dev", "staging", "prod"]
    assert environments.sources("prod") == ["staging"] and environments.sources("dev") == []
    assert environments.environments["staging"].soak_seconds() == 36 * 3600
    assert environments.environments["dev"].soak_seconds() == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "environments:\n  dev:\n    feeds: [qa]\n",
            "e:1 environments: dev feeds unknown environment 'qa'",
        ),
        (
            "environments:\n  dev:\n  prod:\n    feeds: [dev]\n",
            "e:1 environments: prod may only feed an environment listed after it, not 'dev'",
        ),
        (
            "environments:\n  dev:\n    soak: 2 days\n",
            "e:3 environments.dev.soak: string should match",
        ),
        ("environments: {}\n", "e:1 environments: dictionary should have at least 1 item"),
    ],
)
def test_bad_environments_are_refused(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_environments(text, "e")
    assert str(info.value).startswith(message)


def test_the_json_schema_documents_both_files() -> None:
    schema = manifest_json_schema()
    assert "models" in schema["manifest"]["properties"]
    assert "environments" in schema["environments"]["properties"]


def test_an_error_inside_a_list_names_its_line() -> None:
    text = model(
        "    rollout:\n      strategy: ab\n      variants:\n"
        "        - name: b\n          version: v2.0.0\n          weight: 0\n"
        f"          artifact: {{path: m, md5: {MD5_B}}}\n"
    )
    with pytest.raises(
        ManifestError, match=r"^x:10 models\.churn\.rollout\.variants\.0\.weight: input"
    ):
        parse_manifest(text, "x")


def test_environments_must_be_a_mapping() -> None:
    with pytest.raises(
        ManifestError, match=r"^e:1 environments: input should be a valid dictionary"
    ):
        parse_environments("environments: [dev, prod]\n", "e")


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_an_empty_manifest_is_refused(text: str) -> None:
    with pytest.raises(ManifestError, match=r"^envs/dev.yaml:1: the manifest is empty; write"):
        parse_manifest(text, "envs/dev.yaml")


def test_an_unquoted_md5_of_digits_says_to_quote_it() -> None:
    text = "models:\n  churn:\n    version: v1.0.0\n    artifact: {path: m.onnx, md5: %s}\n"
    with pytest.raises(ManifestError) as err:
        parse_manifest(text % ("1" * 32), "envs/dev.yaml")
    assert str(err.value).startswith(
        "envs/dev.yaml:4 models.churn.artifact.md5: an unquoted md5 of digits"
    )
    assert "write it in quotes" in str(err.value)


def test_a_log_store_takes_a_url_and_options_but_never_credentials() -> None:
    store = "serving:\n  prediction_log:\n    store:\n      url: s3://logs/dev\n"
    ok = parse_manifest(store + "      options: {client_kwargs: {region_name: eu-west-1}}\n", "x")
    log = ok.serving.prediction_log
    assert log is not None and log.store is not None and log.path is None
    assert log.store.options == {"client_kwargs": {"region_name": "eu-west-1"}}
    with pytest.raises(ManifestError) as info:
        parse_manifest(store + "      options: {client_kwargs: {aws_secret_access_key: x}}\n", "x")
    message = str(info.value)
    assert message.startswith("x:5 serving.prediction_log.store.options")
    assert "'aws_secret_access_key' looks like a credential" in message
