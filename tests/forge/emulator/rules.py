"""The protection operations of the emulator: branch protection, rulesets, PR commits, merge.

Request bodies of the protection, ruleset and merge operations are checked
against the OpenAPI subset by the server before a handler runs; what they
set is enforced by :mod:`.enforce` on pushes, ``git/refs`` calls and merges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_gitops import scm

from . import enforce, objects, render
from .state import NOW, Pull, State

if TYPE_CHECKING:
    from .server import Request


def _fail(status: int, message: str) -> Any:
    from .server import ApiError

    raise ApiError(status, message)


def _pull(request: Request) -> Pull:
    pr = request.state.pulls.get(int(request.params["number"]))
    return pr if pr is not None else _fail(404, "Not Found")


# --- branch protection ---------------------------------------------------------
def _enabled(value: object, url: str | None = None) -> dict[str, Any]:
    return {"enabled": bool(value), **({"url": url} if url else {})}


def protection_body(urls: dict[str, str], branch: str, stored: dict[str, Any]) -> dict[str, Any]:
    base = f"{urls['api']}/repos/{urls['full_name']}/branches/{branch}/protection"
    body: dict[str, Any] = render.fill("branch_protection", urls, {}, url=base)
    body.pop("required_status_checks")
    body.pop("required_pull_request_reviews")
    checks, reviews = (
        stored.get("required_status_checks"),
        stored.get("required_pull_request_reviews"),
    )
    if checks:
        contexts = enforce.required_contexts(stored)
        body["required_status_checks"] = {
            "url": f"{base}/required_status_checks",
            "strict": bool(checks.get("strict")),
            "contexts": contexts,
            "contexts_url": f"{base}/required_status_checks/contexts",
            "checks": [{"context": c, "app_id": None} for c in contexts],
        }
    if reviews:
        body["required_pull_request_reviews"] = {
            "url": f"{base}/required_pull_request_reviews",
            "dismiss_stale_reviews": bool(reviews.get("dismiss_stale_reviews")),
            "require_code_owner_reviews": bool(reviews.get("require_code_owner_reviews")),
            "required_approving_review_count": int(
                reviews.get("required_approving_review_count") or 0
            ),
            "require_last_push_approval": bool(reviews.get("require_last_push_approval")),
        }
    body["enforce_admins"] = _enabled(stored.get("enforce_admins"), f"{base}/enforce_admins")
    for key in (
        "required_linear_history",
        "allow_force_pushes",
        "allow_deletions",
        "block_creations",
        "required_conversation_resolution",
    ):
        body[key] = _enabled(stored.get(key))
    return body


def put_protection(request: Request) -> tuple[int, Any]:
    branch = request.params["branch"]
    if request.state.resolve(branch) is None:
        _fail(404, "Branch not found")
    request.state.protections[branch] = dict(request.body)
    return 200, protection_body(request.urls(), branch, request.body)


def get_protection(request: Request) -> tuple[int, Any]:
    branch = request.params["branch"]
    stored = request.state.protections.get(branch)
    if stored is None:
        _fail(404, "Branch not protected")
    return 200, protection_body(request.urls(), branch, dict(stored or {}))


# --- rulesets --------------------------------------------------------------------
def ruleset_body(urls: dict[str, str], ruleset_id: int, stored: dict[str, Any]) -> dict[str, Any]:
    values = {**urls, "id": ruleset_id}
    return render.fill(  # type: ignore[no-any-return]
        "ruleset",
        values,
        {},
        id=ruleset_id,
        node_id=f"RRS_{ruleset_id}",
        name=stored["name"],
        target=stored.get("target", "branch"),
        source_type="Repository",
        source=urls["full_name"],
        enforcement=stored["enforcement"],
        bypass_actors=list(stored.get("bypass_actors") or []),
        conditions=stored.get("conditions") or {"ref_name": {"include": [], "exclude": []}},
        rules=list(stored.get("rules") or []),
        created_at=NOW,
        updated_at=NOW,
    )


def list_rulesets(request: Request) -> tuple[int, Any]:
    items = sorted(request.state.rulesets.items())
    return 200, [ruleset_body(request.urls(), i, r) for i, r in request.paginate(items)]


def create_ruleset(request: Request) -> tuple[int, Any]:
    if any(r["name"] == request.body["name"] for r in request.state.rulesets.values()):
        _fail(422, "Validation Failed: Name must be unique")
    ruleset_id = request.state.next_id()
    request.state.rulesets[ruleset_id] = dict(request.body)
    return 201, ruleset_body(request.urls(), ruleset_id, request.body)


def _ruleset_id(request: Request) -> int:
    ruleset_id = int(request.params["id"])
    return ruleset_id if ruleset_id in request.state.rulesets else _fail(404, "Not Found")


def get_ruleset(request: Request) -> tuple[int, Any]:
    ruleset_id = _ruleset_id(request)
    return 200, ruleset_body(request.urls(), ruleset_id, request.state.rulesets[ruleset_id])


def update_ruleset(request: Request) -> tuple[int, Any]:
    ruleset_id = _ruleset_id(request)
    request.state.rulesets[ruleset_id] = {**request.state.rulesets[ruleset_id], **request.body}
    return 200, ruleset_body(request.urls(), ruleset_id, request.state.rulesets[ruleset_id])


# --- pull request commits and merge ------------------------------------------
def _person(state: State, urls: dict[str, str], email: str) -> dict[str, Any] | None:
    """Return the account GitHub attaches to a commit e-mail (a verified e-mail), or None."""
    login = state.emails.get(email.lower())
    identity = next((i for i in state.tokens.values() if i.login == login), None)
    return None if identity is None else objects.user(identity, urls)


def pull_commit(state: State, urls: dict[str, str], sha: str) -> dict[str, Any]:
    (an, ae, ad), (cn, ce, cd) = state.commit_people(sha)
    tree, _, message, parents = state.commit_meta(sha)
    repo_api = f"{urls['api']}/repos/{urls['full_name']}"
    return render.fill(  # type: ignore[no-any-return]
        "pull_commit",
        {**urls, "sha": sha},
        {},
        sha=sha,
        node_id=f"C_{sha}",
        commit__author={"name": an, "email": ae, "date": ad},
        commit__committer={"name": cn, "email": ce, "date": cd},
        commit__message=message,
        commit__tree={"sha": tree, "url": f"{repo_api}/git/trees/{tree}"},
        commit__url=f"{repo_api}/git/commits/{sha}",
        commit__verification={
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
        author=_person(state, urls, ae),
        committer=_person(state, urls, ce),
        parents=[
            {
                "sha": p,
                "url": f"{repo_api}/commits/{p}",
                "html_url": f"{urls['web']}/{urls['full_name']}/commit/{p}",
            }
            for p in parents
        ],
    )


def list_pull_commits(request: Request) -> tuple[int, Any]:
    pr = _pull(request)
    shas = request.state.commits_between(pr.base, pr.head)
    page = request.paginate(shas)
    return 200, [pull_commit(request.state, request.urls(), sha) for sha in page]


def list_activity(request: Request) -> tuple[int, Any]:
    """List the repository's ref updates, newest first (``ref`` and ``activity_type`` filter)."""
    ref, kind = request.query.get("ref"), request.query.get("activity_type")
    if ref and not ref.startswith("refs/"):
        ref = f"refs/heads/{ref}"
    found = [
        a
        for a in reversed(request.state.activity)
        if (ref is None or a.ref == ref) and (kind is None or a.activity_type == kind)
    ]
    return 200, [
        {
            "id": a.id,
            "node_id": f"A_{a.id}",
            "before": a.before,
            "after": a.after,
            "ref": a.ref,
            "timestamp": a.timestamp,
            "activity_type": a.activity_type,
            "actor": None if a.actor is None else objects.user(a.actor, request.urls()),
        }
        for a in request.paginate(found)
    ]


def merge_pull(request: Request) -> tuple[int, Any]:
    pr, state = _pull(request), request.state
    head, base = state.resolve(pr.head), state.resolve(pr.base)
    if pr.state != "open" or head is None or base is None:
        _fail(405, "Pull Request is not mergeable")
    wanted = (request.body or {}).get("sha")
    if wanted and wanted != head:
        _fail(409, "Head branch was modified. Review and try the merge again.")
    refused = enforce.merge_refusals(state, pr)
    if refused:
        _fail(405, " ".join(refused))
    code, out, _ = scm.git_status(
        "merge-tree", "--write-tree", str(base), str(head), cwd=state.bare
    )
    if code != 0:
        _fail(405, "Merge conflict")
    title = f"Merge pull request #{pr.number} from {state.owner}/{pr.head}"
    merge = state.make_commit(out.split()[0], [str(base), str(head)], title)
    scm.git("update-ref", f"refs/heads/{pr.base}", merge, str(base), cwd=state.bare)
    pr.state, pr.merge_commit_sha = "closed", merge
    return 200, {"sha": merge, "merged": True, "message": "Pull Request successfully merged"}


def delete_ref(request: Request) -> tuple[int, Any]:
    ref = "refs/" + request.params["ref"]
    old = request.state.ref_sha(ref)
    if old is None:
        _fail(422, "Reference does not exist")
    refuse_ref_update(request, ref, str(old), enforce.ZERO)
    scm.git("update-ref", "-d", ref, str(old), cwd=request.state.bare)
    return 204, None


def refuse_ref_update(request: Request, ref: str, old: str, new: str) -> None:
    """Fail the API call (422) when protection or a ruleset refuses ``old`` -> ``new``."""
    refused = enforce.ref_refusals(request.state, [(old, new, ref)], request.who)
    if refused:
        reasons = " ".join(r for refusal in refused for r in refusal.reasons)
        _fail(422, f"{refused[0].heading.split(': ', 1)[1]} {reasons}")


R = r"/repos/(?P<full>[^/]+/[^/]+)"
PROTECTION = "/repos/{owner}/{repo}/branches/{branch}/protection"
ROUTES: list[tuple[str, str, str, Any]] = [
    ("PUT", R + r"/branches/(?P<branch>.+)/protection", f"PUT {PROTECTION}", put_protection),
    ("GET", R + r"/branches/(?P<branch>.+)/protection", f"GET {PROTECTION}", get_protection),
    ("GET", R + r"/rulesets", "GET /repos/{owner}/{repo}/rulesets", list_rulesets),
    ("POST", R + r"/rulesets", "POST /repos/{owner}/{repo}/rulesets", create_ruleset),
    (
        "GET",
        R + r"/rulesets/(?P<id>\d+)",
        "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}",
        get_ruleset,
    ),
    (
        "PUT",
        R + r"/rulesets/(?P<id>\d+)",
        "PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}",
        update_ruleset,
    ),
    (
        "GET",
        R + r"/pulls/(?P<number>\d+)/commits",
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits",
        list_pull_commits,
    ),
    ("GET", R + r"/activity", "GET /repos/{owner}/{repo}/activity", list_activity),
    (
        "PUT",
        R + r"/pulls/(?P<number>\d+)/merge",
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
        merge_pull,
    ),
    (
        "DELETE",
        R + r"/git/refs/(?P<ref>.+)",
        "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
        delete_ref,
    ),
]
