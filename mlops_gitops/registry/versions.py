"""Model versions: annotated Git tags ``MODEL@vX.Y.Z`` and their metadata.

A registration is an annotated tag in GTO's name format on the commit whose
``dvc.lock`` holds the artifact; its message carries the metadata as JSON
after a one-line subject. Lifecycle marks are annotated tags too:
``MODEL@vX.Y.Z!`` deprecates a version (GTO reads it as "deregistered") and
``MODEL@vX.Y.Z!archived`` archives it (GTO ignores it). All tags are read
with one ``git for-each-ref``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlops_gitops import scm
from mlops_gitops.errors import MlopsError
from mlops_gitops.manifests.conventions import MODEL_NAME, SEMVER, SEMVER_RE

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
    # a signed tag's signature follows its trailers, which git then no longer finds: the
    # body (without the signature) is read instead, and its Mlops- lines are the trailers
    "%(if)%(contents:signature)%(then)%(contents:body)%(else)%(trailers:only,unfold)%(end)",
)
# the summary of a tag: its trailers only; the full read adds the message
SUMMARY_FORMAT = "%1f".join(_FIELDS) + "%1e"
TAG_FORMAT = "%1f".join((*_FIELDS, "%(contents)")) + "%1e"

Mark = Literal["register", "deprecate", "archive"]
_DECODER = json.JSONDecoder()


class RegistryError(MlopsError):
    """A model version is unknown, invalid, or cannot be registered or changed."""


@dataclass(frozen=True)
class ArtifactRef:
    """A model artifact as recorded in ``dvc.lock``: path, md5 and size."""

    path: str
    md5: str
    size: int | None = None
    sha256: str | None = None  # recorded by a signed registration


@dataclass(frozen=True, kw_only=True)
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
    metadata: dict[str, Any] | None = None
    trailers: dict[str, str] = field(default_factory=dict)

    def artifact(self) -> ArtifactRef | None:
        """Return the registered artifact, from the metadata or else the trailers."""
        value = (self.metadata or {}).get("artifact")
        if isinstance(value, dict):
            size, sha256 = value.get("size"), value.get("sha256")
            return ArtifactRef(
                path=str(value.get("path", "")),
                md5=str(value.get("md5", "")),
                size=size if isinstance(size, int) else None,
                sha256=sha256 if isinstance(sha256, str) else None,
            )
        md5 = self.trailers.get("Mlops-Artifact-Md5")
        return ArtifactRef(self.trailers.get("Mlops-Artifact-Path", ""), md5) if md5 else None


@dataclass(frozen=True, kw_only=True)
class ModelVersion:
    """A registered model version with its metadata and derived lifecycle state.

    ``state`` is ``archived``, ``deprecated``, the last environment in
    promotion order that runs the version now, or ``registered``;
    ``environments`` lists every environment that runs it now (as the
    serving version, a canary candidate or an A/B variant). ``data``,
    ``params`` and ``metrics`` are None when the listing was read without
    the tag messages (``with_metadata=False``).
    """

    model: str
    version: str
    tag: str
    commit: str
    registered_by: str
    registered_email: str
    registered_at: str
    artifact: ArtifactRef | None
    data: dict[str, str] | None
    params: dict[str, Any] | None
    metrics: dict[str, Any] | None
    state: str = "registered"
    environments: tuple[str, ...] = ()
    deprecated: bool = False
    archived: bool = False
    tag_object: str = ""

    @property
    def task(self) -> str | None:
        """Return the task its params record (see :func:`task_of`); None when read without them."""
        return None if self.params is None else task_of(self.params)


def task_of(params: Mapping[str, Any]) -> str:
    """Return the ``model.task`` a registration's params record (binary when none is).

    A registration made before tasks were recorded reads as binary, as a
    model exported then does (:func:`mlops_gitops.contract.read_contract`).
    """
    from mlops_gitops.tasks import DEFAULT_TASK

    return _recorded_param(params, "model", "task") or DEFAULT_TASK


def check_same_task(candidate: ModelVersion, running: ModelVersion, *, env: str) -> None:
    """Refuse to let ``candidate`` replace ``running`` in ``env`` when their tasks differ.

    Everything downstream of a model name (its serving outputs, prediction
    logs, monitoring reference and policies) follows one task; a model that
    changes task is a new model.
    """
    if candidate.task is None or running.task is None or candidate.task == running.task:
        return
    raise RegistryError(
        f"{candidate.model} {candidate.version} is a {candidate.task} model but "
        f"{running.version}, running in {env}, is a {running.task} one; a model that changes "
        "task is a new model: register it under a new model name (its own entry of "
        "'artifacts:' in dvc.yaml)"
    )


def family_of(params: Mapping[str, Any]) -> str | None:
    """Return the model family a registration records: its ``model.family`` param."""
    return _recorded_param(params, "model", "family")


def label_of(params: Mapping[str, Any]) -> str | None:
    """Return the label column a registration records: its ``data.label`` param."""
    return _recorded_param(params, "data", "label")


def _recorded_param(params: Mapping[str, Any], section: str, key: str) -> str | None:
    """Return the text param ``section.key`` of a registration's params, or None.

    ``params`` is the registration's (``dvc.lock``'s) params per file, each keyed
    as ``dvc.yaml`` lists it: flat (``"data.label"``) or nested (``"data"``).
    """
    for values in params.values():
        if not isinstance(values, Mapping):
            continue
        if isinstance(values.get(f"{section}.{key}"), str):
            return str(values[f"{section}.{key}"])
        nested = values.get(section)
        if isinstance(nested, Mapping) and isinstance(nested.get(key), str):
            return str(nested[key])
    return None


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
        value, _ = _DECODER.raw_decode(message, start + 1)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def format_message(subject: str, metadata: dict[str, Any]) -> str:
    """Return a tag message: a subject line, the JSON metadata and the artifact trailers.

    The trailers (``Mlops-Artifact-Path``, ``Mlops-Artifact-Md5``) repeat the
    artifact so that a listing of thousands of versions reads them without
    parsing every message.
    """
    text = f"{subject}\n\n{json.dumps(metadata, indent=2, sort_keys=True)}\n"
    artifact = metadata.get("artifact")
    if isinstance(artifact, dict) and artifact.get("md5"):
        text += f"\nMlops-Artifact-Path: {artifact.get('path', '')}\n"
        text += f"Mlops-Artifact-Md5: {artifact['md5']}\n"
    return text


def read_tags(
    root: str | os.PathLike[str] = ".",
    models: Sequence[str] | None = None,
    *,
    with_metadata: bool = True,
) -> list[VersionTag]:
    """Read the registry tags (of ``models``) with one ``for-each-ref``.

    Without ``with_metadata`` only the trailers of the messages are read:
    enough for names, dates and artifacts, and much less to parse.
    Lightweight tags are ignored, as GTO does.
    """
    patterns = [f"refs/tags/{m}@*" for m in models] if models is not None else ["refs/tags/"]
    if not patterns:
        return []
    fmt = TAG_FORMAT if with_metadata else SUMMARY_FORMAT
    records = scm.git_records(
        "for-each-ref", f"--format={fmt}", *patterns, cwd=root, separator="\x1e\n"
    )
    tags: list[VersionTag] = []
    for record in records:
        fields = record.split("\x1f")
        if len(fields) < len(_FIELDS) or fields[1] != "tag":
            continue
        parsed = parse_tag_name(fields[0])
        if parsed is None:
            continue
        tags.append(_version_tag(fields, parsed))
    return tags


def list_tag_refs(root: str | os.PathLike[str] = ".") -> set[tuple[str, str]]:
    """Return ``(model, version)`` of every registration tag name (refs only: the cheapest read)."""
    out = scm.git("for-each-ref", "--format=%(refname:strip=2)", "refs/tags/", cwd=root)
    names = (parse_tag_name(line) for line in out.splitlines())
    return {(n[0], n[1]) for n in names if n is not None and n[2] == "register"}


def _version_tag(fields: list[str], parsed: tuple[str, str, Mark]) -> VersionTag:
    name, _, tag_object, commit, tagger, email, date, trailer_text, *message = fields
    model, version, mark = parsed
    trailers: dict[str, str] = {}
    for line in trailer_text.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith("Mlops-"):
            trailers[key] = value.strip()
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
        metadata=parse_metadata(message[0]) if message else None,
        trailers=trailers,
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
    import difflib

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
