"""The rendered Kubernetes resources carry the log store and take its credentials from a Secret."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlops_gitops.serving.kube import render_k8s
from tests.helpers.serving import BuiltModel, manifest_text

pytestmark = pytest.mark.slow  # builds ONNX models

STORE = "    store: {url: 's3://logs/dev', options: {endpoint_url: 'https://s3.example'}}\n"


def _render(root: Path, models: dict[str, BuiltModel], store: str) -> dict[str, object]:
    text = manifest_text(models).replace("    path: logs/predictions/dev\n", store)
    (root / "envs" / "dev.yaml").write_text(text)
    rendered = render_k8s(root, "dev")  # validates every resource (strict schemas)
    assert "Deployment/mlops-serving-dev" in rendered.resources
    documents = (rendered.folder / "deployment.yaml").read_text()
    return yaml.safe_load(documents.split("\n", 1)[1])


def test_s3_credentials_come_from_the_secret_never_the_manifest(
    registered_root: Path, onnx_models: dict[str, BuiltModel]
) -> None:
    deployment = _render(registered_root, onnx_models, STORE)
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert refs == {
        name: {"name": "mlops-prediction-store", "key": name, "optional": False}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    assert pod["metadata"]["annotations"]["mlops-gitops/prediction-store"] == "s3://logs/dev"
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["tokens"]


def test_gcs_key_file_is_mounted_from_the_secret(
    registered_root: Path, onnx_models: dict[str, BuiltModel]
) -> None:
    deployment = _render(registered_root, onnx_models, "    store: {url: 'gs://logs/dev'}\n")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    key = "/var/run/secrets/mlops-store/GOOGLE_APPLICATION_CREDENTIALS"
    assert {"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": key} in container["env"]
    store = {"name": "store", "secret": {"secretName": "mlops-prediction-store", "optional": False}}
    assert store in pod["volumes"]
    assert {"name": "store", "mountPath": "/var/run/secrets/mlops-store", "readOnly": True} in (
        container["volumeMounts"]
    )


def test_a_local_log_path_renders_no_store_settings(
    registered_root: Path, onnx_models: dict[str, BuiltModel]
) -> None:
    deployment = _render(registered_root, onnx_models, "    path: logs/predictions/dev\n")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert [e["name"] for e in container["env"]] == ["MLOPS_TOKEN_FILE"]
