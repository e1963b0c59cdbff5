"""Everything the site shows, read from the repository in a fixed number of git calls.

The registry (versions, environments, history), the audit events, and the
files each version's commit holds (``dvc.yaml``, the plot files,
``reports/validation.json``, the ``reports/explain/`` folder) are read with
batched calls (``for-each-ref``, ``git log``, ``cat-file --batch``): the
number of git processes does not grow with the number of versions. The
work tree gives the hand-written model documentation (``docs/models/``)
and the monitoring history (``monitoring/<env>/history.jsonl``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops_gitops import scm
from mlops_gitops.audit import AuditEvent, collect_events
from mlops_gitops.audit.sources import ApprovalRecord, read_approvals
from mlops_gitops.documents import parse_json, parse_yaml
from mlops_gitops.errors import ConfigError, MlopsError
from mlops_gitops.registry import Deployment, ModelVersion, RegistryState, VersionTag, load_state

log = logging.getLogger(__name__)

VALIDATION_FILE = "reports/validation.json"
EXPLAIN_DIR = "reports/explain"
MODEL_DOCS = "docs/models"
# The sections of a hand-written model page that a model card shows, by their accepted titles.
DOC_SECTIONS = {
    "intended": ("intended use", "intended uses", "primary intended uses"),
    "out_of_scope": ("out-of-scope uses", "out-of-scope use", "out of scope uses"),
    "limitations": ("limitations", "caveats and recommendations"),
    "ethics": ("ethical considerations", "ethics"),
}
MONITORING_DIR = "monitoring"
# the plot files (path -> DVC options) and the artifacts (name -> entry) of a dvc.yaml
Spec = tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]
_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PlotFile:
    """One plot file of a version: its path, its DVC options and its records."""

    path: str
    options: dict[str, Any]
    records: list[dict[str, Any]]


@dataclass(frozen=True)
class VersionFiles:
    """The files of one version's commit that its model card shows."""

    plots: tuple[PlotFile, ...] = ()
    validation: dict[str, Any] | None = None
    explain: dict[str, bytes] = field(default_factory=dict)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SiteData:
    """The repository as the site shows it."""

    root: Path
    head: str
    now: datetime
    state: RegistryState
    versions: list[ModelVersion]
    tags: dict[str, VersionTag]
    events: list[AuditEvent]
    deployments: list[Deployment]
    files: dict[str, VersionFiles]
    approvals: list[ApprovalRecord]
    monitoring: dict[str, list[dict[str, Any]]]
    model_docs: dict[str, dict[str, str]]
    problems: tuple[str, ...] = ()

    def versions_of(self, model: str) -> list[ModelVersion]:
        """Return the versions of ``model``, newest first."""
        return [v for v in reversed(self.versions) if v.model == model]


def read_site_data(root: str | os.PathLike[str], *, now: datetime) -> SiteData:
    """Read everything the site shows from the repository at ``root`` (HEAD)."""
    path = Path(root)
    state, deployments, problems = _read_registry(path)
    versions = state.versions()
    tags = {t.name: t for t in state.tags if t.mark == "register"}
    models: dict[str, set[str]] = {}
    for version in versions:
        models.setdefault(version.commit, set()).add(version.model)
    return SiteData(
        root=path,
        head=state.snapshot.rev,
        now=now,
        state=state,
        versions=versions,
        tags=tags,
        events=collect_events(state),
        deployments=deployments,
        files=read_version_files(path, models),
        approvals=read_approvals(path),
        monitoring=read_monitoring(path, state.environments.order),
        model_docs=read_model_docs(path, state.models()),
        problems=problems,
    )


def _read_registry(path: Path) -> tuple[RegistryState, list[Deployment], tuple[str, ...]]:
    """Read the registry; if it cannot be read, an empty one and the reason (the site shows it)."""
    from mlops_gitops.registry import resolve_at, status

    try:
        return load_state(path, with_history=True), status(path), ()
    except MlopsError as exc:
        log.info("the registry cannot be read: %s", exc)
        from mlops_gitops.manifests.schema import Environments

        empty = Environments.model_construct(environments={})
        state = RegistryState(
            root=path,
            snapshot=resolve_at(path),
            environments=empty,
            manifests={},
            tags=[],
            events=[],
        )
        return state, [], (f"the registry cannot be read: {exc}",)


def read_version_files(root: Path, models: dict[str, set[str]]) -> dict[str, VersionFiles]:
    """Return the card files of each commit (for the models registered on it).

    One ``cat-file --batch`` reads the ``dvc.yaml`` files, one the plots and
    reports, and one per folder level the explanation reports.
    """
    commits = sorted(models)
    parsed: dict[bytes, Spec] = {}
    specs: dict[str, Spec] = {}
    for commit, content in _blobs(root, commits, "dvc.yaml").items():
        if content not in parsed:
            parsed[content] = _dvc_yaml(content)
        specs[commit] = parsed[content]
    names: list[str] = []
    for commit in commits:
        declared, shared = specs.get(commit, ({}, {}))
        mine = _own_plots(declared, models[commit], shared=len(shared) > 1)
        names += [f"{commit}:{p}" for p in mine]
        names += [f"{commit}:{VALIDATION_FILE}", f"{commit}:{EXPLAIN_DIR}"]
    found = {n: (kind, data) for n, kind, data in scm.cat_file_batch(names, root)}
    trees = {
        c: found[f"{c}:{EXPLAIN_DIR}"][1]
        for c in commits
        if found.get(f"{c}:{EXPLAIN_DIR}", ("", None))[0] == "tree"
    }
    explain = read_trees(root, trees)
    result: dict[str, VersionFiles] = {}
    for commit in commits:
        plots_spec, artifacts = specs.get(commit, ({}, {}))
        plots = tuple(
            PlotFile(path, options, records)
            for path, options in plots_spec.items()
            if f"{commit}:{path}" in found
            and (records := _records(found.get(f"{commit}:{path}"))) is not None
        )
        validation = _json(found.get(f"{commit}:{VALIDATION_FILE}"))
        result[commit] = VersionFiles(
            plots=plots,
            validation=validation if isinstance(validation, dict) else None,
            explain=explain.get(commit, {}),
            artifacts=artifacts,
        )
    return result


def own_paths(paths: Iterable[str], model: str, *, shared: bool) -> list[str]:
    """Return the files of ``model`` among ``paths``.

    In a project with one artifact every file is its own; with several
    (``shared``), the files whose path names the model (``metrics/churn.json``,
    ``plots/churn/roc.json``), or all of them when no path names it.
    """
    found = list(paths)
    if not shared:
        return found
    mine = [p for p in found if f"/{model}/" in f"/{p}" or f"/{model}." in f"/{p}"]
    return mine or found


def _own_plots(plots: dict[str, Any], models: set[str], *, shared: bool) -> list[str]:
    return sorted({p for model in models for p in own_paths(plots, model, shared=shared)})


def _blobs(root: Path, commits: list[str], path: str) -> dict[str, bytes]:
    names = [f"{c}:{path}" for c in commits]
    return {
        name.partition(":")[0]: data
        for name, kind, data in scm.cat_file_batch(names, root)
        if kind == "blob" and data is not None
    }


def _dvc_yaml(content: bytes) -> Spec:
    """Return the plot files (path -> options) and the artifacts that a ``dvc.yaml`` declares."""
    try:
        data = parse_yaml(content, "dvc.yaml") or {}
    except ConfigError as exc:
        log.warning("%s (a registered commit's); its plots are left out", exc)
        data = {}
    plots: dict[str, dict[str, Any]] = {}
    for stage in (data.get("stages") or {}).values():
        for entry in (stage or {}).get("plots") or []:
            items = entry.items() if isinstance(entry, dict) else [(entry, {})]
            plots.update({str(p): dict(o or {}) for p, o in items})
    artifacts = {str(k): dict(v or {}) for k, v in (data.get("artifacts") or {}).items()}
    return plots, artifacts


def _json(found: tuple[str, bytes | None] | None) -> Any:
    if found is None or found[0] != "blob" or not found[1]:
        return None
    try:
        return parse_json(found[1], "a version's file")
    except ConfigError:  # a report a commit holds that is not JSON is not shown
        return None


def _records(found: tuple[str, bytes | None] | None) -> list[dict[str, Any]] | None:
    value = _json(found)
    if isinstance(value, dict):  # DVC also accepts {"name": [records]}
        value = next((v for v in value.values() if isinstance(v, list)), None)
    if not isinstance(value, list) or not value:
        return None
    return [r for r in value if isinstance(r, dict)]


def read_trees(root: Path, trees: dict[str, bytes | None]) -> dict[str, dict[str, bytes]]:
    """Return the files under each raw tree object (key -> {relative path: content}).

    Subtrees and blobs are read level by level, one ``cat-file --batch`` per level.
    """
    pending: list[tuple[str, str, bytes]] = [(k, "", d) for k, d in trees.items() if d]
    files: dict[str, dict[str, bytes]] = {k: {} for k in trees}
    while pending:
        wanted: dict[str, list[tuple[str, str, str]]] = {}
        for key, prefix, raw in pending:
            for mode, name, sha in _tree_entries(raw):
                kind = "tree" if mode.startswith("4") else "blob"
                wanted.setdefault(sha, []).append((key, f"{prefix}{name}", kind))
        pending = []
        for sha, kind, data in scm.cat_file_batch(sorted(wanted), root):
            for key, rel, expected in wanted[sha]:
                if data is None or kind != expected:
                    continue
                if kind == "tree":
                    pending.append((key, f"{rel}/", data))
                else:
                    files[key][rel] = data
    return files


def _tree_entries(raw: bytes) -> Iterable[tuple[str, str, str]]:
    pos = 0
    while pos < len(raw):
        space = raw.index(b" ", pos)
        nul = raw.index(b"\0", space)
        mode, name = raw[pos:space].decode(), raw[space + 1 : nul].decode()
        yield mode, name, raw[nul + 1 : nul + 21].hex()
        pos = nul + 21


def read_monitoring(root: Path, envs: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Return the monitoring history lines of each environment that has one."""
    found: dict[str, list[dict[str, Any]]] = {}
    for env in envs:
        path = root / MONITORING_DIR / env / "history.jsonl"
        if not path.is_file():
            continue
        from mlops_gitops.monitoring.history import read_history

        found[env] = read_history(path)
    return found


def read_model_docs(root: Path, models: list[str]) -> dict[str, dict[str, str]]:
    """Return the sections of each hand-written ``docs/models/<model>.md`` (lower-case titles)."""
    docs: dict[str, dict[str, str]] = {}
    for model in models:
        path = root / MODEL_DOCS / f"{model}.md"
        if path.is_file():
            docs[model] = split_sections(path.read_text(encoding="utf-8"))
    return docs


def split_sections(text: str) -> dict[str, str]:
    """Split Markdown at its ``##`` headings: {lower-case title: body}; the lead is ``""``."""
    sections: dict[str, str] = {}
    matches = list(_HEADING.finditer(text))
    lead = text[: matches[0].start()] if matches else text
    sections[""] = "\n".join(line for line in lead.splitlines() if not line.startswith("# "))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        sections[match[1].strip().lower()] = text[match.end() : end].strip()
    return {k: v.strip() for k, v in sections.items()}
