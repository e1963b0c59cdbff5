"""Turn the emulator's state into GitHub JSON objects (from the recorded templates)."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

from . import render
from .state import NOW, CheckRun, Comment, Identity, Issue, Pull, Review, State, Status

REPO_ID = 424242


def user(identity: Identity, urls: dict[str, str]) -> dict[str, Any]:
    kind = "Bot" if identity.kind == "installation" else "User"
    return render.user(identity.login, identity.user_id, urls, kind=kind)


def owner(state: State, urls: dict[str, str]) -> dict[str, Any]:
    return render.user(state.owner, 7, urls, kind="Organization")


def repository(state: State, urls: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = render.fill(
        "repository",
        urls,
        {"user": owner(state, urls)},
        id=REPO_ID,
        node_id="R_emulated",
        name=state.repo,
        full_name=f"{state.owner}/{state.repo}",
        default_branch="main",
        private=True,
        visibility="private",
        fork=False,
        archived=False,
        disabled=False,
        has_discussions=False,
        description="emulated repository",
        homepage=None,
        language="Python",
        created_at=NOW,
        updated_at=NOW,
        pushed_at=NOW,
        topics=[],
        license={
            "key": "apache-2.0",
            "name": "Apache License 2.0",
            "spdx_id": "Apache-2.0",
            "url": f"{urls['api']}/licenses/apache-2.0",
            "node_id": "MDc6TGljZW5zZTI=",
        },
    )
    body.pop("parent", None)
    body.pop("source", None)
    body.pop("organization", None)
    return body


def _branch(state: State, urls: dict[str, str], ref: str) -> dict[str, Any]:
    return {
        "label": f"{state.owner}:{ref}",
        "ref": ref,
        "sha": state.resolve(ref) or "0" * 40,
        "user": owner(state, urls),
        "repo": repository(state, urls),
    }


def pull(state: State, urls: dict[str, str], pr: Pull, *, simple: bool = False) -> dict[str, Any]:
    head = _branch(state, urls, pr.head)
    values = {**urls, "number": pr.number, "head_sha": head["sha"], "id": 9000 + pr.number}
    author = user(pr.author, urls)
    name = "pull_request_simple" if simple else "pull_request"
    fields: dict[str, Any] = {
        "id": 9000 + pr.number,
        "node_id": f"PR_{pr.number}",
        "number": pr.number,
        "state": pr.state,
        "title": pr.title,
        "body": pr.body,
        "created_at": pr.created_at,
        "updated_at": pr.created_at,
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": None,
        "head": head,
        "base": _branch(state, urls, pr.base),
        "labels": [],
        "milestone": None,
        "draft": False,
        "author_association": "MEMBER",
        "requested_reviewers": [],
        "requested_teams": [],
        "assignee": None,
        "assignees": [],
        "auto_merge": None,
        "active_lock_reason": None,
    }
    if not simple:
        fields.update(
            merged=False, mergeable=True, rebaseable=True, mergeable_state="clean", merged_by=None
        )
        fields.update(comments=sum(1 for c in state.comments.values() if c.number == pr.number))
    body: dict[str, Any] = render.fill(name, values, {"user": author}, **fields)
    _full_media(body, pr.body)
    return body


def _full_media(body: dict[str, Any], text: str) -> None:
    """Add what GitHub adds for ``application/vnd.github.v3.full+json`` (github3's default)."""
    body["body_html"] = f"<p>{html.escape(text)}</p>"
    body["body_text"] = text


def comment(urls: dict[str, str], item: Comment) -> dict[str, Any]:
    values = {**urls, "number": item.number, "id": item.id}
    body: dict[str, Any] = render.fill(
        "issue_comment",
        values,
        {"user": user(item.author, urls)},
        id=item.id,
        node_id=f"IC_{item.id}",
        body=item.body,
        created_at=item.created_at,
        updated_at=item.updated_at,
        author_association="MEMBER",
    )
    for key in ("reactions", "performed_via_github_app"):
        body.pop(key, None)
    _full_media(body, item.body)
    return body


def review(urls: dict[str, str], item: Review) -> dict[str, Any]:
    values = {**urls, "number": item.number, "id": item.id, "commit_id": item.commit_id}
    body: dict[str, Any] = render.fill(
        "review",
        values,
        {"user": user(item.author, urls)},
        id=item.id,
        node_id=f"PRR_{item.id}",
        body=item.body,
        state=item.state,
        commit_id=item.commit_id,
        submitted_at=item.submitted_at,
        author_association="MEMBER",
    )
    _full_media(body, item.body)
    return body


def status(urls: dict[str, str], item: Status) -> dict[str, Any]:
    values = {**urls, "sha": item.sha, "id": item.id}
    return render.fill(  # type: ignore[no-any-return]
        "status",
        values,
        {"user": user(item.creator, urls)},
        id=item.id,
        node_id=f"SC_{item.id}",
        state=item.state,
        context=item.context,
        description=item.description,
        target_url=item.target_url,
        created_at=item.created_at,
        updated_at=item.created_at,
        avatar_url=None,
    )


def combined_status(state: State, urls: dict[str, str], sha: str) -> dict[str, Any]:
    latest: dict[str, Status] = {}
    for item in state.statuses:
        if item.sha == sha:
            latest[item.context] = item
    states = {s.state for s in latest.values()}
    overall = (
        "failure"
        if states & {"failure", "error"}
        else "pending"
        if not states or "pending" in states
        else "success"
    )
    statuses = [status(urls, s) for s in latest.values()]
    for entry in statuses:
        entry.pop("creator", None)
    values = {**urls, "sha": sha}
    return render.fill(  # type: ignore[no-any-return]
        "combined_status",
        values,
        {"repository": repository(state, urls)},
        state=overall,
        sha=sha,
        statuses=statuses,
        total_count=len(statuses),
    )


def check_run(state: State, urls: dict[str, str], item: CheckRun) -> dict[str, Any]:
    values = {**urls, "head_sha": item.head_sha, "id": item.id}
    app_owner = owner(state, urls)
    body: dict[str, Any] = render.fill(
        "check_run",
        values,
        {"user": app_owner},
        id=item.id,
        node_id=f"CR_{item.id}",
        head_sha=item.head_sha,
        name=item.name,
        status=item.status,
        conclusion=item.conclusion,
        details_url=item.details_url,
        started_at=item.started_at,
        completed_at=item.completed_at,
        pull_requests=[],
        external_id="",
    )
    repo_api = f"{urls['api']}/repos/{urls['full_name']}"
    body["output"] = {
        "title": item.output.get("title"),
        "summary": item.output.get("summary"),
        "text": item.output.get("text"),
        "annotations_count": 0,
        "annotations_url": f"{repo_api}/check-runs/{item.id}/annotations",
    }
    body["app"].update(slug=item.app.login.removesuffix("[bot]"), events=[], permissions={})
    body["app"]["client_id"] = "Iv1.emulated"
    return body


def git_ref(urls: dict[str, str], ref: str, sha: str, kind: str = "commit") -> dict[str, Any]:
    base = f"{urls['api']}/repos/{urls['full_name']}"
    return {
        "ref": ref,
        "node_id": f"REF_{ref}",
        "url": f"{base}/git/{ref}",
        "object": {"sha": sha, "type": kind, "url": f"{base}/git/{kind}s/{sha}"},
    }


def git_blob(urls: dict[str, str], sha: str) -> dict[str, Any]:
    return render.fill("git_blob", {**urls, "sha": sha}, {}, sha=sha)  # type: ignore[no-any-return]


def git_tree(state: State, urls: dict[str, str], tree: str) -> dict[str, Any]:
    base = f"{urls['api']}/repos/{urls['full_name']}/git"
    entries = [
        {"path": path, "mode": mode, "type": kind, "sha": sha, "url": f"{base}/{kind}s/{sha}"}
        for mode, kind, sha, path in state.list_tree(tree)
    ]
    return render.fill(
        "git_tree", {**urls, "sha": tree}, {}, sha=tree, tree=entries, truncated=False
    )  # type: ignore[no-any-return]


def git_commit(state: State, urls: dict[str, str], sha: str) -> dict[str, Any]:
    tree, author, message, parents = state.commit_meta(sha)
    name, email, date = author.split("\n")
    base = f"{urls['api']}/repos/{urls['full_name']}/git"
    person = {"name": name, "email": email, "date": date}
    return render.fill(  # type: ignore[no-any-return]
        "git_commit",
        {**urls, "sha": sha},
        {},
        sha=sha,
        node_id=f"C_{sha}",
        message=message,
        author=person,
        committer=person,
        tree={"sha": tree, "url": f"{base}/trees/{tree}"},
        parents=[
            {
                "sha": p,
                "url": f"{base}/commits/{p}",
                "html_url": f"{urls['web']}/{urls['full_name']}/commit/{p}",
            }
            for p in parents
        ],
        verification={
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    )


def label(state: State, urls: dict[str, str], name: str) -> dict[str, Any]:
    label_id = state.labels[name]
    base = f"{urls['api']}/repos/{urls['full_name']}"
    return render.fill(  # type: ignore[no-any-return]
        "label",
        urls,
        {},
        id=label_id,
        node_id=f"LA_{label_id}",
        name=name,
        color="ededed",
        default=False,
        description=None,
        url=f"{base}/labels/{quote(name)}",
    )


def issue(state: State, urls: dict[str, str], item: Issue) -> dict[str, Any]:
    values = {**urls, "number": item.number, "id": item.id}
    body: dict[str, Any] = render.fill(
        "issue",
        values,
        {"user": user(item.author, urls)},
        id=item.id,
        node_id=f"I_{item.id}",
        number=item.number,
        title=item.title,
        body=item.body,
        state=item.state,
        labels=[label(state, urls, name) for name in item.labels],
        assignee=None,
        assignees=[],
        created_at=item.created_at,
        updated_at=item.created_at,
        author_association="MEMBER",
    )
    _full_media(body, item.body or "")
    return body
