"""A stateful GitHub REST emulator on 127.0.0.1 for the ``github`` forge backend.

It serves the ~25 operations the toolkit uses, with bodies built from real
recorded GitHub responses (``fixtures/``), branches and commits from a real
bare repository, and it checks every response against the trimmed OpenAPI
description (``openapi-subset.json``); violations are collected in
``schema_errors`` and fail the tests that use it. Request bodies of the
operations whose description the subset carries (protection, rulesets,
merge) are checked too, and refused with 422 as GitHub does.

Pushes to the bare repository go through a pre-receive hook the emulator
installs: it asks ``POST /_emulator/receive`` (not a GitHub route) whether
branch protection and the rulesets allow the update. The pusher is the
token in ``GH_EMULATOR_TOKEN`` of the pushing process (none: anonymous).
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema

from . import enforce, issues, routes, rules
from .state import Identity, State

SUBSET = Path(__file__).parent / "openapi-subset.json"
RECEIVE = "/_emulator/receive"
TOKEN_VARIABLE = "GH_EMULATOR_TOKEN"
HOOK = """#!{python}
# Installed by the GitHub emulator: ask it whether protection allows this push.
import json, os, sys, urllib.request

updates = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
request = urllib.request.Request(
    {url!r}, data=json.dumps({{"updates": updates}}).encode(), method="POST",
    headers={{"Content-Type": "application/json"}},
)
if os.environ.get({variable!r}):
    request.add_header("Authorization", "token " + os.environ[{variable!r}])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
refused = json.load(opener.open(request))["refused"]
for line in refused:
    print("error: " + line, file=sys.stderr)
sys.exit(1 if refused else 0)
"""

Handler = Callable[["Request"], tuple[int, Any]]


class ApiError(Exception):
    """An error response: status and message, as GitHub words them."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Request:
    """One parsed request, with the caller's identity and path parameters."""

    def __init__(
        self, emulator: GitHubEmulator, method: str, path: str, query: dict[str, str]
    ) -> None:
        self.emulator = emulator
        self.state = emulator.state
        self.method = method
        self.path = path
        self.query = query
        self.params: dict[str, str] = {}
        self.body: Any = None
        self.identity: Identity | None = None
        self.next_link: tuple[int, int] | None = None  # (page, last page)

    @property
    def who(self) -> Identity:
        assert self.identity is not None
        return self.identity

    def urls(self) -> dict[str, str]:
        return {
            "api": self.emulator.api_url,
            "web": self.emulator.web_url,
            "full_name": self.emulator.full_name,
        }

    def paginate(self, items: list[Any]) -> list[Any]:
        """Return one page of ``items`` and remember the Link header to send."""
        per_page = int(self.query.get("per_page", "30"))
        page = int(self.query.get("page", "1"))
        last = max(1, -(-len(items) // per_page))
        if page < last:
            self.next_link = (page, last)
        return items[(page - 1) * per_page : page * per_page]


class GitHubEmulator:
    """The emulator: ``with GitHubEmulator(bare, tokens=...) as gh: gh.api_url``.

    Args:
        bare: the bare repository that holds the branches.
        tokens: token -> identity; ``ghs_`` tokens are usually installations.
        prefix: an API path prefix, e.g. ``/api/v3`` to look like GitHub Enterprise Server.
    """

    def __init__(
        self,
        bare: Path,
        *,
        tokens: dict[str, Identity],
        owner: str = "acme",
        repo: str = "models",
        prefix: str = "",
    ) -> None:
        self.state = State(owner=owner, repo=repo, bare=Path(bare), tokens=dict(tokens))
        self.prefix = prefix.rstrip("/")
        self.schema_errors: list[str] = []
        self.requests: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._subset = json.loads(SUBSET.read_text())
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}
        self._routes = [
            (m, re.compile(rx), op, fn)
            for m, rx, op, fn in [*routes.ROUTES, *issues.ROUTES, *rules.ROUTES]
        ]

    @property
    def full_name(self) -> str:
        return f"{self.state.owner}/{self.state.repo}"

    @property
    def root_url(self) -> str:
        assert self._server is not None, "start the emulator first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The value for ``GITHUB_API_URL``."""
        return self.root_url + self.prefix

    @property
    def web_url(self) -> str:
        """The value for ``GITHUB_SERVER_URL`` (html links)."""
        return self.root_url + "/web"

    def start(self) -> GitHubEmulator:
        emulator = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                emulator._serve(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._install_hook()
        return self

    def _install_hook(self) -> None:
        hook = self.state.bare / "hooks" / "pre-receive"
        if hook.exists() and "GitHub emulator" not in hook.read_text():
            raise RuntimeError(f"{hook}: the emulator installs its own pre-receive hook")
        hook.parent.mkdir(exist_ok=True)
        url = self.root_url + RECEIVE
        hook.write_text(HOOK.format(python=sys.executable, url=url, variable=TOKEN_VARIABLE))
        hook.chmod(0o755)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GitHubEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- request handling ----------------------------------------------------
    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        request = Request(self, http.command, parts.path, query)
        with self._lock:
            status, payload = self._dispatch(request, http.headers.get("Authorization"), raw)
        self.requests.append((http.command, parts.path, status))
        data = b"" if payload is None or status == 204 else json.dumps(payload).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/json; charset=utf-8")
        http.send_header("Content-Length", str(len(data)))
        if request.next_link is not None:
            page, last = request.next_link
            base = f"{self.root_url}{parts.path}?per_page={query.get('per_page', '30')}"
            http.send_header(
                "Link", f'<{base}&page={page + 1}>; rel="next", <{base}&page={last}>; rel="last"'
            )
        http.end_headers()
        http.wfile.write(data)

    def _dispatch(self, request: Request, auth: str | None, raw: bytes) -> tuple[int, Any]:
        path = request.path
        if self.prefix and not path.startswith(self.prefix + "/"):
            return 404, _error("Not Found")
        path = path[len(self.prefix) :]
        if path == RECEIVE and request.method == "POST":
            return self._receive(auth, raw)
        return self._route(request, path, auth, raw)

    def _route(self, request: Request, path: str, auth: str | None, raw: bytes) -> tuple[int, Any]:
        for method, pattern, operation, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None or method != request.method:
                continue
            if match.groupdict().get("full") not in (None, self.full_name):
                return 404, _error("Not Found")
            request.params = {k: v for k, v in match.groupdict().items() if k != "full"}
            try:
                request.identity = self._authenticate(auth)
                request.body = json.loads(raw) if raw else {}
                self._check_request(operation, request.body)
                status, payload = handler(request)
            except ApiError as exc:
                return exc.status, _error(exc.message)
            except Exception as exc:  # a bug of the emulator: make the test fail loudly
                self.schema_errors.append(f"{operation}: emulator bug: {type(exc).__name__}: {exc}")
                return 500, _error(f"emulator bug: {exc}")
            self._validate(operation, status, payload)
            return status, payload
        return 404, _error("Not Found")

    def _authenticate(self, header: str | None) -> Identity:
        if not header:
            raise ApiError(401, "Requires authentication")
        scheme, _, token = header.partition(" ")
        identity = (
            self.state.tokens.get(token.strip()) if scheme.lower() in ("token", "bearer") else None
        )
        if identity is None:
            raise ApiError(401, "Bad credentials")
        return identity

    def _receive(self, auth: str | None, raw: bytes) -> tuple[int, Any]:
        """Judge a push for the pre-receive hook; remember who pushed what was accepted."""
        try:
            who = self._authenticate(auth) if auth else None
        except ApiError as exc:
            return exc.status, _error(exc.message)
        updates = [(str(o), str(n), str(r)) for o, n, r in json.loads(raw)["updates"]]
        refused = enforce.ref_refusals(self.state, updates, who)
        if not refused:
            for old, new, ref in updates:
                self.state.record_push(old, new, ref, who)
        return 200, {"refused": [line for r in refused for line in r.lines()]}

    def _validator(self, key: str, schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
        validator = self._validators.get(key)
        if validator is None:
            full = {**schema, "$defs": self._subset["$defs"]}
            validator = self._validators[key] = jsonschema.Draft202012Validator(full)
        return validator

    def _check_request(self, operation: str, body: Any) -> None:
        """Refuse (422) a body that the description of ``operation`` does not allow."""
        schema = self._subset["operations"][operation].get("request")
        if schema is None:
            return
        error = next(iter(self._validator(f"request {operation}", schema).iter_errors(body)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "body"
            raise ApiError(422, f"Invalid request. {where}: {error.message[:200]}")

    def _validate(self, operation: str, status: int, payload: Any) -> None:
        spec = self._subset["operations"][operation]
        if status != spec["status"]:
            self.schema_errors.append(
                f"{operation}: status {status}, the description says {spec['status']}"
            )
            return
        if spec["schema"] is None:
            return
        validator = self._validator(operation, spec["schema"])
        for error in validator.iter_errors(payload):
            where = "/".join(str(p) for p in error.absolute_path)
            self.schema_errors.append(f"{operation}: {where}: {error.message[:200]}")


def _error(message: str) -> dict[str, str]:
    return {"message": message, "documentation_url": "https://docs.github.com/rest"}
