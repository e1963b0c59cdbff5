"""Kubernetes rendering of an environment: scale-out by existing engines.

``render_k8s`` turns ``envs/<env>.yaml`` into files a GitOps controller
(Argo CD, Flux) applies, under ``deploy/<env>/``:

* ``deployment.yaml``, ``service.yaml``, ``hpa.yaml`` (when autoscaling is
  set) and ``kustomization.yaml`` listing them: the serving image runs
  ``mlops serve`` and splits canary/A-B traffic in-process;
* ``inferenceservice.yaml``: the KServe alternative, one InferenceService
  per model; a canary pins the candidate in the new revision and lets
  KServe split with ``canaryTrafficPercent`` (an A/B split stays in-process);
* the prediction-log store (``serving.prediction_log.store``): its URL as the
  pod annotation ``mlops-gitops/prediction-store``, its credentials as env vars
  filled from the Secret ``mlops-prediction-store`` (``secretKeyRef``, one key
  per variable of :data:`~mlops_gitops.logstore.CREDENTIAL_ENV`; for ``gs://``
  the key file is mounted from it), never from the manifest;
* ``Dockerfile`` and ``requirements.lock``: the serving image of any project
  of the convention (:mod:`mlops_gitops.serving.image`).

Every resource is validated offline before anything is written: built-in
kinds against the Kubernetes JSON schemas bundled with
``kubernetes-validate`` (strict: unknown fields fail), the InferenceService
against :data:`INFERENCE_SERVICE_SCHEMA`, a JSON schema written from the
documented fields of KServe's ``serving.kserve.io/v1beta1`` CRD.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_gitops.errors import DependencyMissingError
from mlops_gitops.logstore import CREDENTIAL_ENV, scheme_of
from mlops_gitops.serving.image import render_image
from mlops_gitops.serving.kserve import INFERENCE_SERVICE_SCHEMA, inference_services
from mlops_gitops.serving.model import ServingError
from mlops_gitops.serving.plan import ServingPlan, read_registered_plan

DEPLOY_ROOT = "deploy"
PORT = 8080
TOKEN_SECRET = "mlops-serving-tokens"
TOKEN_DIR = "/var/run/secrets/mlops"
STORE_SECRET = "mlops-prediction-store"
STORE_KEY_DIR = "/var/run/secrets/mlops-store"
# Credentials read from a mounted file rather than a variable's value.
_KEY_FILES = {"GOOGLE_APPLICATION_CREDENTIALS"}


@dataclass(frozen=True)
class Rendered:
    """The files ``render_k8s`` wrote and the resources it validated."""

    folder: Path
    files: tuple[Path, ...]
    resources: tuple[str, ...]


def render_k8s(
    root: str | os.PathLike[str],
    env: str,
    *,
    out_dir: Path | None = None,
    image: str | None = None,
    namespace: str | None = None,
) -> Rendered:
    """Render and validate ``env``'s Kubernetes resources and Dockerfile (see the module docstring).

    Raises:
        ManifestError: the manifest is missing or not valid.
        RegistryError: a pinned artifact differs from its version's registration.
        ServingError: a rendered resource does not validate (a bug: report it).
    """
    root_path = Path(root).resolve()
    plan = read_registered_plan(root_path, env)
    return render_plan(plan, out_dir=out_dir, image=image, namespace=namespace)


def render_plan(
    plan: ServingPlan,
    *,
    out_dir: Path | None = None,
    image: str | None = None,
    namespace: str | None = None,
) -> Rendered:
    """Render and validate the resources of a plan whose pins were checked by the caller."""
    env, root_path = plan.env, plan.root
    name = f"mlops-serving-{env}"
    image = image or f"{name}:{_plan_digest(plan)[:12]}"
    documents = {
        "deployment.yaml": [deployment(plan, name=name, image=image, namespace=namespace)],
        "service.yaml": [service(plan, name=name, namespace=namespace)],
    }
    if plan.settings.autoscaling:
        documents["hpa.yaml"] = [autoscaler(plan, name=name, namespace=namespace)]
    documents["kustomization.yaml"] = [
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": sorted(documents),
        }
    ]
    services = inference_services(plan, image=image, namespace=namespace)
    if services:
        documents["inferenceservice.yaml"] = services
    checked = [validate(doc) for docs in documents.values() for doc in docs]
    folder = out_dir or root_path / DEPLOY_ROOT / env
    files = _write(
        folder,
        documents,
        render_image(plan, port=PORT, token_dir=TOKEN_DIR, command=image_serve_args(plan)),
    )
    return Rendered(folder, files, tuple(checked))


def _labels(plan: ServingPlan) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "mlops-serving",
        "app.kubernetes.io/instance": plan.env,
        "app.kubernetes.io/managed-by": "mlops-gitops",
    }


def _meta(name: str, plan: ServingPlan, namespace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": _labels(plan)}
    if namespace:
        meta["namespace"] = namespace
    return meta


def serve_container(
    plan: ServingPlan, *, image: str, args: list[str] | None = None
) -> dict[str, Any]:
    """Return the container that runs ``mlops serve`` for the environment."""
    requests = dict(plan.settings.resources.get("requests", {}))
    return {
        "name": "mlops-serving",
        "image": image,
        "args": args or image_serve_args(plan),
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": [{"name": "MLOPS_TOKEN_FILE", "value": f"{TOKEN_DIR}/tokens"}, *store_env(plan)],
        "resources": {"requests": requests, "limits": {"memory": requests["memory"]}}
        if requests.get("memory")
        else {"requests": requests},
        "readinessProbe": {
            "httpGet": {"path": "/v2/health/ready", "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": {"path": "/v2/health/live", "port": "http"},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "volumeMounts": [
            {"name": "tokens", "mountPath": TOKEN_DIR, "readOnly": True},
            *(
                [{"name": "store", "mountPath": STORE_KEY_DIR, "readOnly": True}]
                if _store_keys(plan)
                else []
            ),
        ],
    }


def image_serve_args(plan: ServingPlan) -> list[str]:
    """Return the ``mlops`` arguments the serving image runs.

    The image holds the manifest and the artifacts but no Git history: the pins
    were compared with their registrations when this render ran, so the server
    in the image skips that comparison (it still checks every artifact's md5).
    """
    address = ["--host", "0.0.0.0", "--port", str(PORT)]
    return ["serve", "--env", plan.env, *address, "--registry-check", "skip"]


def _store_scheme(plan: ServingPlan) -> str | None:
    store = plan.settings.prediction_log.store
    return scheme_of(store) if store and plan.settings.prediction_log.enabled else None


def _store_keys(plan: ServingPlan) -> bool:
    return bool(_KEY_FILES & set(CREDENTIAL_ENV.get(_store_scheme(plan) or "", ())))


def store_env(plan: ServingPlan) -> list[dict[str, Any]]:
    """Return the store's credential env vars, each taken from the store's Secret."""
    env: list[dict[str, Any]] = []
    for name in CREDENTIAL_ENV.get(_store_scheme(plan) or "", ()):
        if name in _KEY_FILES:
            env.append({"name": name, "value": f"{STORE_KEY_DIR}/{name}"})
        else:
            ref = {"name": STORE_SECRET, "key": name, "optional": False}
            env.append({"name": name, "valueFrom": {"secretKeyRef": ref}})
    return env


def serving_volumes(plan: ServingPlan) -> list[dict[str, Any]]:
    """Return the pod's volumes: the tokens, and the store's key file when it needs one."""
    store = {"name": "store", "secret": {"secretName": STORE_SECRET, "optional": False}}
    return [token_volume(), *([store] if _store_keys(plan) else [])]


def token_volume() -> dict[str, Any]:
    """Return the volume holding the bearer tokens (Secret ``mlops-serving-tokens``)."""
    return {"name": "tokens", "secret": {"secretName": TOKEN_SECRET, "optional": False}}


def deployment(
    plan: ServingPlan, *, name: str, image: str, namespace: str | None
) -> dict[str, Any]:
    """Return the Deployment running the serving image."""
    scaling = plan.settings.autoscaling
    replicas = (
        scaling.get("min_replicas", plan.settings.replicas) if scaling else plan.settings.replicas
    )
    annotations = {
        **(
            {"mlops-gitops/prediction-store": plan.settings.prediction_log.store}
            if _store_scheme(plan)
            else {}
        ),
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(PORT),
        "prometheus.io/path": "/metrics",
        "mlops-gitops/plan-digest": _plan_digest(plan),
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, plan, namespace),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": _labels(plan)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": _labels(plan), "annotations": annotations},
                "spec": {
                    "containers": [serve_container(plan, image=image)],
                    "volumes": serving_volumes(plan),
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 65534},
                },
            },
        },
    }


def service(plan: ServingPlan, *, name: str, namespace: str | None) -> dict[str, Any]:
    """Return the ClusterIP Service in front of the Deployment (load-balanced by Kubernetes)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, plan, namespace),
        "spec": {
            "type": "ClusterIP",
            "selector": _labels(plan),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def autoscaler(plan: ServingPlan, *, name: str, namespace: str | None) -> dict[str, Any]:
    """Return the HorizontalPodAutoscaler (autoscaling/v2, CPU utilisation target)."""
    scaling = plan.settings.autoscaling
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(name, plan, namespace),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": max(1, scaling.get("min_replicas", 1)),
            "maxReplicas": scaling.get("max_replicas", 1),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": scaling.get("target_cpu_utilization", 70),
                        },
                    },
                }
            ],
        },
    }


def validate(document: dict[str, Any]) -> str:
    """Validate one resource offline; return ``Kind/name``.

    Raises:
        ServingError: the resource breaks its schema (the message names the field).
    """
    kind = f"{document.get('kind')}/{(document.get('metadata') or {}).get('name', '')}"
    if document.get("kind") == "Kustomization":
        return kind.rstrip("/")
    if document.get("apiVersion") == "serving.kserve.io/v1beta1":
        import jsonschema

        errors = sorted(
            jsonschema.Draft202012Validator(INFERENCE_SERVICE_SCHEMA).iter_errors(document),
            key=lambda e: list(e.path),
        )
        if errors:
            where = ".".join(str(p) for p in errors[0].path) or "(top level)"
            raise ServingError(f"{kind} {where}: {errors[0].message}")
        return kind
    try:
        import kubernetes_validate
    except ImportError as exc:
        raise DependencyMissingError("kubernetes-validate", "serve") from exc
    try:
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path) or "(top level)"
        raise ServingError(f"{kind} {where}: {exc.message.splitlines()[0]}") from exc
    return kind


def _write(
    folder: Path, documents: dict[str, list[dict[str, Any]]], build: dict[str, str]
) -> tuple[Path, ...]:
    from mlops_gitops.roundtrip import dump_roundtrip

    staging = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    header = "# Rendered by 'mlops render k8s' from the environment manifest; do not edit.\n"
    try:
        for name, docs in documents.items():
            body = "---\n".join(dump_roundtrip(doc) for doc in docs)
            (staging / name).write_text(header + body, encoding="utf-8")
        for name, text in build.items():
            (staging / name).write_text(text, encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tuple(sorted(folder.iterdir()))


def _plan_digest(plan: ServingPlan) -> str:
    pins = sorted(
        f"{m.name}={v.version}:{v.md5}:{v.weight}" for m in plan.models for v in m.variants
    )
    return hashlib.sha256("\n".join([plan.env, *pins]).encode()).hexdigest()
