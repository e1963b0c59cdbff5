"""The KServe alternative: one ``InferenceService`` per model, and its schema.

KServe's InferenceService is a CRD, so ``kubernetes-validate`` has no schema
for it. :data:`INFERENCE_SERVICE_SCHEMA` is a JSON schema written from the
documented fields of ``serving.kserve.io/v1beta1`` that this rendering uses
(metadata, ``spec.predictor`` with ``minReplicas``, ``maxReplicas``,
``canaryTrafficPercent`` and custom ``containers``); it is minimal, not
KServe's full CRD, and it rejects fields it does not list.
"""

from __future__ import annotations

from typing import Any

from mlops_gitops.serving.plan import ModelPlan, ServingPlan

_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
_QUANTITY = {"type": "string", "pattern": r"^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$"}
_CONTAINER = {
    "type": "object",
    "required": ["name", "image"],
    "additionalProperties": False,
    "properties": {
        "name": {"const": "kserve-container"},
        "image": {"type": "string", "minLength": 1},
        "args": {"type": "array", "items": {"type": "string"}},
        "env": {"type": "array", "items": {"type": "object", "required": ["name"]}},
        "ports": {
            "type": "array",
            "maxItems": 1,
            "items": {
                "type": "object",
                "required": ["containerPort"],
                "additionalProperties": False,
                "properties": {
                    "containerPort": {"type": "integer", "minimum": 1, "maximum": 65535},
                    "protocol": {"enum": ["TCP"]},
                    "name": {"type": "string"},
                },
            },
        },
        "resources": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "requests": {"type": "object", "additionalProperties": _QUANTITY},
                "limits": {"type": "object", "additionalProperties": _QUANTITY},
            },
        },
        "readinessProbe": {"type": "object"},
        "livenessProbe": {"type": "object"},
        "volumeMounts": {"type": "array", "items": {"type": "object"}},
    },
}
INFERENCE_SERVICE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "serving.kserve.io/v1beta1"},
        "kind": {"const": "InferenceService"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": _NAME,
                "namespace": _NAME,
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "required": ["predictor"],
            "additionalProperties": False,
            "properties": {
                "predictor": {
                    "type": "object",
                    "required": ["containers"],
                    "additionalProperties": False,
                    "properties": {
                        "minReplicas": {"type": "integer", "minimum": 0},
                        "maxReplicas": {"type": "integer", "minimum": 1},
                        "canaryTrafficPercent": {"type": "integer", "minimum": 0, "maximum": 100},
                        "containers": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 1,
                            "items": _CONTAINER,
                        },
                        "volumes": {"type": "array", "items": {"type": "object"}},
                    },
                }
            },
        },
    },
}


def inference_services(
    plan: ServingPlan, *, image: str, namespace: str | None
) -> list[dict[str, Any]]:
    """Return one InferenceService per model of ``plan``.

    Direct rollout: the revision serves the pinned version. Canary: the new
    revision serves only the candidate and KServe sends it
    ``canaryTrafficPercent`` of the traffic, the previous revision the rest.
    A/B: KServe has no multi-way split, so the revision serves every variant
    and splits in-process by the manifest's weights.
    """
    from mlops_gitops.serving.kube import serving_volumes

    services = []
    for model in plan.models:
        metadata: dict[str, Any] = {
            "name": f"{model.name.replace('/', '-').replace('_', '-').lower()}-{plan.env}",
            "annotations": {
                "serving.kserve.io/deploymentMode": "Serverless",
                "mlops-gitops/strategy": model.strategy,
            },
        }
        if namespace:
            metadata["namespace"] = namespace
        predictor = {**_predictor(plan, model, image), "volumes": serving_volumes(plan)}
        services.append(
            {
                "apiVersion": "serving.kserve.io/v1beta1",
                "kind": "InferenceService",
                "metadata": metadata,
                "spec": {"predictor": predictor},
            }
        )
    return services


def _predictor(plan: ServingPlan, model: ModelPlan, image: str) -> dict[str, Any]:
    from mlops_gitops.serving.kube import PORT, image_serve_args, serve_container

    args = image_serve_args(plan)
    predictor: dict[str, Any] = {}
    if model.strategy == "canary":
        candidate = model.variants[-1]
        args += ["--only", f"{model.name}={candidate.version}"]
        predictor["canaryTrafficPercent"] = round(candidate.weight * 100)
    elif model.strategy == "direct":
        args += ["--only", f"{model.name}={model.variants[0].version}"]
    else:
        args += ["--only", model.name]
    scaling = plan.settings.autoscaling
    if scaling:
        predictor["minReplicas"] = scaling.get("min_replicas", 1)
        predictor["maxReplicas"] = scaling.get("max_replicas", 1)
    container = serve_container(plan, image=image, args=args)
    container["name"] = "kserve-container"
    container["ports"] = [{"containerPort": PORT, "protocol": "TCP"}]
    predictor["containers"] = [container]
    return predictor
