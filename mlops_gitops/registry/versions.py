"""Model versions: annotated Git tags ``MODEL@vX.Y.Z`` and their metadata.

A registration is an annotated tag in GTO's name format on the commit whose
``dvc.lock`` holds the artifact; its message carries the metadata as JSON
after a one-line subject. Lifecycle marks are annotated tags too:
``MODEL@vX.Y.Z!`` deprecates a version (GTO reads it as "deregistered") and
``MODEL@vX.Y.Z!archived`` archives it (GTO ignores it). All tags are read
with one ``git for-each-ref``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mlops_gitops import scm
from mlops_gitops.errors import MlopsError
from mlops_gitops.manifests.schema import MODEL_NAME, SEMVER, SEMVER_RE

TAG_RE = re.compile(
    rf"^(?P<model>{MODEL_NAME})@(?P<version>{SEMVER})(?P<mark>!archived|!)?(?:#\d+)?$"
)
METADATA_SCHEMA = "mlops-gitops/registration/1"
_FIELDS = (
    "%(refname:strip=2)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objectname)",
    "%(taggername)",
    "%(taggeremail)",
    "%(taggerdate:iso-strict)",
    "%(contents)",
)
TAG_FORMAT = "%1f".join(_FIELDS) + "%1e"

Mark = Literal["register", "deprecate", "archive"]


class RegistryError(MlopsError):
    """A model version is unknown, invalid, or cannot be registered or changed."""


@dataclass(frozen=True)
class ArtifactRef:
    """A model artifact as recorded in ``dvc.lock``: path, md5 and size."""

    path: str
    md5: str
    size: int | None = None


@dataclass(frozen=True)
class VersionTag:
    """One registry tag as read from Git (a registration or a lifecycle mark)."""

    name: str
    model: str
    version: str
    mark: Mark
    commit: str
    tag_object: str
    tagger: str
    email: str
    date: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version with its metadata and derived lifecycle state.

    ``state`` is ``archived``, ``deprecated``, the last environment in
    promotion order that runs the version now, or ``registered``;
    ``environments`` lists every environment that runs it now (as the
    serving version, a canary candidate or an A/B variant).
    """

    model: str
    version: str
    tag: str
    commit: str
    registered_by: str
    registered_email: str
    registered_at: str
    artifact: ArtifactRef | None
    data: dict[str, str]
    params: dict[str, Any]
    metrics: dict[str, Any]
    state: str = "registered"
    environments: tuple[str, ...] = ()
    deprecated: bool = False
    archived: bool = False
    tag_object: str = ""


def parse_tag_name(name: str) -> tuple[str, str, Mark] | None:
    """Return ``(model, version, mark)`` for a registry tag name, or None."""
    match = TAG_RE.match(name)
    if match is None:
        return None
    marks: dict[str | None, Mark] = {None: "register", "!": "deprecate", "!archived": "archive"}
    return match["model"], match["version"], marks[match["mark"]]


def tag_name(model: str, version: str, mark: Mark = "register") -> str:
    """Return the tag name of a registration or a lifecycle mark."""
    suffix = {"register": "", "deprecate": "!", "archive": "!archived"}[mark]
    return f"{model}@{version}{suffix}"


def parse_metadata(message: str) -> dict[str, Any]:
    """Return the JSON metadata in a tag message (empty for tags made by other tools)."""
    start = message.find("\n{")
    if start < 0:
        return {}
    try:
        value, _ = json.JSONDecoder().raw_decode(message, start + 1)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def format_message(subject: str, metadata: dict[str, Any]) -> str:
    """Return a tag message: a subject line, a blank line and the JSON metadata."""
    return f"{subject}\n\n{json.dumps(metadata, indent=2, sort_keys=True)}\n"


def read_tags(root: str | os.PathLike[str] = ".") -> list[VersionTag]:
    """Read every registry tag with one ``for-each-ref`` (lightweight tags are ignored)."""
    out = scm.git("for-each-ref", f"--format={TAG_FORMAT}", "refs/tags/", cwd=root)
    tags: list[VersionTag] = []
    for record in out.split("\x1e\n"):
        fields = record.split("\x1f")
        if len(fields) != len(_FIELDS) or fields[1] != "tag":
            continue
        parsed = parse_tag_name(fields[0])
        if parsed is None:
            continue
        tags.append(_version_tag(fields, parsed))
    return tags


def _version_tag(fields: list[str], parsed: tuple[str, str, Mark]) -> VersionTag:
    name, _, tag_object, commit, tagger, email, date, message = fields
    model, version, mark = parsed
    return VersionTag(
        name=name,
        model=model,
        version=version,
        mark=mark,
        commit=commit,
        tag_object=tag_object,
        tagger=tagger,
        email=email.strip("<>"),
        date=date,
        metadata=parse_metadata(message),
    )


def semver_key(version: str) -> tuple[Any, ...]:
    """Return a sort key that orders versions by SemVer precedence."""
    core, _, _build = version.lstrip("v").partition("+")
    release, _, pre = core.partition("-")
    numbers = tuple(int(p) for p in release.split("."))
    if not pre:
        return (numbers, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (numbers, 0, parts)


def check_version(version: str) -> str:
    """Return ``version`` when it is SemVer with a leading ``v``; raise otherwise."""
    if not SEMVER_RE.match(version):
        raise RegistryError(
            f"version '{version}' is not SemVer; use the form v1.2.3 (or v1.2.3-rc.1)"
        )
    return version


def bump_version(latest: str | None, part: Literal["major", "minor", "patch"]) -> str:
    """Return the version after ``latest`` with ``part`` bumped (v0.1.0 for the first)."""
    if latest is None:
        return "v0.1.0" if part != "major" else "v1.0.0"
    major, minor, patch = semver_key(latest)[0]
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def closest(word: str, candidates: list[str]) -> str:
    """Return a hint naming the closest of ``candidates`` to ``word``."""
    near = difflib.get_close_matches(word, candidates, n=3, cutoff=0.5)
    picked = near or sorted(candidates, key=semver_or_text)[-3:]
    return ", ".join(picked) if picked else "none"


def semver_or_text(value: str) -> tuple[Any, ...]:
    """Sort key: SemVer precedence for versions, text otherwise."""
    return (1, semver_key(value)) if SEMVER_RE.match(value) else (0, value)


def locked_md5(root: str | os.PathLike[str], commit: str, path: str) -> str:
    """Return the md5 that ``dvc.lock`` at ``commit`` records for ``path`` (or "nothing")."""
    from mlops_gitops import pipeline

    text = scm.show_file(commit, "dvc.lock", root)
    locked = pipeline.parse_lock(text).get(path) if text else None
    return locked.md5 if locked else "nothing"
