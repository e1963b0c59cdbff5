"""The pins evidence: each environment manifest's pins against its versions' registrations.

Everything is read from Git at one revision (the manifests with one
``cat-file --batch``, the registry tags with one ``for-each-ref``), so an
uncommitted edit cannot change the evidence. The bundle's ``pins`` section
lists every pin (serving version, canary candidate, A/B variant) whose
(path, md5) is not the one its ``MODEL@VERSION`` tag records.
"""

from __future__ import annotations

from pathlib import Path

from mlops_gitops import scm
from mlops_gitops.manifests.conventions import ENVIRONMENTS_FILE, envs_dir
from mlops_gitops.manifests.load import read_environments
from mlops_gitops.policies.bundle import PinMismatch, Pins
from mlops_gitops.registry.pins import PinCheck, compare_pins


def collect_pins(root: Path, *, rev: str) -> Pins:
    """Return the pins evidence of every declared environment's manifest at ``rev``.

    A project without ``envs/environments.yaml`` at ``rev`` declares no
    environment, so it pins nothing (zero pins checked).

    Raises:
        ManifestError: a manifest or ``envs/environments.yaml`` at ``rev`` is not valid.
        ScmError: ``rev`` or the registry tags cannot be read.
    """
    if scm.show_file(rev, f"{envs_dir(root, rev)}/{ENVIRONMENTS_FILE}", root) is None:
        return Pins(checked=0, mismatches=[])
    checks = compare_pins(root, read_environments(root, rev=rev))
    return Pins(checked=len(checks), mismatches=[_mismatch(c) for c in checks if not c.ok])


def _mismatch(check: PinCheck) -> PinMismatch:
    registered = check.registered
    return PinMismatch(
        manifest=check.manifest,
        model=check.model,
        version=check.version,
        route=check.route,
        path=check.path,
        md5=check.md5,
        registered_path=registered.path if registered else None,
        registered_md5=registered.md5 if registered else None,
    )
