"""Extract the emulator's response templates from github3.py's recorded cassettes.

Run once (the output is committed under ``fixtures/``)::

    pip download --no-deps --no-binary :all: github3.py==4.0.1 -d /tmp/gh3
    tar xzf /tmp/gh3/github3.py-4.0.1.tar.gz -C /tmp/gh3
    python tests/forge/emulator/extract_fixtures.py /tmp/gh3/github3.py-4.0.1/tests/cassettes

Branch protection and rulesets are in no cassette.  Branch protection comes
from the recording in ``@octokit/fixtures`` (MIT), rulesets from the example
of the OpenAPI description (``@octokit/openapi``, MIT); pass both to add them::

    cd /tmp && npm pack @octokit/fixtures@23.1.2 @octokit/openapi@23.0.2
    tar xzf octokit-fixtures-23.1.2.tgz && tar xzf octokit-openapi-23.0.2.tgz
    python tests/forge/emulator/extract_fixtures.py CASSETTES \
        /tmp/package/scenarios/api.github.com/branch-protection/normalized-fixture.json \
        /tmp/package/generated/api.github.com.json

Each template is one recorded response body of real GitHub traffic with the
recorded values that the emulator replaces turned into ``<<placeholders>>``
and nested users and repositories cut out (``"<<user>>"``, ``"<<repository>>"``);
the emulator fills them from its state.  The cassettes are BSD-3-Clause
(github3.py, see ``fixtures/NOTICE``).
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "fixtures"
API, WEB = "https://api.github.com", "https://github.com"
USER_KEYS = {"user", "owner", "creator", "merged_by", "assignee", "sender"}
REPO_KEYS = {"repo", "repository"}

# template name -> (cassette, method, uri fragment, index into a list body)
SOURCES: dict[str, tuple[str, str, str, int | None]] = {
    "authenticated_user": ("GitHub_me.json", "GET", "/user", None),
    "simple_user": ("PullRequest_create_comment.json", "POST", "/comments", None),
    "repository": ("GitHub_repository.json", "GET", "/repos/sigmavirus24/github3.py", None),
    "pull_request": ("PullRequest_single.json", "GET", "/pulls/235", None),
    "pull_request_simple": ("Repository_pull_requests.json", "GET", "/pulls?", 0),
    "issue_comment": ("PullRequest_create_comment.json", "POST", "/comments", None),
    "review": ("PullRequest_pull_reviews.json", "GET", "/reviews", 0),
    "status": ("Repository_create_status.json", "POST", "/statuses/", None),
    "combined_status": ("RepoCommit_status.json", "GET", "/status", None),
    "check_run": ("CheckRun_create_check_run.json", "POST", "/check-runs", None),
    "git_ref": ("Repository_create_ref.json", "POST", "/git/refs", None),
    "git_blob": ("Repository_create_blob.json", "POST", "/git/blobs", None),
    "git_tree": ("Repository_tree.json", "GET", "/git/trees/", None),
    "git_commit": ("Repository_create_commit.json", "POST", "/git/commits", None),
    "issue": ("Repository_create_issue.json", "POST", "/issues", None),
    "label": ("Issue_add_labels.json", "POST", "/labels", 0),
    "pull_commit": ("PullRequest_commits.json", "GET", "/pulls/235/commits", 0),
}
OCTOKIT_FIXTURE = "octokit/fixtures api.github.com/branch-protection/normalized-fixture.json"
RULESET_EXAMPLE = "components/examples/repository-ruleset"


def read_body(cassette: Path, method: str, fragment: str) -> Any:
    """Return the decoded JSON body of the first matching interaction."""
    data = json.loads(cassette.read_text())
    for item in data["http_interactions"]:
        request, body = item["request"], item["response"]["body"]
        if request["method"] == method and fragment in request["uri"]:
            raw = (
                base64.b64decode(body["base64_string"])
                if body.get("base64_string")
                else body["string"].encode()
            )
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            return json.loads(raw)
    raise SystemExit(f"{cassette.name}: no {method} *{fragment}* interaction")


def generalise(value: Any, literals: list[tuple[str, str]], *, top: bool = True) -> Any:
    """Cut nested users/repositories out and turn recorded literals into placeholders."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in USER_KEYS and isinstance(item, dict):
                out[key] = "<<user>>"
            elif key in REPO_KEYS and isinstance(item, dict):
                out[key] = "<<repository>>"
            else:
                out[key] = generalise(item, literals, top=False)
        return out
    if isinstance(value, list):
        return [generalise(v, literals, top=False) for v in value]
    if isinstance(value, str):
        for literal, placeholder in literals:
            value = value.replace(literal, placeholder)
    return value


def literals_for(name: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """Return the recorded values of ``body`` to replace, longest first."""
    pairs = [(API, "<<api>>"), (WEB, "<<web>>")]
    for key in ("sha", "head_sha", "commit_id"):
        if isinstance(body.get(key), str):
            pairs.append((body[key], f"<<{key}>>"))
    if isinstance(body.get("head"), dict):
        pairs.append((body["head"]["sha"], "<<head_sha>>"))
    if "number" in body:
        pairs.append((f"/{body['number']}", "/<<number>>"))
    if "pull_request_url" in body:
        pairs.append((f"/{body['pull_request_url'].rsplit('/', 1)[1]}", "/<<number>>"))
    if name == "status":
        pairs.append((body["url"].rsplit("/", 1)[1], "<<sha>>"))
    if "id" in body and name not in ("repository", "authenticated_user", "simple_user"):
        pairs.append((str(body["id"]), "<<id>>"))
    if name in ("authenticated_user", "simple_user"):
        pairs.append((f"/{body['login']}", "/<<login>>"))
        pairs.append((f"/u/{body['id']}", "/u/<<id>>"))
    for repo in (
        "sigmavirus24/github3.py",
        "github3py/github3.py",
        "westphahl/github3.py",
        "github3py/fork_this",
    ):
        pairs.append((repo, "<<full_name>>"))
    return sorted(pairs, key=lambda p: -len(p[0]))


def _fixture_repositories(body: Any) -> list[str]:
    """Return the ``owner/repo`` names the recording's URLs use (a scenario repository)."""
    text = json.dumps(body)
    marker = f"{API}/repos/"
    names = {part.split("/branches", 1)[0] for part in text.split(marker)[1:]}
    return sorted(names, key=len, reverse=True)


def extra_templates(protection: Path, spec: Path) -> dict[str, tuple[str, Any]]:
    """Return the branch protection (recorded) and ruleset (documented) templates."""
    recorded = json.loads(protection.read_text())
    # the second PUT sets status checks, reviews and restrictions: the fullest body
    body = [i for i in recorded if i["method"] == "put"][1]["response"]
    body.pop("restrictions", None)
    body["required_pull_request_reviews"].pop("dismissal_restrictions", None)
    literals = [(API, "<<api>>"), (WEB, "<<web>>")]
    literals += [(repo, "<<full_name>>") for repo in _fixture_repositories(body)]
    example = json.loads(spec.read_text())["components"]["examples"]["repository-ruleset"]
    ruleset = example["value"]
    ruleset_literals = [(API, "<<api>>"), (WEB, "<<web>>"), ("monalisa/my-repo", "<<full_name>>")]
    ruleset_literals.append(("/42", "/<<id>>"))
    return {
        "branch_protection": (OCTOKIT_FIXTURE, generalise(body, literals)),
        "ruleset": (f"@octokit/openapi {RULESET_EXAMPLE}", generalise(ruleset, ruleset_literals)),
    }


def main(cassettes: Path, protection: Path | None = None, spec: Path | None = None) -> None:
    """Write one template per entry of :data:`SOURCES` (and the two extra ones, when given)."""
    for name, (cassette, method, fragment, index) in SOURCES.items():
        body = read_body(cassettes / cassette, method, fragment)
        if index is not None:
            body = body[index]
        if name == "simple_user":
            body = body["user"]
        template = generalise(body, literals_for(name, body))
        if name == "git_tree":
            template["tree"] = template["tree"][:1]
        if name == "combined_status":
            template["statuses"] = template["statuses"][:1]
        record = {"source": f"github3.py-4.0.1/tests/cassettes/{cassette}", "template": template}
        (HERE / f"{name}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"{name}: {cassette}")
    if protection is not None and spec is not None:
        for name, (source, template) in extra_templates(protection, spec).items():
            record = {"source": source, "template": template}
            (HERE / f"{name}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
            print(f"{name}: {source}")


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:4]))
