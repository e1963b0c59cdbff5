"""Real-time validation of requests against the training schema of each served version.

At model-set load (off the request path) :func:`add_input_checks` resolves
the input schema of every loaded version once, from the reference data of
its registration (``monitoring.reference``, read by content hash through
:func:`mlops_gitops.monitoring.reference.resolve_input_schema`), and attaches
an :class:`InputCheck` to it. A version whose schema cannot be resolved is
served unchecked: the reason goes to a log line and to the readiness details
(``validation.versions``); the load never fails because of it.

Per request, :meth:`InputCheck.check` screens the decoded rows with one
vectorised range test over all numeric features and a set lookup per
categorical value (a few microseconds); only the features it flags are
handed to :func:`~mlops_gitops.monitoring.input_schema.validate_batch`, whose
counts per (column, kind) the server adds to ``mlops_input_violations_total``. With
``monitoring.validation.reject`` the request is then refused with a 422 that
names the first offending field and row; with ``enabled: false`` nothing is
checked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlops_gitops.errors import MlopsError, format_chain
from mlops_gitops.serving.codec import RequestError
from mlops_gitops.serving.model import Rows, VersionSession
from mlops_gitops.serving.modelset import ModelSet, ServedModel
from mlops_gitops.serving.plan import ServingPlan, ValidationSettings

if TYPE_CHECKING:
    from mlops_gitops.monitoring.input_schema import BatchValidation, InputSchema

logger = logging.getLogger(__name__)

SchemaResolver = Callable[[Path, VersionSession, ValidationSettings], "InputSchema"]
SchemaKey = tuple[str, str, str, str, float]
# How a violation reads in a 422 (``{value}``: the offending value, ``{column}``: the feature).
KIND_TEXT = {
    "missing_column": "'{column}' is missing from the request",
    "unknown_column": "'{column}' is not an input of the training schema",
    "type": "{value} for '{column}' is not a number",
    "missing": "no value for '{column}', which the training data always had",
    "out_of_range": "{value} for '{column}' is outside the training range",
    "unknown_category": "{value} for '{column}' is a category the training data never had",
}


@dataclass(frozen=True, kw_only=True)
class InputCheck:
    """The training schema of one version, compiled for the request path.

    ``low``/``high``/``nullable`` are aligned to the rows of the version's
    numeric matrix (:class:`~mlops_gitops.serving.model.Rows`, features
    ``numeric``); ``allowed`` holds, per categorical feature, the values that
    cannot violate. The screen is exact per feature, so only the features it
    flags go to ``validate_batch``. When the schema's kinds differ from the
    model's inputs (``exact`` false) every batch goes to ``validate_batch`` whole.
    """

    schema: InputSchema
    reject: bool
    numeric: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    nullable: np.ndarray
    allowed: tuple[tuple[str, frozenset[str]], ...]
    exact: bool

    def check(self, rows: Rows) -> BatchValidation | None:
        """Return the violations of ``rows``, or None when there is none."""
        suspects = self._suspects(rows) if self.exact else set(self.schema.names)
        if not suspects:
            return None
        from mlops_gitops.monitoring.input_schema import InputSchema, validate_batch

        schema: InputSchema = self.schema
        columns: Mapping[str, np.ndarray] = rows
        if self.exact:  # only the flagged features: the screen is exact for the others
            features = tuple(f for f in schema.features if f.name in suspects)
            schema = InputSchema.model_construct(features=features)
            columns = {name: rows[name] for name in schema.names}
        found = validate_batch(schema, columns)
        return None if found.ok else found

    def _suspects(self, rows: Rows) -> set[str]:
        """Return the features of ``rows`` that may violate the schema (usually none)."""
        suspects: set[str] = set()
        numeric = rows.numeric
        if self.low.size:
            inside = (numeric >= self.low) & (numeric <= self.high)
            if not inside.all():
                fine = (inside | (self.nullable & np.isnan(numeric))).all(axis=1)
                suspects.update(self.numeric[i] for i in np.flatnonzero(~fine))
        categorical = rows.categorical
        for name, allowed in self.allowed:
            try:
                if not allowed.issuperset(categorical[name]):
                    suspects.add(name)
            except TypeError:  # an unhashable value: let validate_batch name it
                suspects.add(name)
        return suspects


def compile_check(schema: InputSchema, model: VersionSession, *, reject: bool) -> InputCheck:
    """Compile ``schema`` for the inputs of ``model``."""
    kinds = {f.name: f.kind for f in model.schema.features}
    by_name = {f.name: f for f in schema.features}
    exact = kinds == {f.name: f.kind for f in schema.features}
    numeric = tuple(model.schema.numeric_index) if exact else ()
    low = [by_name[n].minimum for n in numeric]
    high = [by_name[n].maximum for n in numeric]
    allowed = tuple(
        (f.name, _allowed_values(f.categories, nullable=f.nullable))
        for f in schema.features
        if exact and f.kind == "categorical"
    )
    return InputCheck(
        schema=schema,
        reject=reject,
        numeric=numeric,
        low=_column([-np.inf if v is None else v for v in low]),
        high=_column([np.inf if v is None else v for v in high]),
        nullable=_column([by_name[n].nullable for n in numeric]).astype(bool),
        allowed=allowed,
        exact=exact,
    )


def _column(values: Sequence[float | bool]) -> np.ndarray:
    return np.array(values, dtype=np.float64).reshape(-1, 1)


def _allowed_values(categories: Sequence[str], *, nullable: bool) -> frozenset[str]:
    # The empty string is the export contract's missing category: allowed only when nullable.
    from mlops_gitops.contract import MISSING_CATEGORY

    values = set(categories) - {MISSING_CATEGORY}
    return frozenset(values | {MISSING_CATEGORY} if nullable else values)


def resolve_from_registry(
    root: Path, model: VersionSession, settings: ValidationSettings
) -> InputSchema:
    """Return the input schema of a registered version from its reference data (by hash)."""
    from mlops_gitops.monitoring.config import MonitoringConfig
    from mlops_gitops.monitoring.reference import resolve_input_schema

    config = MonitoringConfig.model_validate(
        {"reference": settings.reference, "quality": {"range_tolerance": settings.range_tolerance}}
    )
    return resolve_input_schema(
        root, model.name, model.version, features=model.schema.names, config=config
    )


def add_input_checks(
    models: ModelSet,
    plan: ServingPlan,
    *,
    resolve: SchemaResolver | None = None,
    cache: MutableMapping[SchemaKey, InputSchema] | None = None,
) -> ModelSet:
    """Return ``models`` with each version's :class:`InputCheck` (where its schema resolves).

    ``cache`` keeps resolved schemas between reloads (keyed by model,
    version, artifact hash and the settings that shape the schema); a
    failure is not cached, so the next reload tries again.
    """
    settings = plan.settings.validation
    if not settings.enabled:
        return models
    schemas = _SchemaSource(plan.root, settings, resolve or resolve_from_registry, cache)
    reject = settings.reject
    status: dict[str, Mapping[str, object]] = {}
    served: dict[str, ServedModel] = {}
    for name, model in models.models.items():
        versions = {}
        for version, loaded in model.versions.items():
            schema, status[f"{name}@{version}"] = schemas.find(loaded)
            check = None if schema is None else compile_check(schema, loaded, reject=reject)
            versions[version] = replace(loaded, input_check=check)
        served[name] = replace(model, versions=versions)
    return replace(models, models=served, validation=status)


@dataclass(frozen=True)
class _SchemaSource:
    root: Path
    settings: ValidationSettings
    resolve: SchemaResolver
    cache: MutableMapping[SchemaKey, InputSchema] | None

    def find(self, loaded: VersionSession) -> tuple[InputSchema | None, Mapping[str, object]]:
        """Return the schema of ``loaded`` (or None) and its readiness entry."""
        settings = self.settings
        key = (
            loaded.name,
            loaded.version,
            loaded.md5,
            settings.reference,
            settings.range_tolerance,
        )
        schema = None if self.cache is None else self.cache.get(key)
        if schema is not None:
            return schema, {"validated": True}
        what = f"{loaded.name}@{loaded.version}"
        try:
            schema = self.resolve(self.root, loaded, settings)
        except MlopsError as exc:  # not registered, data not fetchable, not readable
            reason = format_chain(exc)
            logger.warning("%s serves without input validation: %s", what, reason)
            return None, {"validated": False, "reason": reason}
        # Validation is an addition to serving: even a bug in resolving a schema must leave
        # the version served (unchecked); the traceback goes to the log.
        except Exception as exc:
            logger.exception("%s serves without input validation: internal error", what)
            return None, {"validated": False, "reason": f"internal error: {exc!r}"}
        if self.cache is not None:
            self.cache[key] = schema
        return schema, {"validated": True}


def rejection(
    found: BatchValidation, rows: Rows, *, check: InputCheck, route: str, payload: Any
) -> RequestError:
    """Return the 422 refusing a batch with violations: the first offending field and row."""
    order = {name: i for i, name in enumerate(check.schema.names)}
    examples = sorted(found.examples, key=lambda v: (v.row or 0, order.get(v.column, -1)))
    tail = f"{len(found.invalid_rows)} of {found.rows} row(s) violate the training schema"
    if not examples:  # a whole column is missing or unknown
        column, kind = next(iter(found.counts))
        field = "inputs" if route == "v2" else "instances"
        text = KIND_TEXT[kind].format(column=column, value="")
        return RequestError(422, f"{field}: {text} ({tail})", field)
    first = examples[0]
    row = first.row or 0
    field = _field(route, payload, first.column, row)
    value = repr(_plain(rows[first.column][row]))
    text = KIND_TEXT[first.kind].format(column=first.column, value=value)
    detail = _expected(check, first.column, first.kind)
    return RequestError(422, f"{field}: {text}{detail} ({tail})", field)


def _plain(value: object) -> object:
    """Return a numpy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _expected(check: InputCheck, column: str, kind: str) -> str:
    feature = next((f for f in check.schema.features if f.name == column), None)
    if feature is None:
        return ""
    if kind == "out_of_range" and feature.minimum is not None and feature.maximum is not None:
        return f" [{feature.minimum:.6g}, {feature.maximum:.6g}]"
    if kind == "unknown_category":
        known = ", ".join(feature.categories[:10])
        more = ", ..." if len(feature.categories) > 10 else ""
        return f" (known: {known}{more})"
    return ""


def _field(route: str, payload: Any, column: str, row: int) -> str:
    if route == "v1":
        return f"instances[{row}].{column}"
    inputs = payload.get("inputs") if isinstance(payload, Mapping) else None
    index = next(
        (
            i
            for i, tensor in enumerate(inputs or ())
            if isinstance(tensor, Mapping) and tensor.get("name") == column
        ),
        0,
    )
    return f"inputs[{index}].data[{row}]"
