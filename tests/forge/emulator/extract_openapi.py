"""Cut the response schemas of the emulated operations out of GitHub's OpenAPI description.

Run once (the output ``openapi-subset.json`` is committed)::

    cd /tmp && npm pack @octokit/openapi@23.0.2 && tar xzf octokit-openapi-23.0.2.tgz
    python tests/forge/emulator/extract_openapi.py /tmp/package/generated/api.github.com.json

The subset keeps, for each operation the emulator serves, the JSON schema of
its success response (none for 204), for the operations in ``REQUESTS`` the
schema of the request body, plus every component schema those reference.  OpenAPI
3.0's ``nullable`` becomes a JSON-Schema ``null`` type so that the standard
``jsonschema`` validator (draft 2020-12) checks the emulator's responses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "openapi-subset.json"
REF_PREFIX = "#/components/schemas/"

OPERATIONS: list[tuple[str, str, str]] = [
    ("GET", "/user", "200"),
    ("GET", "/repos/{owner}/{repo}", "200"),
    ("GET", "/repos/{owner}/{repo}/pulls", "200"),
    ("POST", "/repos/{owner}/{repo}/pulls", "201"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "200"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "200"),
    ("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "200"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "200"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "201"),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "200"),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "200"),
    ("POST", "/repos/{owner}/{repo}/statuses/{sha}", "201"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/status", "200"),
    ("POST", "/repos/{owner}/{repo}/check-runs", "201"),
    ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", "200"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", "200"),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref}", "200"),
    ("POST", "/repos/{owner}/{repo}/git/refs", "201"),
    ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", "200"),
    ("POST", "/repos/{owner}/{repo}/git/blobs", "201"),
    ("POST", "/repos/{owner}/{repo}/git/trees", "201"),
    ("POST", "/repos/{owner}/{repo}/git/commits", "201"),
    ("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", "200"),
    ("POST", "/repos/{owner}/{repo}/issues", "201"),
    ("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}", "204"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", "200"),
    ("GET", "/repos/{owner}/{repo}/activity", "200"),
    ("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", "200"),
    ("PUT", "/repos/{owner}/{repo}/branches/{branch}/protection", "200"),
    ("GET", "/repos/{owner}/{repo}/branches/{branch}/protection", "200"),
    ("GET", "/repos/{owner}/{repo}/rulesets", "200"),
    ("POST", "/repos/{owner}/{repo}/rulesets", "201"),
    ("GET", "/repos/{owner}/{repo}/rulesets/{ruleset_id}", "200"),
    ("PUT", "/repos/{owner}/{repo}/rulesets/{ruleset_id}", "200"),
]
# Operations whose request body the emulator checks too (422 when it does not validate).
REQUESTS = {
    "PUT /repos/{owner}/{repo}/branches/{branch}/protection",
    "POST /repos/{owner}/{repo}/rulesets",
    "PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}",
    "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
}
DROP = {"example", "examples", "description", "summary", "externalDocs", "x-github", "deprecated"}


def convert(node: Any) -> Any:
    """Turn an OpenAPI 3.0 schema node into JSON Schema 2020-12."""
    if isinstance(node, list):
        return [convert(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: convert(v) for k, v in node.items() if k not in DROP and k != "nullable"}
    if "$ref" in out:
        out["$ref"] = "#/$defs/" + out["$ref"].removeprefix(REF_PREFIX)
    if node.get("nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def referenced(node: Any, found: set[str]) -> None:
    """Collect the component names that ``node`` references."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            found.add(ref.removeprefix(REF_PREFIX))
        for value in node.values():
            referenced(value, found)
    elif isinstance(node, list):
        for value in node:
            referenced(value, found)


def main(spec_path: Path) -> None:
    """Write the subset for :data:`OPERATIONS`."""
    spec = json.loads(spec_path.read_text())
    components = spec["components"]["schemas"]
    operations: dict[str, Any] = {}
    for method, path, status in OPERATIONS:
        operation = spec["paths"][path][method.lower()]
        response = operation["responses"][status]
        if "$ref" in response:
            response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        content = response.get("content", {}).get("application/json", {})
        key = f"{method} {path}"
        operations[key] = {"status": int(status), "schema": content.get("schema")}
        if key in REQUESTS:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            operations[key]["request"] = body
    needed: set[str] = set()
    referenced(operations, needed)
    pending = list(needed)
    while pending:
        found: set[str] = set()
        referenced(components[pending.pop()], found)
        pending += sorted(found - needed)
        needed |= found
    subset = {
        "source": f"@octokit/openapi 23.0.2 {spec_path.name} (openapi {spec['openapi']})",
        "operations": {k: {n: convert(v) for n, v in op.items()} for k, op in operations.items()},
        "$defs": {name: convert(components[name]) for name in sorted(needed)},
    }
    OUT.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n")
    print(f"{len(operations)} operations, {len(needed)} component schemas -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
