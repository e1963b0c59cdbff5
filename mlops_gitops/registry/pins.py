"""Manifest pins against registrations: does each pinned artifact match its version's tag?

A manifest pins every version it runs (the serving version, a canary
candidate, each A/B variant) by artifact path and md5; the registration tag
``MODEL@VERSION`` records the artifact the version was registered with. The
two must agree, or a manifest edit could run bytes nobody registered.
Registrations are read with one ``git for-each-ref`` (the tags' trailers).
Callers pass the manifests they then act on, so the check and the use read
the same text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mlops_gitops.manifests.conventions import manifest_path
from mlops_gitops.manifests.schema import Manifest
from mlops_gitops.registry.versions import ArtifactRef, RegistryError, read_tags, tag_name


@dataclass(frozen=True, kw_only=True)
class PinCheck:
    """One pinned artifact of a manifest, with the artifact its registration records."""

    env: str
    manifest: str
    model: str
    version: str
    route: str
    path: str
    md5: str
    registered: ArtifactRef | None

    @property
    def ok(self) -> bool:
        """Whether the registration records this very path and md5."""
        found = self.registered
        return found is not None and (found.path, found.md5) == (self.path, self.md5)

    def describe(self) -> str:
        """Return the one-line reason of a mismatch (``manifest model: version pins ...``)."""
        where = f"{self.manifest} models.{self.model} ({self.route})"
        tag = tag_name(self.model, self.version)
        if self.registered is None:
            return (
                f"{where}: {self.version} is not registered (no tag {tag}); pinned md5 "
                f"{self.md5}, registered md5 none; run 'mlops registry list {self.model}'"
            )
        return (
            f"{where}: {self.version} pins {self.path} md5 {self.md5} but its registration "
            f"(tag {tag}) records {self.registered.path} md5 {self.registered.md5}; "
            "pin the registered artifact (mlops promote writes it)"
        )


def compare_pins(
    root: str | os.PathLike[str], manifests: Mapping[str, Manifest]
) -> tuple[PinCheck, ...]:
    """Compare every pin of ``manifests`` (environment -> manifest) with the registrations.

    Raises:
        ScmError: the registry tags cannot be read (not a Git repository).
    """
    models = sorted({m for manifest in manifests.values() for m in manifest.models})
    registered: dict[tuple[str, str], ArtifactRef | None] = {}
    for tag in read_tags(root, models, with_metadata=False) if models else []:
        if tag.mark != "register":
            continue
        artifact = tag.artifact()
        key = (tag.model, tag.version)
        # two registrations of one version that disagree: neither vouches for a pin
        if key in registered and registered[key] != artifact:
            artifact = ArtifactRef("", "(registrations disagree)")
        registered[key] = artifact
    return tuple(
        PinCheck(
            env=env,
            manifest=manifest_path(env),
            model=model,
            version=route.version,
            route=route.name,
            path=route.artifact.path,
            md5=route.artifact.md5,
            registered=_without_size(registered.get((model, route.version))),
        )
        for env, manifest in manifests.items()
        for model, deployment in sorted(manifest.models.items())
        for route in deployment.routes()
    )


def _without_size(artifact: ArtifactRef | None) -> ArtifactRef | None:
    return None if artifact is None else ArtifactRef(artifact.path, artifact.md5)


def check_pins(root: str | os.PathLike[str], env: str, manifest: Manifest) -> tuple[PinCheck, ...]:
    """Return the pins of ``env``'s ``manifest`` when every one matches its registration.

    Raises:
        RegistryError: a pin differs from its registration, or its version is not
            registered; the message names the manifest, model, version and both hashes.
        ScmError: the registry tags cannot be read.
    """
    checks = compare_pins(root, {env: manifest})
    for check in checks:
        if not check.ok:
            raise RegistryError(check.describe())
    return checks
