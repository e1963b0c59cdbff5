"""The ``schema`` params section and the pandera schema built from it.

``schema.columns`` declares each column's type, nullability, uniqueness,
range, allowed values or pattern. On top of what it declares, the built
schema always requires the id column (present, unique, never missing), the
label (present, never missing; unless ``data.label`` is null, a dataset
without one) and every declared PII and sensitive column (present). With
``schema.strict`` a column the section does not declare is a failure;
otherwise it is listed in the report as unchecked. A schema can cover one
part of the columns (:data:`SchemaPart`): ingest checks the raw values of
the ``pii`` part before it protects them, and the validate stage checks the
``protected`` part (every other column) of the table ingest wrote.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import pandera.pandas as pa
from pydantic import BaseModel, ConfigDict, Field

from mlops_gitops.quality.pii import PiiAction

ColumnType = Literal["float", "int", "string", "bool"]
# which columns a schema checks: all, the schema.pii columns, or every other one
SchemaPart = Literal["all", "pii", "protected"]
PANDERA_TYPES: dict[str, object] = {"float": "float64", "int": "int64", "string": str, "bool": bool}
# pandera's names for its built-in checks -> the names in the validation report
BUILTIN_CHECKS = {
    "column_in_dataframe": "present",
    "column_in_schema": "declared",
    "not_nullable": "nullable",
    "field_uniqueness": "unique",
}


class ColumnRule(BaseModel):
    """``schema.columns.NAME``: what every value of one column must satisfy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ColumnType
    nullable: bool = False
    unique: bool = False
    min: float | None = None
    max: float | None = None
    allowed: list[str | int | float | bool] | None = Field(default=None, min_length=1)
    # a regular expression each (non-missing) value must match in full
    pattern: str | None = None


class SchemaSettings(BaseModel):
    """``schema``: PII and sensitive columns, the column rules, and whether failures block."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pii: list[str] = []
    # what ingest does to every PII column before the first write (quality.pii)
    pii_action: PiiAction = "drop"
    sensitive: list[str] = []
    fail_on_error: bool = True
    strict: bool = False
    columns: dict[str, ColumnRule] = {}


class DatasetKeys(BaseModel):
    """The two keys of the ``data`` section that validation needs (the rest is ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # None (data.label: null): a dataset without a label, for an unsupervised model.task.
    label: str | None = Field(min_length=1)
    id_column: str = Field(min_length=1)


@dataclass(frozen=True)
class CheckRef:
    """One check of the built schema, as the validation report names it."""

    column: str
    check: str
    expected: str


@dataclass(frozen=True)
class BuiltSchema:
    """A pandera schema and the list of checks it runs, in report order."""

    schema: pa.DataFrameSchema
    checks: tuple[CheckRef, ...]

    def resolve(self, column: str, pandera_check: str) -> CheckRef:
        """Return the check that a pandera failure of ``column`` belongs to."""
        name = BUILTIN_CHECKS.get(pandera_check)
        if name is None and pandera_check.startswith("dtype("):
            name = "dtype"
        for ref in self.checks:
            if ref.column == column and (ref.check == name or ref.expected == pandera_check):
                return ref
        return CheckRef(column, name or pandera_check, pandera_check)


def build_schema(
    settings: SchemaSettings,
    keys: DatasetKeys,
    *,
    columns: Collection[str] = (),
    part: SchemaPart = "all",
    label_type: ColumnType | None = "int",
) -> BuiltSchema:
    """Build the pandera schema of ``settings`` for the ``part`` of a dataset with ``columns``.

    ``label_type`` is the type an undeclared label must have (the task's,
    :func:`mlops_gitops.tasks.label_type`); None checks no type.
    """
    rules = {
        name: rule
        for name, rule in _effective_rules(settings, keys, label_type).items()
        if is_in_part(name, settings, part)
    }
    pandera_columns: dict[str, pa.Column] = {}
    refs: list[CheckRef] = []
    for name, rule in rules.items():
        pandera_columns[name], column_refs = _column(name, rule)
        refs.extend(column_refs)
    if settings.strict:
        refs.extend(CheckRef(c, "declared", "declared in schema.columns") for c in columns)
    schema = pa.DataFrameSchema(pandera_columns, strict=settings.strict, name="dataset")
    return BuiltSchema(schema, tuple(refs))


def is_in_part(column: str, settings: SchemaSettings, part: SchemaPart) -> bool:
    """Return whether the ``part`` of the dataset holds ``column``."""
    return part == "all" or (column in settings.pii) == (part == "pii")


def _rule_for_undeclared(
    name: str, settings: SchemaSettings, keys: DatasetKeys, label_type: ColumnType | None
) -> ColumnRule | None:
    if name == keys.id_column:
        return ColumnRule(type="string", unique=True)
    if name in settings.pii or name in settings.sensitive:
        return ColumnRule(type="string", nullable=True)
    if name == keys.label:  # without a type (None), only present and never missing
        return ColumnRule.model_construct(type=label_type)
    return None


def _effective_rules(
    settings: SchemaSettings, keys: DatasetKeys, label_type: ColumnType | None
) -> dict[str, ColumnRule]:
    rules: dict[str, ColumnRule] = dict(settings.columns)
    label = [keys.label] if keys.label is not None else []
    for name in (keys.id_column, *label, *settings.pii, *settings.sensitive):
        fallback = _rule_for_undeclared(name, settings, keys, label_type)
        if name not in rules and fallback is not None:
            rules[name] = fallback
    rule = rules[keys.id_column]
    rules[keys.id_column] = rule.model_copy(update={"unique": True, "nullable": False})
    for name in label:
        rules[name] = rules[name].model_copy(update={"nullable": False})
    return rules


def _column(name: str, rule: ColumnRule) -> tuple[pa.Column, list[CheckRef]]:
    dtype = PANDERA_TYPES[rule.type] if rule.type is not None else None
    refs = [CheckRef(name, "present", "column present")]
    if rule.type is not None:
        refs.append(CheckRef(name, "dtype", _dtype_name(rule)))
    if not rule.nullable:
        refs.append(CheckRef(name, "nullable", "no missing values"))
    if rule.unique:
        refs.append(CheckRef(name, "unique", "no duplicate values"))
    checks: list[pa.Check] = []
    for check, ref in _value_checks(rule):
        checks.append(check)
        refs.append(CheckRef(name, ref, check.error or ref))
    column = pa.Column(
        dtype, checks=checks, nullable=rule.nullable, unique=rule.unique, required=True, name=name
    )
    return column, refs


def _value_checks(rule: ColumnRule) -> list[tuple[pa.Check, str]]:
    found: list[tuple[pa.Check, str]] = []
    if rule.min is not None:
        found.append((pa.Check.ge(rule.min, error=f">= {rule.min:g}"), "min"))
    if rule.max is not None:
        found.append((pa.Check.le(rule.max, error=f"<= {rule.max:g}"), "max"))
    if rule.allowed is not None:
        shown = ", ".join(str(v) for v in rule.allowed)
        found.append((pa.Check.isin(rule.allowed, error=f"one of: {shown}"), "allowed"))
    if rule.pattern is not None:
        regex = f"^(?:{rule.pattern})$"
        found.append((pa.Check.str_matches(regex, error=f"matches {rule.pattern}"), "pattern"))
    return found


def _dtype_name(rule: ColumnRule) -> str:
    return {"float": "float64", "int": "int64", "string": "string", "bool": "bool"}[rule.type]
