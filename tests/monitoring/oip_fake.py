"""A minimal stand-in for an Open Inference Protocol server, the replayer's external service."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

INPUTS = ("income", "loan_amount", "region", "housing", "has_guarantor")
CATEGORICAL = ("region", "housing", "has_guarantor")


@dataclass
class FakeServer:
    """Records what the replayer sent: predict bodies and feedback items."""

    url: str = ""
    predicts: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False


@contextmanager
def fake_oip_server(model: str = "credit-default", *, refuse: bool = False) -> Iterator[FakeServer]:
    """Serve v2 metadata, v1 predict and v2 feedback for ``model`` on 127.0.0.1."""
    state = FakeServer(refuse=refuse)

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: object) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def do_GET(self) -> None:
            if self.path != f"/v2/models/{model}":
                self._reply(404, {"error": "unknown model"})
                return
            inputs = [
                {"name": n, "datatype": "BYTES" if n in CATEGORICAL else "FP64"} for n in INPUTS
            ]
            self._reply(200, {"name": model, "inputs": inputs})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path == f"/v1/models/{model}:predict" and not state.refuse:
                state.predicts.append(body)
                self._reply(200, {"predictions": [0] * len(body["instances"])})
            elif self.path == f"/v2/models/{model}/feedback":
                state.feedback.extend(body)
                self._reply(200, {"recorded": len(body)})
            else:
                self._reply(422, {"error": "refused"})

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
