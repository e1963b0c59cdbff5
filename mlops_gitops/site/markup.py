"""Markdown pieces shared by the site's pages: page paths, relative links, numbers, cells.

Generated pages link to each other with paths relative to the page (what
``mkdocs build --strict`` checks); commits and pull requests link to the
forge when ``repo_url`` is a web forge (``mkdocs.yml``), else show the id.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

# a virtual absolute path for the generated folder, so links never depend on the cwd
_BASE = "/site/docs/generated/"
FORGE_HOSTS = ("github", "gitlab", "gitea", "forgejo", "bitbucket")


def model_page(model: str) -> str:
    """Return the page of a model, relative to the generated folder."""
    return f"models/{model}/index.md"


def card_page(model: str, version: str) -> str:
    """Return the model card page of a version, relative to the generated folder."""
    return f"models/{model}/{version}/index.md"


def relative(target: str, page: str) -> str:
    """Return the link from ``page`` to ``target`` (both relative to the generated folder)."""
    start = posixpath.dirname(posixpath.normpath(f"{_BASE}{page}"))
    return posixpath.relpath(posixpath.normpath(f"{_BASE}{target}"), start)


def cell(value: Any) -> str:
    """Return ``value`` as text safe inside a Markdown table cell."""
    if value is None or value == "":
        return "—"
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def number(value: Any) -> str:
    """Return a metric value with four significant decimals (integers as they are)."""
    if isinstance(value, bool) or value is None:
        return cell(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    return cell(value)


def when(value: str | None) -> str:
    """Return an ISO time as ``YYYY-MM-DD HH:MM`` (UTC as recorded)."""
    if not value:
        return "—"
    return value[:16].replace("T", " ")


@dataclass(frozen=True)
class Links:
    """Links to the forge: commits, pull requests, tags (plain ids without a web forge)."""

    repo_url: str | None = None

    @property
    def web(self) -> bool:
        """Whether ``repo_url`` names a web forge that serves commit pages."""
        url = (self.repo_url or "").lower()
        return url.startswith("http") and any(host in url for host in FORGE_HOSTS)

    def commit(self, sha: str | None) -> str:
        """Return a Markdown link (or code span) of a commit."""
        if not sha:
            return "—"
        if self.web:
            return f"[`{sha[:8]}`]({self.repo_url}/commit/{sha})"
        return f"`{sha[:8]}`"

    def commit_url(self, sha: str | None) -> str | None:
        """Return the URL of a commit on the forge, or None."""
        return f"{self.repo_url}/commit/{sha}" if sha and self.web else None

    def pr(self, number: str | None) -> str:
        """Return a Markdown link (or text) of a pull request."""
        if not number:
            return "—"
        if self.web:
            return f"[#{number}]({self.repo_url}/pull/{number})"
        return f"#{number}"

    def pr_url(self, number: str | None) -> str | None:
        """Return the URL of a pull request on the forge, or None."""
        return f"{self.repo_url}/pull/{number}" if number and self.web else None


def page_url(page: str) -> str:
    """Return the folder URL of a page under ``use_directory_urls`` (``a/b.md`` -> ``a/b/``)."""
    if page == "index.md" or page.endswith("/index.md"):
        return page.removesuffix("index.md")
    return page.removesuffix(".md") + "/"


def href(target: str, page: str) -> str:
    """Return a link for raw HTML from ``page`` to the page ``target`` (mkdocs keeps it as is)."""
    start = posixpath.normpath(f"{_BASE}{page_url(page)}")
    link = posixpath.relpath(posixpath.normpath(f"{_BASE}{page_url(target)}"), start)
    return "./" if link == "." else link + "/"
