"""The operations the emulator serves: ROUTES = (method, path regex, operation, handler)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from . import objects
from .state import CheckRun, Comment, Pull, Review, Status

if TYPE_CHECKING:
    from .server import Request

REVIEW_EVENTS = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}
STATUS_STATES = {"error", "failure", "pending", "success"}
CHECK_STATUSES = {"queued", "in_progress", "completed"}
CHECK_CONCLUSIONS = {
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
}


def _fail(status: int, message: str) -> Any:
    from .server import ApiError

    raise ApiError(status, message)


def _pull(request: Request) -> Pull:
    pr = request.state.pulls.get(int(request.params["number"]))
    return pr if pr is not None else _fail(404, "Not Found")


def get_user(request: Request) -> tuple[int, Any]:
    if request.who.kind == "installation":
        _fail(403, "Resource not accessible by integration")
    return 200, objects.render.authenticated_user(
        request.who.login, request.who.user_id, request.urls()
    )


def get_repo(request: Request) -> tuple[int, Any]:
    return 200, objects.repository(request.state, request.urls())


def list_pulls(request: Request) -> tuple[int, Any]:
    state = request.query.get("state", "open")
    head = request.query.get("head")
    base = request.query.get("base")
    found = [
        pr
        for pr in sorted(request.state.pulls.values(), key=lambda p: -p.number)
        if state in ("all", pr.state)
        and (head is None or head == f"{request.state.owner}:{pr.head}")
        and (base is None or base == pr.base)
    ]
    page = request.paginate(found)
    return 200, [objects.pull(request.state, request.urls(), pr, simple=True) for pr in page]


def create_pull(request: Request) -> tuple[int, Any]:
    body = request.body
    head, base = str(body.get("head", "")).split(":")[-1], str(body.get("base", ""))
    if request.state.resolve(head) is None or request.state.resolve(base) is None:
        _fail(422, "Validation Failed: head or base branch not found")
    number = request.state.next_number()
    pr = Pull(
        number, str(body.get("title", "")), str(body.get("body") or ""), head, base, request.who
    )
    request.state.pulls[number] = pr
    return 201, objects.pull(request.state, request.urls(), pr)


def get_pull(request: Request) -> tuple[int, Any]:
    return 200, objects.pull(request.state, request.urls(), _pull(request))


def list_reviews(request: Request) -> tuple[int, Any]:
    number = _pull(request).number
    found = [r for r in request.state.reviews if r.number == number]
    return 200, [objects.review(request.urls(), r) for r in request.paginate(found)]


def create_review(request: Request) -> tuple[int, Any]:
    pr = _pull(request)
    event = str(request.body.get("event", ""))
    if event not in REVIEW_EVENTS:
        _fail(
            422,
            f"Validation Failed: event '{event}' is not one of APPROVE, REQUEST_CHANGES, COMMENT",
        )
    if pr.author.login == request.who.login and event != "COMMENT":
        _fail(422, "Can not approve your own pull request")
    commit = str(request.body.get("commit_id") or request.state.resolve(pr.head))
    review = Review(
        request.state.next_id(),
        pr.number,
        request.who,
        REVIEW_EVENTS[event],
        commit,
        str(request.body.get("body", "")),
    )
    request.state.reviews.append(review)
    return 200, objects.review(request.urls(), review)


def list_comments(request: Request) -> tuple[int, Any]:
    number = int(request.params["number"])
    if number not in request.state.pulls:
        _fail(404, "Not Found")
    found = sorted(
        (c for c in request.state.comments.values() if c.number == number), key=lambda c: c.id
    )
    return 200, [objects.comment(request.urls(), c) for c in request.paginate(found)]


def create_comment(request: Request) -> tuple[int, Any]:
    number = int(request.params["number"])
    if number not in request.state.pulls:
        _fail(404, "Not Found")
    text = request.body.get("body")
    if not isinstance(text, str) or not text:
        _fail(422, "Validation Failed: body is missing")
    if len(text) > 65536:
        _fail(422, "Validation Failed: body is too long (maximum is 65536 characters)")
    item = Comment(request.state.next_id(), number, request.who, text)
    request.state.comments[item.id] = item
    return 201, objects.comment(request.urls(), item)


def get_comment(request: Request) -> tuple[int, Any]:
    item = request.state.comments.get(int(request.params["id"]))
    return 200, objects.comment(request.urls(), item if item else _fail(404, "Not Found"))


def edit_comment(request: Request) -> tuple[int, Any]:
    item = request.state.comments.get(int(request.params["id"]))
    if item is None:
        _fail(404, "Not Found")
    text = request.body.get("body")
    if not isinstance(text, str) or len(text) > 65536:
        _fail(422, "Validation Failed: body is missing or too long (maximum is 65536 characters)")
    item.body = text
    item.updated_at = "2026-01-15T10:05:00Z"
    return 200, objects.comment(request.urls(), item)


def create_status(request: Request) -> tuple[int, Any]:
    state = request.body.get("state")
    if state not in STATUS_STATES:
        _fail(
            422,
            f"Validation Failed: state '{state}' is not one of error, failure, pending, success",
        )
    sha = request.params["sha"]
    if request.state.resolve(sha) != sha:
        _fail(422, f"No commit found for SHA: {sha}")
    description = request.body.get("description")
    if isinstance(description, str) and len(description) > 140:
        _fail(422, "Validation Failed: description is too long (maximum is 140 characters)")
    item = Status(
        request.state.next_id(),
        sha,
        state,
        str(request.body.get("context") or "default"),
        description,
        request.body.get("target_url"),
        request.who,
    )
    request.state.statuses.append(item)
    return 201, objects.status(request.urls(), item)


def combined_status(request: Request) -> tuple[int, Any]:
    sha = request.state.resolve(request.params["ref"])
    if sha is None:
        _fail(404, "Not Found")
    return 200, objects.combined_status(request.state, request.urls(), str(sha))


def create_check_run(request: Request) -> tuple[int, Any]:
    if request.who.kind != "installation":
        _fail(403, "You must authenticate via a GitHub App.")
    body = request.body
    status = str(body.get("status", "queued"))
    conclusion = body.get("conclusion")
    if status not in CHECK_STATUSES or (
        conclusion is not None and conclusion not in CHECK_CONCLUSIONS
    ):
        _fail(422, "Validation Failed: invalid status or conclusion")
    if request.state.resolve(str(body.get("head_sha"))) is None:
        _fail(422, "Validation Failed: head_sha is not a commit")
    item = CheckRun(
        request.state.next_id(),
        str(body["head_sha"]),
        str(body.get("name", "")),
        "completed" if conclusion else status,
        conclusion,
        body.get("details_url"),
        dict(body.get("output") or {}),
        request.who,
        completed_at=body.get("completed_at"),
    )
    request.state.check_runs[item.id] = item
    return 201, objects.check_run(request.state, request.urls(), item)


def update_check_run(request: Request) -> tuple[int, Any]:
    if request.who.kind != "installation":
        _fail(403, "You must authenticate via a GitHub App.")
    item = request.state.check_runs.get(int(request.params["id"]))
    if item is None:
        _fail(404, "Not Found")
    for key in ("name", "details_url", "completed_at"):
        if key in request.body:
            setattr(item, key, request.body[key])
    if "output" in request.body:
        item.output = dict(request.body["output"])
    if request.body.get("conclusion"):
        item.conclusion, item.status = request.body["conclusion"], "completed"
    return 200, objects.check_run(request.state, request.urls(), item)


def list_check_runs(request: Request) -> tuple[int, Any]:
    sha = request.state.resolve(request.params["ref"])
    runs = [
        objects.check_run(request.state, request.urls(), c)
        for c in request.state.check_runs.values()
        if c.head_sha == sha
    ]
    return 200, {"total_count": len(runs), "check_runs": runs}


def get_ref(request: Request) -> tuple[int, Any]:
    ref = "refs/" + request.params["ref"]
    sha = request.state.ref_sha(ref)
    if sha is None:
        _fail(404, "Not Found")
    return 200, objects.git_ref(request.urls(), ref, str(sha))


def create_ref(request: Request) -> tuple[int, Any]:
    ref, sha = str(request.body.get("ref", "")), str(request.body.get("sha", ""))
    if not ref.startswith("refs/") or ref.count("/") < 2:
        _fail(422, "Reference name must start with 'refs/' and have at least two slashes")
    if request.state.ref_sha(ref) is not None:
        _fail(422, "Reference already exists")
    from mlops_gitops import scm

    from .rules import refuse_ref_update

    refuse_ref_update(request, ref, "0" * 40, sha)

    if not scm.git_ok("update-ref", ref, sha, "0" * 40, cwd=request.state.bare):
        _fail(422, "Object does not exist")
    return 201, objects.git_ref(request.urls(), ref, sha)


def update_ref(request: Request) -> tuple[int, Any]:
    ref, sha = "refs/" + request.params["ref"], str(request.body.get("sha", ""))
    old = request.state.ref_sha(ref)
    if old is None:
        _fail(422, "Reference does not exist")
    if not request.body.get("force") and not request.state.is_ancestor(str(old), sha):
        _fail(422, "Update is not a fast forward")
    from mlops_gitops import scm

    from .rules import refuse_ref_update

    refuse_ref_update(request, ref, str(old), sha)

    if not scm.git_ok("update-ref", ref, sha, str(old), cwd=request.state.bare):
        _fail(422, "Reference update failed")
    return 200, objects.git_ref(request.urls(), ref, sha)


def create_blob(request: Request) -> tuple[int, Any]:
    content, encoding = request.body.get("content"), request.body.get("encoding", "utf-8")
    if not isinstance(content, str) or encoding not in ("utf-8", "base64"):
        _fail(422, "Validation Failed: content and encoding (utf-8 or base64) are required")
    data = base64.b64decode(content) if encoding == "base64" else content.encode()
    return 201, objects.git_blob(request.urls(), request.state.hash_blob(data))


def create_tree(request: Request) -> tuple[int, Any]:
    entries = []
    for item in request.body.get("tree") or []:
        sha = item.get("sha")
        if sha is None and "content" in item:
            sha = request.state.hash_blob(str(item["content"]).encode())
        if not sha or item.get("mode") not in ("100644", "100755", "040000", "160000", "120000"):
            _fail(422, "Validation Failed: tree entries need a mode and a sha or content")
        entries.append((str(item["mode"]), str(sha), str(item["path"])))
    tree = request.state.make_tree(entries, request.body.get("base_tree"))
    return 201, objects.git_tree(request.state, request.urls(), tree)


def create_commit(request: Request) -> tuple[int, Any]:
    tree, parents = request.body.get("tree"), request.body.get("parents") or []
    message = request.body.get("message")
    if not tree or not isinstance(message, str):
        _fail(422, "Validation Failed: message and tree are required")
    sha = request.state.make_commit(str(tree), [str(p) for p in parents], message)
    return 201, objects.git_commit(request.state, request.urls(), sha)


def get_commit(request: Request) -> tuple[int, Any]:
    sha = request.params["sha"]
    if request.state.resolve(sha) != sha:
        _fail(404, "Not Found")
    return 200, objects.git_commit(request.state, request.urls(), sha)


R = r"/repos/(?P<full>[^/]+/[^/]+)"
ROUTES: list[tuple[str, str, str, Any]] = [
    ("GET", r"/user", "GET /user", get_user),
    ("GET", R, "GET /repos/{owner}/{repo}", get_repo),
    ("GET", R + r"/pulls", "GET /repos/{owner}/{repo}/pulls", list_pulls),
    ("POST", R + r"/pulls", "POST /repos/{owner}/{repo}/pulls", create_pull),
    (
        "GET",
        R + r"/pulls/(?P<number>\d+)",
        "GET /repos/{owner}/{repo}/pulls/{pull_number}",
        get_pull,
    ),
    (
        "GET",
        R + r"/pulls/(?P<number>\d+)/reviews",
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        list_reviews,
    ),
    (
        "POST",
        R + r"/pulls/(?P<number>\d+)/reviews",
        "POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        create_review,
    ),
    (
        "GET",
        R + r"/issues/(?P<number>\d+)/comments",
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
        list_comments,
    ),
    (
        "POST",
        R + r"/issues/(?P<number>\d+)/comments",
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
        create_comment,
    ),
    (
        "GET",
        R + r"/issues/comments/(?P<id>\d+)",
        "GET /repos/{owner}/{repo}/issues/comments/{comment_id}",
        get_comment,
    ),
    (
        "PATCH",
        R + r"/issues/comments/(?P<id>\d+)",
        "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
        edit_comment,
    ),
    (
        "POST",
        R + r"/statuses/(?P<sha>[0-9a-f]{40})",
        "POST /repos/{owner}/{repo}/statuses/{sha}",
        create_status,
    ),
    (
        "GET",
        R + r"/commits/(?P<ref>.+)/status",
        "GET /repos/{owner}/{repo}/commits/{ref}/status",
        combined_status,
    ),
    ("POST", R + r"/check-runs", "POST /repos/{owner}/{repo}/check-runs", create_check_run),
    (
        "PATCH",
        R + r"/check-runs/(?P<id>\d+)",
        "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
        update_check_run,
    ),
    (
        "GET",
        R + r"/commits/(?P<ref>.+)/check-runs",
        "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
        list_check_runs,
    ),
    ("GET", R + r"/git/ref/(?P<ref>.+)", "GET /repos/{owner}/{repo}/git/ref/{ref}", get_ref),
    ("POST", R + r"/git/refs", "POST /repos/{owner}/{repo}/git/refs", create_ref),
    (
        "PATCH",
        R + r"/git/refs/(?P<ref>.+)",
        "PATCH /repos/{owner}/{repo}/git/refs/{ref}",
        update_ref,
    ),
    ("POST", R + r"/git/blobs", "POST /repos/{owner}/{repo}/git/blobs", create_blob),
    ("POST", R + r"/git/trees", "POST /repos/{owner}/{repo}/git/trees", create_tree),
    ("POST", R + r"/git/commits", "POST /repos/{owner}/{repo}/git/commits", create_commit),
    (
        "GET",
        R + r"/git/commits/(?P<sha>[0-9a-f]{40})",
        "GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
        get_commit,
    ),
]
