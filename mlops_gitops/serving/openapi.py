"""The OpenAPI 3.1 description of the server, written by hand.

It documents the Open Inference Protocol v2 routes, the v1 records route,
feedback, admin and health routes. Model names, versions and the feature
columns of the records route come from the loaded model set, so a client
generator or a fuzzer (schemathesis) sees the real input schema; the records
route's response lists the fields each model's task answers with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_gitops.serving.server_state import ServerState

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
    "required": ["error"],
}
_TENSOR = {
    "type": "object",
    "required": ["name", "shape", "datatype", "data"],
    "properties": {
        "name": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "datatype": {
            "type": "string",
            "enum": [
                "BOOL",
                "UINT8",
                "UINT16",
                "UINT32",
                "UINT64",
                "INT8",
                "INT16",
                "INT32",
                "INT64",
                "FP16",
                "FP32",
                "FP64",
                "BYTES",
            ],
        },
        "parameters": {"type": "object"},
        "data": {"type": "array"},
    },
}
_INFER_REQUEST = {
    "type": "object",
    "required": ["inputs"],
    "properties": {
        "id": {"type": "string"},
        "parameters": {"type": "object"},
        "inputs": {"type": "array", "items": _TENSOR, "minItems": 1},
        "outputs": {"type": "array", "items": {"type": "object"}},
    },
}
_INFER_RESPONSE = {
    "type": "object",
    "required": ["model_name", "outputs"],
    "properties": {
        "model_name": {"type": "string"},
        "model_version": {"type": "string"},
        "id": {"type": "string"},
        "outputs": {"type": "array", "items": _TENSOR},
    },
}
_ERRORS = {
    str(code): {"description": text, "content": {"application/json": {"schema": _ERROR}}}
    for code, text in [
        (400, "malformed JSON"),
        (401, "missing or unknown token"),
        (403, "the token lacks the role"),
        (404, "unknown model or version"),
        (413, "the body is too large"),
        (422, "the input does not fit the model"),
        (503, "models are still loading"),
    ]
}
_VERSION_HEADER = {
    "x-model-version": {
        "schema": {"type": "string"},
        "description": "The model version that answered.",
    }
}


def openapi_document(state: ServerState) -> dict[str, Any]:
    """Return the OpenAPI document for the models ``state`` serves now."""
    from mlops_gitops import __version__

    return {
        "openapi": "3.1.0",
        "info": {"title": f"mlops-gitops serving ({state.plan.env})", "version": __version__},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": _paths(state),
    }


def _paths(state: ServerState) -> dict[str, Any]:
    names, versions, records = _model_parameters(state)
    answers = _records_response(state)
    name = {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": names},
    }
    version = {
        "name": "version",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": versions},
    }
    key = {
        "name": "x-routing-key",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "Sticky routing: one key always reaches the same version.",
    }
    paths: dict[str, Any] = {
        "/v2/health/live": {"get": _get("Liveness", {"live": {"type": "boolean"}}, secure=False)},
        "/v2/health/ready": {
            "get": _get(
                "Readiness with reload details", {"ready": {"type": "boolean"}}, secure=False
            )
        },
        "/v2": {"get": _get("Server metadata", {"name": {"type": "string"}}, secure=False)},
        "/v2/models/{name}": {"get": _get("Model metadata", {"inputs": {"type": "array"}}, [name])},
        "/v2/models/{name}/versions/{version}": {
            "get": _get("Version metadata", {"inputs": {"type": "array"}}, [name, version])
        },
        "/v2/models/{name}/ready": {
            "get": _get("Model readiness", {"ready": {"type": "boolean"}}, [name], secure=False)
        },
        "/v2/models/{name}/infer": {"post": _post("Infer (routed)", _INFER_REQUEST, [name, key])},
        "/v2/models/{name}/versions/{version}/infer": {
            "post": _post("Infer with one version", _INFER_REQUEST, [name, version])
        },
        "/v1/models/{name}:predict": {
            "post": _post("Predict records (KServe v1)", records, [name, key], answers)
        },
        "/v2/models/{name}/feedback": {
            "post": _post("Record ground-truth labels", _FEEDBACK, [name])
        },
        "/admin/reload": {"post": _post("Reload the manifest's models (admin)", None, [])},
        "/admin/status": {
            "get": _get("Reload and log status (admin)", {"ready": {"type": "boolean"}})
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "security": [],
                "responses": {
                    "200": {
                        "description": "exposition text",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
    }
    return paths


_FEEDBACK = {
    "type": "object",
    "required": ["request_id", "label"],
    "properties": {
        "request_id": {"type": "string", "minLength": 1},
        "label": {"type": ["integer", "number", "string"]},
    },
}


def _model_parameters(state: ServerState) -> tuple[list[str], list[str], dict[str, Any]]:
    models = state.models
    if models is None:
        return ["none-loaded"], ["none-loaded"], {"type": "object"}
    names = sorted(models.models) or ["none-loaded"]
    versions = sorted({v.version for v in models.all_versions()}) or ["none-loaded"]
    properties: dict[str, Any] = {}
    for served in models.models.values():
        for feature in served.primary.schema.features:
            kind = (
                {"type": "string"}
                if feature.kind == "categorical"
                else {"type": ["number", "null"]}
            )
            properties[feature.name] = kind
    record = {"type": "object", "properties": properties}
    schema = {
        "type": "object",
        "required": ["instances"],
        "properties": {"instances": {"type": "array", "minItems": 1, "items": record}},
    }
    return names, versions, schema


def _get(
    summary: str,
    properties: dict[str, Any],
    params: list[Any] | None = None,
    *,
    secure: bool = True,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": params or [],
        "responses": {
            "200": {
                "description": "ok",
                "headers": _VERSION_HEADER,
                "content": {
                    "application/json": {"schema": {"type": "object", "properties": properties}}
                },
            },
            **_ERRORS,
        },
    }
    if not secure:
        op["security"] = []
    return op


def _records_response(state: ServerState) -> dict[str, Any]:
    """Return the records response schema: the prediction fields of every served model's task."""
    fields: dict[str, Any] = {}
    models = state.models
    for served in models.models.values() if models is not None else ():
        for name, value in served.primary.schema.served_layout.fields.items():
            fields[name] = _field_schema(value)
    item = {"type": "object", "properties": fields}
    return {
        "type": "object",
        "required": ["model_name", "predictions"],
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "predictions": {"type": "array", "items": item},
        },
    }


def _field_schema(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {
            "type": "object",
            "properties": {key: _field_schema(column) for key, column in value.items()},
        }
    kind = value.dtype.kind
    if kind == "f":
        return {"type": ["number", "null"]}
    return {"type": "string"} if kind in "OUS" else {"type": "integer"}


def _post(
    summary: str,
    body: dict[str, Any] | None,
    params: list[Any],
    answer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = answer or (_INFER_RESPONSE if body is _INFER_REQUEST else {"type": "object"})
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": params,
        "responses": {
            "200": {
                "description": "ok",
                "headers": _VERSION_HEADER,
                "content": {"application/json": {"schema": response}},
            },
            "409": {
                "description": "conflict (failed reload, logging off)",
                "content": {"application/json": {"schema": _ERROR}},
            },
            **_ERRORS,
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op
