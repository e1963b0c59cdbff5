"""What a PR report shows, gathered from the work tree, the base branch and the environments.

Reads ``dvc.yaml`` (which files are metrics and plots), the metric files
and ``params.yaml`` in the work tree and at the base revision, both
``dvc.lock`` files (which data changed), ``reports/validation.json``, and
the registry (the version each environment runs, with its metrics).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_gitops import pipeline, scm
from mlops_gitops.documents import parse_json, parse_yaml, read_yaml
from mlops_gitops.errors import ConfigError, MlopsError, PipelineError

log = logging.getLogger(__name__)

VALIDATION_FILE = "reports/validation.json"
DATA_PREFIX = "data/"
Decision = Literal["pass", "warn", "block", "pending", "error", "not evaluated"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Verdict(_Model):
    """The gate's decision as the first line shows it."""

    decision: Decision = "not evaluated"
    summary: str = "the policy gate has not run"
    bundle: str | None = None


class EnvValue(_Model):
    """A metric of the version an environment runs, and the candidate's delta to it."""

    value: float | None = None
    delta: float | None = None


class MetricRow(_Model):
    """One metric: candidate, base branch, each environment."""

    file: str
    name: str
    candidate: float | None = None
    base: float | None = None
    delta: float | None = None
    envs: dict[str, EnvValue] = Field(default_factory=dict)


class EnvColumn(_Model):
    """An environment column: its name and the version it runs (None when empty)."""

    env: str
    version: str | None = None


class ParamChange(_Model):
    """One changed parameter."""

    key: str
    base: str | None
    candidate: str | None
    change: Literal["changed", "added", "removed"]


class DataChange(_Model):
    """A data output of the pipeline whose content changed against the base."""

    path: str
    stage: str
    base_md5: str | None
    candidate_md5: str | None


class ValidationSummary(_Model):
    """The data validation of the candidate (and the base's row count)."""

    dataset: str
    passed: bool
    rows: int | None = None
    base_rows: int | None = None
    summary: str = ""


class PolicyRow(_Model):
    """One policy rule's result."""

    rule: str
    level: str
    outcome: str
    message: str = ""


class StageTime(_Model):
    """How long a pipeline stage took in this run, and whether it ran."""

    stage: str
    seconds: float
    status: Literal["ran", "cached", "unchanged"] = "ran"


class PlotImage(_Model):
    """A plot rendered to an image attachment."""

    name: str
    title: str
    file: str


class RunFacts(_Model):
    """What the run adds to the report: the gate's verdict and rules, stage timings, a link."""

    verdict: Verdict = Field(default_factory=Verdict)
    policies: list[PolicyRow] = Field(default_factory=list)
    stages: list[StageTime] = Field(default_factory=list)
    run_url: str | None = None


class PrReportContext(_Model):
    """Everything the PR report template renders (the report's schema)."""

    branch: str
    sha: str
    base: str
    base_sha: str | None
    verdict: Verdict = Field(default_factory=Verdict)
    env_columns: list[EnvColumn] = Field(default_factory=list)
    metrics: list[MetricRow] = Field(default_factory=list)
    params: list[ParamChange] = Field(default_factory=list)
    data: list[DataChange] = Field(default_factory=list)
    validation: ValidationSummary | None = None
    plots: list[PlotImage] = Field(default_factory=list)
    policies: list[PolicyRow] = Field(default_factory=list)
    stages: list[StageTime] = Field(default_factory=list)
    run_url: str | None = None
    notes: list[str] = Field(default_factory=list)


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted.key, leaf)`` pairs of nested dicts."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), value


def declared_outputs(
    root: str | os.PathLike[str], kind: Literal["metrics", "plots"]
) -> list[tuple[str, dict[str, Any]]]:
    """Return the ``(path, options)`` that ``dvc.yaml``'s stages declare as ``kind``."""
    path = Path(root) / "dvc.yaml"
    data = (read_yaml(path, error=PipelineError) or {}) if path.exists() else {}
    found: list[tuple[str, dict[str, Any]]] = []
    for stage in (data.get("stages") or {}).values():
        for entry in (stage or {}).get(kind) or []:
            if isinstance(entry, str):
                found.append((entry, {}))
            else:
                found.extend((path, dict(opts or {})) for path, opts in entry.items())
    return found


def read_json_at(root: str | os.PathLike[str], path: str, rev: str | None) -> Any:
    """Return JSON file ``path`` of the work tree (``rev`` None) or at ``rev``; None if absent."""
    if rev is None:
        file = Path(root) / path
        text = file.read_text(encoding="utf-8") if file.is_file() else None
    else:
        text = scm.show_file(rev, path, root)
    if text is None:
        return None
    try:
        return parse_json(text, f"{rev}:{path}" if rev else path)
    except ConfigError as exc:
        log.warning("%s; left out of the report", exc)
        return None


def _numbers(data: Any) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in flatten(data or {})
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def collect_metrics(
    root: str | os.PathLike[str], base: str | None, envs: Mapping[str, Mapping[str, Any] | None]
) -> list[MetricRow]:
    """Return one row per numeric metric of the metric files, with base and environment values."""
    rows: list[MetricRow] = []
    for path, _ in declared_outputs(root, "metrics"):
        candidate = _numbers(read_json_at(root, path, None))
        base_values = _numbers(read_json_at(root, path, base)) if base else {}
        env_values = {env: _numbers((m or {}).get(path)) for env, m in envs.items()}
        for name in sorted(candidate.keys() | base_values.keys()):
            value, old = candidate.get(name), base_values.get(name)
            rows.append(
                MetricRow(
                    file=path,
                    name=name,
                    candidate=value,
                    base=old,
                    delta=_delta(value, old),
                    envs={
                        env: EnvValue(value=vals.get(name), delta=_delta(value, vals.get(name)))
                        for env, vals in env_values.items()
                    },
                )
            )
    return rows


def _delta(new: float | None, old: float | None) -> float | None:
    return None if new is None or old is None else new - old


def collect_params(root: str | os.PathLike[str], base: str | None) -> list[ParamChange]:
    """Return the parameters of ``params.yaml`` that differ from the base."""
    params = Path(root) / "params.yaml"
    now = read_yaml(params, error=PipelineError) if params.exists() else None
    text = scm.show_file(base, "params.yaml", root) if base else None
    before = parse_yaml(text, f"{base}:params.yaml", error=PipelineError) if text else None
    current, previous = dict(flatten(now or {})), dict(flatten(before or {}))
    changes: list[ParamChange] = []
    for key in sorted(current.keys() | previous.keys()):
        old, new = previous.get(key), current.get(key)
        if key in previous and key in current and old == new:
            continue
        kind: Literal["changed", "added", "removed"] = (
            "added" if key not in previous else "removed" if key not in current else "changed"
        )
        changes.append(
            ParamChange(
                key=key,
                base=_show(old, key in previous),
                candidate=_show(new, key in current),
                change=kind,
            )
        )
    return changes


def _show(value: Any, present: bool) -> str | None:
    return json.dumps(value, default=str) if present else None


def collect_data_changes(root: str | os.PathLike[str], base: str | None) -> list[DataChange]:
    """Return the pipeline's data outputs whose hash differs between base and candidate."""
    lock = Path(root) / "dvc.lock"
    current = (
        pipeline.parse_lock(lock.read_text(encoding="utf-8"), "dvc.lock") if lock.exists() else {}
    )
    text = scm.show_file(base, "dvc.lock", root) if base else None
    previous = pipeline.parse_lock(text, f"{base}:dvc.lock") if text else {}
    changes: list[DataChange] = []
    for path in sorted(current.keys() | previous.keys()):
        if not path.startswith(DATA_PREFIX):
            continue
        new, old = current.get(path), previous.get(path)
        if new is not None and old is not None and new.md5 == old.md5:
            continue
        stage = new.stage if new is not None else previous[path].stage
        changes.append(
            DataChange(
                path=path,
                stage=stage,
                base_md5=old.md5 if old else None,
                candidate_md5=new.md5 if new else None,
            )
        )
    return changes


def collect_validation(root: str | os.PathLike[str], base: str | None) -> ValidationSummary | None:
    """Return the candidate's data validation outcome (None when the pipeline has none)."""
    current = read_json_at(root, VALIDATION_FILE, None)
    if not isinstance(current, dict):
        return None
    previous = read_json_at(root, VALIDATION_FILE, base) if base else None
    passed = bool(current.get("passed"))
    failures = current.get("failures") or []
    summary = (
        f"all {len(current.get('checks') or [])} checks passed"
        if passed
        else f"{len(failures)} check(s) failed: "
        + "; ".join(f"{f.get('column')} {f.get('check')}" for f in failures[:3])
    )
    return ValidationSummary(
        dataset=str(current.get("dataset", "dataset")),
        passed=passed,
        rows=current.get("rows"),
        base_rows=previous.get("rows") if isinstance(previous, dict) else None,
        summary=summary,
    )


def collect_environments(
    root: str | os.PathLike[str],
) -> tuple[list[EnvColumn], dict[str, Mapping[str, Any] | None]]:
    """Return the environments in promotion order with the metrics of the version each runs.

    The registry is read once. A project without environments or registry yields
    no columns (logged, not an error).
    """
    try:
        from mlops_gitops.registry import load_state

        state = load_state(root)
        columns: list[EnvColumn] = []
        metrics: dict[str, Mapping[str, Any] | None] = {}
        for env in state.environments.order:
            pins = sorted(state.manifests[env].models.items())
            if not pins:
                columns.append(EnvColumn(env=env))
                metrics[env] = None
                continue
            model, pin = pins[0]
            version = state.find(model, pin.version)
            columns.append(EnvColumn(env=env, version=f"{model}@{version.version}"))
            metrics[env] = version.metrics
        return columns, metrics
    except MlopsError as exc:
        log.warning("environments left out of the report: %s", exc)
        return [], {}
