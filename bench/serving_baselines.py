"""The baseline servers of the serving benchmark (run by ``serving_bench.py --run``).

``floor``: a bare ASGI callable + orjson + ONNX Runtime (no framework), answering
every output of the graph (any task);
``fastapi``: FastAPI with a pydantic v2 request model + ONNX Runtime.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel


def _session(path: str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def floor_app(path: str):
    """A bare ASGI app: read body, orjson, ORT, orjson."""
    import orjson

    session = _session(path)
    names = session.get_outputs()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        payload = orjson.loads(body)
        feeds = {
            t["name"]: np.asarray(t["data"], np.float32).reshape(-1, 1) for t in payload["inputs"]
        }
        outputs = session.run(None, feeds)
        out = orjson.dumps(
            {
                "model_name": "bench",
                "outputs": [
                    {
                        "name": node.name,
                        "datatype": "INT64" if value.dtype == np.int64 else "FP32",
                        "shape": list(value.shape),
                        "data": value.reshape(-1),
                    }
                    for node, value in zip(names, outputs, strict=True)
                ],
            },
            option=orjson.OPT_SERIALIZE_NUMPY,
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": out})

    return app


class Tensor(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    data: list[float]


class InferRequest(BaseModel):
    inputs: list[Tensor]


def fastapi_app(path: str):
    """FastAPI with a pydantic request model: the framework's validation on the hot path."""
    from fastapi import FastAPI

    session = _session(path)
    app = FastAPI()

    @app.post("/v2/models/bench/infer")
    def infer(request: InferRequest) -> dict:  # type: ignore[type-arg]
        feeds = {t.name: np.asarray(t.data, np.float32).reshape(-1, 1) for t in request.inputs}
        label, proba = session.run(None, feeds)
        return {
            "model_name": "bench",
            "outputs": [
                {
                    "name": "label",
                    "datatype": "INT64",
                    "shape": list(label.shape),
                    "data": label.tolist(),
                },
                {
                    "name": "probabilities",
                    "datatype": "FP32",
                    "shape": list(proba.shape),
                    "data": proba.reshape(-1).tolist(),
                },
            ],
        }

    return app
