"""``mlops sbom``: the CycloneDX 1.6 bill of materials of a registered version.

The document describes the version as a ``machine-learning-model`` component
(its artifact's MD5 and, when known, SHA-256; its task and family; a model
card with its training datasets and metrics), every training dataset of the
registration as a ``data`` component with its DVC hash, and every package of
the lock file committed with it as a ``library`` with its ``pkg:pypi`` URL.
It is built with the CycloneDX Python library, validated against the 1.6
JSON schema that library bundles (offline), and attached to the registration
tag object as a git note (``refs/notes/sbom``). The serial number and time
derive from the tag, so a version's document is the same every time.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_gitops import scm
from mlops_gitops.documents import parse_json
from mlops_gitops.registry.versions import ModelVersion, family_of, task_of
from mlops_gitops.supply import SupplyError

if TYPE_CHECKING:
    from cyclonedx.model.component import Component

log = logging.getLogger(__name__)
SBOM_REF = "refs/notes/sbom"
DEFAULT_LOCK = "requirements/lock.txt"
SPEC_VERSION = "1.6"


@dataclass(frozen=True, kw_only=True)
class Sbom:
    """A validated bill of materials of one version, and what it counts."""

    model: str
    version: str
    tag: str
    document: dict[str, Any]
    packages: int
    datasets: int

    def text(self) -> str:
        """Return the document as JSON text (what the note holds)."""
        return json.dumps(self.document, indent=2, sort_keys=True) + "\n"


def build_sbom(
    root: str | os.PathLike[str], model: str, version: str, *, lock: str = DEFAULT_LOCK
) -> Sbom:
    """Return the validated SBOM of ``model`` ``version``.

    Raises:
        RegistryError: the version is not registered.
        SupplyError: the lock file is not committed with it, or the document does not validate.
        DependencyMissingError: the ``supply`` extra is not installed.
    """
    from mlops_gitops.registry.state import find_version

    registered = find_version(root, model, version)
    packages = locked_packages(root, registered.commit, lock)
    document = _document(root, registered, packages)
    validate_sbom(document, f"the SBOM of {registered.tag}")
    return Sbom(
        model=model,
        version=version,
        tag=registered.tag,
        document=document,
        packages=len(packages),
        datasets=len(registered.data or {}),
    )


def locked_packages(root: str | os.PathLike[str], commit: str, lock: str) -> list[tuple[str, str]]:
    """Return ``(name, version)`` of every ``name==version`` line of ``lock`` at ``commit``.

    Raises:
        SupplyError: the lock file is not committed there, or a line pins no exact version.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    text = scm.show_file(commit, lock, root)
    if text is None:
        raise SupplyError(f"{lock}: not committed at {commit[:8]}; give the lock file (--lock)")
    packages: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise SupplyError(f"{lock}:{number}: not a requirement ({exc})") from exc
        pins = [s.version for s in requirement.specifier if s.operator == "=="]
        if len(pins) != 1:
            raise SupplyError(f"{lock}:{number}: '{line}' pins no exact version (name==version)")
        packages.append((requirement.name, pins[0]))
    return packages


def _document(
    root: str | os.PathLike[str], registered: ModelVersion, packages: list[tuple[str, str]]
) -> dict[str, Any]:
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    bom = Bom(serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"mlops:{registered.tag_object}"))
    bom.metadata.timestamp = datetime.fromisoformat(registered.registered_at)
    model = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=registered.model,
        version=registered.version,
        bom_ref=f"model:{registered.tag}",
        hashes=[
            HashType(alg=HashAlgorithm(alg), content=value)
            for alg, value in _hashes(root, registered)
        ],
        properties=[Property(name=f"mlops:{k}", value=v) for k, v in _model_properties(registered)],
    )
    bom.metadata.component = model
    datasets, libraries = _datasets(registered), _libraries(packages)
    bom.components.update([*datasets, *libraries])
    bom.register_dependency(model, [*datasets, *libraries])
    document: dict[str, Any] = parse_json(
        JsonV1Dot6(bom).output_as_string(), "the CycloneDX output", error=SupplyError
    )
    document["metadata"]["component"]["modelCard"] = _model_card(registered)
    return document


def _datasets(registered: ModelVersion) -> list[Component]:
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.component import Component, ComponentType

    return [
        Component(
            type=ComponentType.DATA,
            name=path,
            bom_ref=f"data:{path}",
            hashes=[HashType(alg=HashAlgorithm.MD5, content=md5)],
        )
        for path, md5 in sorted((registered.data or {}).items())
    ]


def _libraries(packages: list[tuple[str, str]]) -> list[Component]:
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    purls = [PackageURL(type="pypi", name=name, version=pinned) for name, pinned in packages]
    return [
        Component(
            type=ComponentType.LIBRARY,
            name=purl.name,
            version=purl.version,
            purl=purl,
            bom_ref=purl.to_string(),
        )
        for purl in purls
    ]


def _hashes(root: str | os.PathLike[str], registered: ModelVersion) -> list[tuple[str, str]]:
    """Return the artifact's MD5, and its SHA-256: the signed one, else from the DVC cache."""
    from mlops_gitops import pipeline
    from mlops_gitops.digest import file_md5, file_sha256

    artifact = registered.artifact
    if artifact is None or artifact.md5.endswith(".dir"):
        return []
    sha256 = artifact.sha256
    cached = pipeline.cache_object_path(root, artifact.md5)
    if sha256 is None and cached.is_file() and file_md5(cached) == artifact.md5:
        sha256 = file_sha256(cached)
    return [("MD5", artifact.md5), *([("SHA-256", sha256)] if sha256 else [])]


def _model_properties(registered: ModelVersion) -> list[tuple[str, str]]:
    params = registered.params or {}
    found = [("task", task_of(params)), ("family", family_of(params) or "unknown")]
    found += [("commit", registered.commit), ("tag", registered.tag)]
    if registered.artifact is not None:
        found.append(("artifact", registered.artifact.path))
    return found


def _model_card(registered: ModelVersion) -> dict[str, Any]:
    params = registered.params or {}
    metrics = [
        {"type": name, "value": repr(value)} for name, value in _numbers(registered.metrics or {})
    ]
    card: dict[str, Any] = {
        "modelParameters": {
            "task": task_of(params),
            "architectureFamily": family_of(params) or "unknown",
            "datasets": [{"ref": f"data:{path}"} for path in sorted(registered.data or {})],
        },
    }
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    return card


def _numbers(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []
    for key, value in sorted(tree.items()):
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            found += _numbers(value, f"{name}:" if not prefix else f"{name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found.append((name, float(value)))
    return found


def validate_sbom(document: dict[str, Any], origin: str) -> None:
    """Validate ``document`` against the bundled CycloneDX 1.6 JSON schema.

    Raises:
        SupplyError: it does not validate (the message names the failing field).
    """
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    if error is not None:
        data = error.data
        where = "/".join(str(p) for p in getattr(data, "absolute_path", ())) or "(document)"
        message = getattr(data, "message", str(data))
        raise SupplyError(f"{origin}: not valid CycloneDX {SPEC_VERSION} at {where}: {message}")


def attach_sbom(root: str | os.PathLike[str], sbom: Sbom, tag_object: str) -> None:
    """Attach the document to the registration tag object as a note under ``refs/notes/sbom``."""
    from mlops_gitops.forge.notes import write_note

    write_note(root, SBOM_REF, tag_object, sbom.text(), message=f"mlops: SBOM of {sbom.tag}")


@dataclass(frozen=True, kw_only=True)
class SbomSummary:
    """What a model card shows of an attached SBOM."""

    spec: str
    serial: str
    hashes: tuple[tuple[str, str], ...]
    datasets: int
    packages: int
    ref: str = SBOM_REF


def summarize(document: dict[str, Any]) -> SbomSummary:
    """Return the card's summary of an SBOM document."""
    components = document.get("components") or []
    model = (document.get("metadata") or {}).get("component") or {}
    return SbomSummary(
        spec=str(document.get("specVersion", "?")),
        serial=str(document.get("serialNumber", "")),
        hashes=tuple((str(h["alg"]), str(h["content"])) for h in model.get("hashes") or []),
        datasets=sum(1 for c in components if c.get("type") == "data"),
        packages=sum(1 for c in components if c.get("type") == "library"),
    )


def read_sbom_notes(root: str | os.PathLike[str]) -> dict[str, SbomSummary]:
    """Return the summary of every attached SBOM, by registration tag object (one git read)."""
    found: dict[str, SbomSummary] = {}
    for tag_object, text in scm.read_notes(SBOM_REF, root).items():
        try:
            document = parse_json(text, f"{SBOM_REF} note of {tag_object}", error=SupplyError)
        except SupplyError as exc:
            log.warning("%s; ignored", exc)
            continue
        if isinstance(document, dict):
            found[tag_object] = summarize(document)
    return found


def write_sbom(
    root: str | os.PathLike[str],
    model: str,
    version: str,
    *,
    lock: str = DEFAULT_LOCK,
    output: Path | None = None,
) -> Sbom:
    """Build and validate the SBOM, attach it to the tag, and write it to ``output`` if given."""
    from mlops_gitops.registry.state import find_version
    from mlops_gitops.roundtrip import write_atomic

    sbom = build_sbom(root, model, version, lock=lock)
    attach_sbom(root, sbom, find_version(root, model, version).tag_object)
    if output is not None:
        write_atomic(output, sbom.text())
    return sbom
