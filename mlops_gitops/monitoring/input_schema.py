"""Input schema of a model and the validation of live inputs against it.

The :class:`InputSchema` is derived from the reference (training) data of a
model version: each feature's kind, whether it may be missing, its observed
range (numeric) or its categories (categorical); the feature itself (name,
kind, categories) is the model contract's :class:`~mlops_gitops.contract.Feature`.
It is a pydantic model, so it can be written next to a model and read back by
the server; the flat form of a feature (``name``, ``kind``, ``categories``
beside ``nullable``, ``minimum``, ``maximum``) reads as well.

:func:`validate_row` (one request, pure Python, microseconds) and
:func:`validate_batch` (columns, numpy) return the violations the serving
path counts and, where the environment's ``monitoring.validation.reject`` is
set, rejects. The kinds of violation:

- ``missing_column``: a feature of the schema is absent from the request;
- ``unknown_column``: a column the schema does not know (identifiers and
  other passthrough columns should be left out of the check by the caller);
- ``type``: a numeric feature whose value is not a number;
- ``missing``: no value (null, NaN, or the empty string of the export
  contract for a category) for a feature the reference never had missing;
- ``out_of_range``: a number outside the reference range (widened by
  ``monitoring.quality.range_tolerance``);
- ``unknown_category``: a category the reference never had.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from mlops_gitops.contract import MISSING_CATEGORY, Feature, FeatureFacts

if TYPE_CHECKING:
    import pandas as pd

ViolationKind = Literal[
    "missing_column", "unknown_column", "type", "missing", "out_of_range", "unknown_category"
]
BoolArray = npt.NDArray[np.bool_]


class FeatureSchema(FeatureFacts):
    """One feature of the contract and what the reference data says about it."""

    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None


class InputSchema(BaseModel):
    """The features a model accepts, in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: tuple[FeatureSchema, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Return the feature names in order."""
        return tuple(f.name for f in self.features)


@dataclass(frozen=True)
class Violation:
    """One value (or column) that does not fit the schema."""

    column: str
    kind: ViolationKind
    row: int | None = None
    value: str | None = None


@dataclass(frozen=True)
class BatchValidation:
    """The violations of a batch: counts per (column, kind), invalid rows, examples."""

    rows: int
    counts: Mapping[tuple[str, ViolationKind], int]
    invalid_rows: tuple[int, ...]
    examples: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        """Return whether the batch has no violation at all."""
        return not self.counts


def infer_schema(
    frame: pd.DataFrame, features: Sequence[str], *, range_tolerance: float = 0.0
) -> InputSchema:
    """Derive the input schema of ``features`` from reference data."""
    from mlops_gitops.monitoring.drift import is_numeric

    schemas = []
    for name in features:
        column = frame[name]
        nullable = bool(column.isna().any())
        if is_numeric(column):
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            low, high = float(np.nanmin(values)), float(np.nanmax(values))
            pad = (high - low) * range_tolerance
            schemas.append(
                FeatureSchema(
                    feature=Feature(name=name, kind="numeric"),
                    nullable=nullable,
                    minimum=low - pad,
                    maximum=high + pad,
                )
            )
        else:
            cats = sorted({str(v) for v in column.dropna().unique()})
            feature = Feature(name=name, kind="categorical", categories=cats)
            schemas.append(FeatureSchema(feature=feature, nullable=nullable))
    return InputSchema(features=tuple(schemas))


def _is_missing(value: object) -> bool:
    return (
        value is None
        or value == MISSING_CATEGORY
        or (isinstance(value, float) and math.isnan(value))
    )


def _check_value(feature: FeatureSchema, value: object) -> ViolationKind | None:
    if _is_missing(value):
        return None if feature.nullable else "missing"
    if feature.kind == "categorical":
        return None if str(value) in feature.categories else "unknown_category"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return "type"
    try:
        number = float(value)
    except ValueError:
        return "type"
    if math.isnan(number):
        return None if feature.nullable else "missing"
    low = -math.inf if feature.minimum is None else feature.minimum
    high = math.inf if feature.maximum is None else feature.maximum
    return None if low <= number <= high else "out_of_range"


def validate_row(schema: InputSchema, row: Mapping[str, object]) -> list[Violation]:
    """Return the violations of one request row (an empty list when it is valid)."""
    violations = []
    for feature in schema.features:
        if feature.name not in row:
            violations.append(Violation(feature.name, "missing_column"))
            continue
        kind = _check_value(feature, row[feature.name])
        if kind is not None:
            violations.append(Violation(feature.name, kind, 0, repr(row[feature.name])))
    known = set(schema.names)
    violations.extend(Violation(str(c), "unknown_column") for c in row if c not in known)
    return violations


def _numeric_masks(
    feature: FeatureSchema, values: Sequence[object] | npt.NDArray[np.generic]
) -> dict[ViolationKind, BoolArray]:
    try:
        numbers = np.asarray(values, dtype=np.float64)
        bad_type = np.zeros(numbers.shape[0], dtype=bool)
    except (TypeError, ValueError):
        kinds = [_check_value(feature, v) for v in values]
        return {k: np.array([x == k for x in kinds]) for k in ("type", "missing", "out_of_range")}
    missing = np.isnan(numbers)
    low = -np.inf if feature.minimum is None else feature.minimum
    high = np.inf if feature.maximum is None else feature.maximum
    with np.errstate(invalid="ignore"):
        out = ~missing & ((numbers < low) | (numbers > high))
    return {
        "type": bad_type,
        "missing": missing if not feature.nullable else np.zeros_like(missing),
        "out_of_range": out,
    }


def _categorical_masks(
    feature: FeatureSchema, values: Sequence[object] | npt.NDArray[np.generic]
) -> dict[ViolationKind, BoolArray]:
    allowed = set(feature.categories)
    missing = np.fromiter((_is_missing(v) for v in values), dtype=bool, count=len(values))
    known = np.fromiter((str(v) in allowed for v in values), dtype=bool, count=len(values))
    return {
        "missing": missing if not feature.nullable else np.zeros_like(missing),
        "unknown_category": ~known & ~missing,
    }


def violation_masks(
    schema: InputSchema, columns: Mapping[str, Sequence[object] | npt.NDArray[np.generic]]
) -> dict[tuple[str, ViolationKind], BoolArray]:
    """Return a row mask for every (feature, kind) that has at least one violation."""
    masks: dict[tuple[str, ViolationKind], BoolArray] = {}
    for feature in schema.features:
        if feature.name not in columns:
            continue
        values = columns[feature.name]
        found = (
            _numeric_masks(feature, values)
            if feature.kind == "numeric"
            else _categorical_masks(feature, values)
        )
        masks.update({(feature.name, k): m for k, m in found.items() if m.any()})
    return masks


def validate_batch(
    schema: InputSchema,
    columns: Mapping[str, Sequence[object] | npt.NDArray[np.generic]],
    *,
    max_examples: int = 20,
) -> BatchValidation:
    """Validate a batch given as columns (name -> values), as the inference protocol sends it."""
    rows = max((len(v) for v in columns.values()), default=0)
    masks = violation_masks(schema, columns)
    counts: dict[tuple[str, ViolationKind], int] = {k: int(m.sum()) for k, m in masks.items()}
    for name in schema.names:
        if name not in columns:
            counts[(name, "missing_column")] = rows
    known = set(schema.names)
    for name in columns:
        if name not in known:
            counts[(str(name), "unknown_column")] = rows
    invalid = np.zeros(rows, dtype=bool)
    for mask in masks.values():
        invalid |= mask
    if any(kind in ("missing_column", "unknown_column") for _, kind in counts):
        invalid[:] = True
    examples = []
    for (name, kind), mask in masks.items():
        for row in np.flatnonzero(mask)[:max_examples]:
            examples.append(Violation(name, kind, int(row), repr(columns[name][int(row)])))
    return BatchValidation(
        rows=rows,
        counts=counts,
        invalid_rows=tuple(int(i) for i in np.flatnonzero(invalid)),
        examples=tuple(examples[:max_examples]),
    )
