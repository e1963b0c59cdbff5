"""The runner set-up documentation: the ARC values file is a valid GPU pod template."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

DOCS = Path(__file__).parents[2] / "docs" / "admin"


@pytest.mark.slow
def test_arc_values_request_a_gpu_and_validate_as_a_kubernetes_pod() -> None:
    values = YAML(typ="safe").load((DOCS / "arc-values.yaml").read_text())
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "runner"},
        "spec": values["template"]["spec"],
    }

    kubernetes_validate.validate(pod, kubernetes_validate.latest_version(), strict=True)
    [runner] = values["template"]["spec"]["containers"]
    assert runner["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert values["minRunners"] == 0 and values["runnerScaleSetLabels"][-1] == "gpu"


def test_runner_guide_names_the_labels_the_train_workflow_uses() -> None:
    text = (DOCS / "runners.md").read_text()

    assert "[self-hosted, linux, x64, gpu]" in text
    assert "--ephemeral" in text and "arc-values.yaml" in text
