"""The GitHub forge (github.com and GitHub Enterprise Server) through github3.py.

The API base comes from ``GITHUB_API_URL`` (GHES: ``https://HOST/api/v3``),
the token from ``GITHUB_TOKEN``. Installation tokens (``ghs_…``, the token
of GitHub Actions and of GitHub Apps) may create check runs; personal
tokens set the commit status only. Plots and the full report go to the
dedicated ``mlops-reports`` branch in one commit per report (never to a
third party) and the PR comment links them. Alert issues are opened with
``POST /repos/{owner}/{repo}/issues`` (the token needs ``issues: write``).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from mlops_gitops.errors import DependencyMissingError
from mlops_gitops.forge import records
from mlops_gitops.forge.base import (
    GATE_CONTEXT,
    Approval,
    ChangeRef,
    ForgeError,
    GateStatus,
    Publication,
    Report,
)

if TYPE_CHECKING:
    from github3.pulls import ShortPullRequest
    from github3.repos.repo import Repository

log = logging.getLogger(__name__)

REPORTS_BRANCH = "mlops-reports"
UPLOAD_ATTEMPTS = 3
COMMENT_LIMIT = 65536
DEFAULT_BOT = "github-actions[bot]"
SOURCE = "github-review"
TokenKind = Literal["user", "installation"]
PUSHES = ("push", "force_push", "branch_creation")
CONCLUSIONS = {"pass": "success", "warn": "neutral", "block": "failure", "error": "failure"}


def token_kind(token: str, declared: str | None = None) -> TokenKind:
    """Return whether ``token`` is an App installation token (``ghs_``) or a user's."""
    if declared in ("user", "installation"):
        return declared  # type: ignore[return-value]
    return "installation" if token.startswith("ghs_") else "user"


@contextlib.contextmanager
def _api(what: str) -> Iterator[None]:
    """Turn github3 errors into one-line ForgeErrors naming the call."""
    import github3.exceptions as gh_errors

    try:
        yield
    except gh_errors.GitHubError as exc:
        message = getattr(exc, "msg", None) or str(exc)
        raise ForgeError(f"github: {what} failed: {exc.code} {message}") from exc
    except gh_errors.GitHubException as exc:
        raise ForgeError(f"github: {what} failed: {exc}") from exc


class GitHubForge:
    """The :class:`~mlops_gitops.forge.base.Forge` of one GitHub repository."""

    name = "github"

    def __init__(
        self,
        repository: str,
        *,
        token: str,
        api_url: str = "https://api.github.com",
        web_url: str = "https://github.com",
        kind: TokenKind | None = None,
        bot_login: str | None = None,
        run_url: str | None = None,
        clone: str | os.PathLike[str] | None = None,
    ) -> None:
        """Open ``owner/name``; ``clone`` is the checkout whose remote receives the notes."""
        try:
            import github3
        except ImportError as exc:
            raise DependencyMissingError("github3.py", "github") from exc
        if "/" not in repository or not token:
            raise ForgeError("github: set GITHUB_REPOSITORY=owner/name and GITHUB_TOKEN")
        self.owner, self.repo_name = repository.split("/", 1)
        self.web_url = web_url.rstrip("/")
        self.kind = token_kind(token, kind)
        self.bot_login = bot_login
        self.run_url = run_url
        self.clone = clone
        self._token = token
        self.gh = github3.GitHub()
        self.gh.session.base_url = api_url.rstrip("/")
        if self.kind == "installation":
            expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.gh.session.app_installation_token_auth({"token": token, "expires_at": expires})
        else:
            self.gh.login(token=token)
        self._repository: Repository | None = None
        self._login: str | None = None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, clone: str | os.PathLike[str] | None = None
    ) -> GitHubForge:
        """Build the forge from the variables GitHub Actions sets (and ``MLOPS_GITHUB_*``)."""
        env = os.environ if env is None else env
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        run = env.get("GITHUB_RUN_ID")
        full = env.get("GITHUB_REPOSITORY", "")
        return cls(
            full,
            token=env.get("MLOPS_GITHUB_TOKEN") or env.get("GITHUB_TOKEN", ""),
            api_url=env.get("GITHUB_API_URL", "https://api.github.com"),
            web_url=server,
            kind=env.get("MLOPS_GITHUB_TOKEN_KIND"),  # type: ignore[arg-type]
            bot_login=env.get("MLOPS_GITHUB_BOT_LOGIN"),
            run_url=f"{server}/{full}/actions/runs/{run}" if run else None,
            clone=clone,
        )

    # --- the Forge protocol ---------------------------------------------------
    def publish_report(self, target: ChangeRef, report: Report) -> Publication:
        """Upload plots and the full report, then create or edit the one PR comment."""
        links = self.upload(target, report)
        body = _fit(report.with_links(links), report.marker(), links["report.md"])
        pull = self.find_pull(target)
        if pull is None:
            log.info(
                "no open pull request for %s; the report is at %s",
                target.branch,
                links["report.md"],
            )
            return Publication(
                f"{REPORTS_BRANCH}:reports/{target.sha}/report.md", False, links["report.md"]
            )
        mine = self._own_comment(pull, report.marker())
        with _api(f"writing the report comment on #{pull.number}"):
            if mine is not None:
                mine.edit(body)
                return Publication(f"#{pull.number}", False, mine.html_url)
            comment = pull.create_comment(body)
        return Publication(f"#{pull.number}", True, comment.html_url)

    def set_gate(self, target: ChangeRef, gate: GateStatus) -> Publication:
        """Set the ``mlops/gate`` status (and check run), and push the decision's notes."""
        publication = self._set_status(target, gate)
        if self.clone is None:
            log.warning("no checkout to push from: the gate of %s stays off Git", target.sha[:12])
        else:
            self.keep_notes(records.gate_updates(target, gate))
        return publication

    def keep_notes(self, updates: Sequence[records.NoteUpdate]) -> None:
        """Push the notes from the checkout to its ``origin`` (the token needs contents: write)."""
        if self.clone is None:
            raise ForgeError("github: notes are pushed from a checkout; none was given")
        records.push_notes(self.clone, updates, token=self._token)

    def _set_status(self, target: ChangeRef, gate: GateStatus) -> Publication:
        repo = self.repository()
        url = gate.target_url or self.run_url
        with _api(f"setting the {GATE_CONTEXT} status on {target.sha[:12]}"):
            status = repo.create_status(
                target.sha, gate.state, url, gate.description(), GATE_CONTEXT
            )
        if self.kind == "installation" and gate.decision in CONCLUSIONS:
            output = {
                "title": gate.summary[:255],
                "summary": gate.summary,
                "text": gate.details[:65535],
            }
            with _api(f"creating the {GATE_CONTEXT} check run"):
                repo.create_check_run(
                    GATE_CONTEXT,
                    target.sha,
                    details_url=url,
                    status="completed",
                    conclusion=CONCLUSIONS[gate.decision],
                    completed_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    output=output,
                )
        return Publication(
            f"status {GATE_CONTEXT}@{target.sha[:12]}", True, status.url if status else None
        )

    def list_approvals(self, target: ChangeRef) -> list[Approval]:
        """Return each reviewer's latest approving review (any commit; policies judge staleness)."""
        pull = self.find_pull(target)
        if pull is None:
            return []
        latest: dict[str, Any] = {}
        with _api(f"reading the reviews of #{pull.number}"):
            for review in pull.reviews():
                if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                    latest[review.user.login] = review
        return [
            Approval(login, review.commit_id, SOURCE)
            for login, review in latest.items()
            if review.state == "APPROVED"
        ]

    def list_authors(self, target: ChangeRef) -> list[str]:
        """Return the logins GitHub attaches to the change: opener, pushers, commit people.

        These are GitHub accounts: the pull request's ``user.login``, the
        authenticated ``actor`` of every push to its head branch
        (``GET .../activity``), and ``author.login`` / ``committer.login`` of
        ``GET .../pulls/{n}/commits`` — never the free-text name and e-mail of a
        git commit; a commit GitHub matches to no account adds none.
        """
        pull = self.find_pull(target)
        if pull is None:
            return []
        logins = [str(pull.user.login), *self._pushers(str(pull.head.ref))]
        with _api(f"reading the commits of #{pull.number}"):
            for commit in pull.commits():
                logins += [str(p.login) for p in (commit.author, commit.committer) if p]
        return list(dict.fromkeys(logins))

    def _pushers(self, branch: str) -> list[str]:
        """Return who pushed to ``branch``, as GitHub authenticated them (oldest first)."""
        repo_url = f"{self.gh.session.base_url}/repos/{self.owner}/{self.repo_name}"
        url: str | None = f"{repo_url}/activity?ref=refs/heads/{branch}&per_page=100"
        found: list[str] = []
        while url:
            with _api(f"reading the pushes to {branch}"):
                response = self.gh.session.get(url)
            if response.status_code != 200:
                raise ForgeError(
                    f"github: reading the pushes to {branch} failed: {response.status_code}"
                )
            found += [
                str(item["actor"]["login"])
                for item in response.json()
                if item.get("actor") and item.get("activity_type") in PUSHES
            ]
            url = response.links.get("next", {}).get("url")
        return found[::-1]

    def read_report(self, target: ChangeRef, key: str = "train") -> str | None:
        """Return the body of this token's report comment on the pull request."""
        pull = self.find_pull(target)
        mine = None if pull is None else self._own_comment(pull, Report("", key=key).marker())
        return None if mine is None else str(mine.body)

    def read_gate(self, target: ChangeRef) -> GateStatus | None:
        """Return the latest ``mlops/gate`` status of ``target.sha``."""
        repo_url = f"{self.gh.session.base_url}/repos/{self.owner}/{self.repo_name}"
        url = f"{repo_url}/commits/{target.sha}/status"
        with _api("reading the combined status"):
            response = self.gh.session.get(url)
        if response.status_code != 200:
            raise ForgeError(
                f"github: reading the status of {target.sha[:12]} failed: {response.status_code}"
            )
        for status in response.json().get("statuses", []):
            if status.get("context") == GATE_CONTEXT:
                decision = {"success": "pass", "failure": "block"}.get(
                    status["state"], status["state"]
                )
                return GateStatus(
                    decision=decision,
                    summary=status.get("description") or "",
                    target_url=status.get("target_url"),
                )
        return None

    def open_issue(self, title: str, body: str, labels: Sequence[str]) -> str:
        """Open an issue with ``labels`` (GitHub creates missing labels); return its URL."""
        text = body if len(body) <= COMMENT_LIMIT else body[: COMMENT_LIMIT - 1] + "…"
        repo = self.repository()
        with _api(f"opening the issue '{title[:60]}'"):
            issue = repo.create_issue(title[:256], body=text, labels=list(labels))
        if issue is None:
            raise ForgeError(f"github: opening the issue '{title[:60]}' returned nothing")
        return str(issue.html_url)

    # --- GitHub specifics -----------------------------------------------------
    def repository(self) -> Repository:
        """Return the github3 repository (fetched once)."""
        if self._repository is None:
            with _api(f"reading {self.owner}/{self.repo_name}"):
                self._repository = self.gh.repository(self.owner, self.repo_name)
        return self._repository

    def login(self) -> str:
        """Return the login of the token's own user (an installation token is the bot)."""
        if self._login is None:
            if self.kind == "installation":
                self._login = self.bot_login or DEFAULT_BOT
            else:
                with _api("reading the token's user"):
                    self._login = str(self.gh.me().login)
        return self._login

    def find_pull(self, target: ChangeRef) -> ShortPullRequest | None:
        """Return the open pull request of ``target`` (by number, else by head branch)."""
        repo = self.repository()
        with _api(f"finding the pull request of {target.branch}"):
            if target.pull is not None:
                return repo.pull_request(target.pull)
            for pull in repo.pull_requests(state="open", head=f"{self.owner}:{target.branch}"):
                return pull
        return None

    def _own_comment(self, pull: ShortPullRequest, marker: str) -> Any:
        me = self.login()
        with _api(f"listing the comments of #{pull.number}"):
            found = [
                c for c in pull.issue_comments() if c.user.login == me and marker in (c.body or "")
            ]
        return found[-1] if found else None

    def upload(self, target: ChangeRef, report: Report) -> dict[str, str]:
        """Commit the attachments and the full report to ``mlops-reports``; return their links."""
        folder = f"reports/{target.sha}"
        names = {**report.attachments}
        links = {name: self._blob_url(f"{folder}/{name}") for name in names}
        links["report.md"] = self._blob_url(f"{folder}/report.md", raw=False)
        names["report.md"] = (report.with_links(links) + "\n").encode()
        repo = self.repository()
        with _api(f"uploading the report of {target.sha[:12]} to {REPORTS_BRANCH}"):
            entries = [
                {
                    "path": f"{folder}/{name}",
                    "mode": "100644",
                    "type": "blob",
                    "sha": repo.create_blob(_b64(data), "base64"),
                }
                for name, data in sorted(names.items())
            ]
            message = f"Report of {target.sha[:12]} ({target.branch})"
            for attempt in range(UPLOAD_ATTEMPTS):
                if self._commit_to_reports_branch(repo, entries, message):
                    break
                log.info(
                    "%s moved during the upload (attempt %d); retrying", REPORTS_BRANCH, attempt + 1
                )
            else:
                raise ForgeError(f"github: {REPORTS_BRANCH} kept moving; rerun the report")
        return links

    def _commit_to_reports_branch(
        self, repo: Repository, entries: list[dict[str, str]], message: str
    ) -> bool:
        """Add ``entries`` to the reports branch in one commit; False when another writer won."""
        import github3.exceptions as gh_errors

        try:
            ref = repo.ref(f"heads/{REPORTS_BRANCH}")
        except gh_errors.NotFoundError:
            ref = None
        parent = ref.object.sha if ref is not None else None
        base_tree = repo.git_commit(parent).tree.sha if parent else None
        tree = repo.create_tree(entries, base_tree)
        commit = repo.create_commit(message, tree.sha, [parent] if parent else [])
        try:
            if ref is None:
                repo.create_ref(f"refs/heads/{REPORTS_BRANCH}", commit.sha)
            else:
                ref.update(commit.sha)
        except gh_errors.UnprocessableEntity:
            return False  # not a fast-forward any more, or created meanwhile
        return True

    def _blob_url(self, path: str, *, raw: bool = True) -> str:
        url = f"{self.web_url}/{self.owner}/{self.repo_name}/blob/{REPORTS_BRANCH}/{path}"
        return f"{url}?raw=true" if raw else url


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _fit(body: str, marker: str, full_url: str) -> str:
    """Return ``body`` with the marker, cut at a section to GitHub's comment limit."""
    text = f"{body.rstrip()}\n\n{marker}\n"
    if len(text) <= COMMENT_LIMIT:
        return text
    note = (
        "\n\n> The report is longer than a comment allows; "
        f"[read the full report]({full_url}).\n\n{marker}\n"
    )
    room = COMMENT_LIMIT - len(note)
    cut = body.rfind("\n## ", 0, room)
    head = body[: cut if cut > 0 else room].rstrip()
    return head + note
