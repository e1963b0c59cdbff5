"""A stub OSV service on 127.0.0.1: the ``/v1/query`` endpoint pip-audit calls.

It answers each query with the vulnerabilities declared for the package (in
the OSV schema's shape) and records the queries, so a test can check which
packages were audited.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StubOsv:
    """The declared vulnerabilities (package -> OSV ids) and the queries received."""

    vulns: dict[str, list[str]] = field(default_factory=dict)
    queries: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def answer(self, query: dict[str, Any]) -> dict[str, Any]:
        """Return the OSV response to one query."""
        self.queries.append(query)
        name = query["package"]["name"]
        entries = [
            {
                "id": vuln,
                "schema_version": "1.6.0",
                "summary": f"{vuln}: remote code execution in {name}",
                "affected": [
                    {
                        "package": {"name": name, "ecosystem": "PyPI"},
                        "ranges": [
                            {
                                "type": "ECOSYSTEM",
                                "events": [{"introduced": "0"}, {"fixed": "99.0"}],
                            }
                        ],
                    }
                ],
            }
            for vuln in self.vulns.get(name, [])
        ]
        return {"vulns": entries} if entries else {}


@contextmanager
def stub_osv(vulns: dict[str, list[str]]) -> Iterator[StubOsv]:
    """Serve a :class:`StubOsv` on a free port of 127.0.0.1 while the block runs."""
    stub = StubOsv(vulns=vulns)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.dumps(stub.answer(json.loads(self.rfile.read(length)))).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
