"""The software supply chain of a model: scans in the gate and a bill of materials.

- :mod:`~mlops_gitops.supply.scan`: ``mlops scan`` and the gate's ``scan``
  evidence: a vulnerability audit of the lock file (pip-audit against an OSV
  service), a static security scan of the project's code (bandit), a scan of
  pickled files for unsafe imports and calls (fickling), and secret detection
  on the changed files (detect-secrets); configured by ``policies/scan.yaml``.
- :mod:`~mlops_gitops.supply.sbom`: ``mlops sbom``, a CycloneDX 1.6 document of
  a registered version (the model, its training data, the locked packages),
  validated offline and attached to the registration tag as a git note.

The scanners and the CycloneDX library are the ``supply`` extra; nothing here
is imported when the CLI starts.
"""

from __future__ import annotations

from mlops_gitops.errors import MlopsError


class SupplyError(MlopsError):
    """A scan cannot run (a tool missing, the OSV service unreachable) or an SBOM is invalid."""
