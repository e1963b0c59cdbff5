"""The ``data`` and ``prepare`` sections of ``params.yaml`` as typed models.

Library functions accept either the raw section (a mapping, as
``stage.load_sections`` returns it) or the model; a bad value raises a
:class:`ConfigError` naming the field, e.g. ``params.yaml data.sample.rows``.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    # Unknown keys are refused so that a typo never passes silently.
    model_config = ConfigDict(extra="forbid", frozen=True)


# The built-in samples (``data.sample.kind``), one per kind of model: see data/synthetic.py.
SampleKind = Literal["credit", "triage", "forecast", "segments", "fraud"]
# How prepare splits the rows (``prepare.split.by``).
SplitMethod = Literal["random", "time", "group"]


class SampleSettings(_Section):
    """``data.sample``: which built-in sample, its size, seed and drift."""

    kind: SampleKind = "credit"
    rows: int = Field(default=20_000, ge=10)
    seed: int = 42
    drift: float = Field(default=0.0, ge=0)


class DataSettings(_Section):
    """``data``: where the raw dataset comes from and which columns are special."""

    source: str = Field(default="sample", min_length=1)
    # auto (by file extension), csv, parquet, or the name of a plug-in connector
    format: str = Field(default="auto", min_length=1)
    # null: no label column (only for an unsupervised model.task: clustering, anomaly)
    label: str | None = Field(default="default", min_length=1)
    id_column: str = Field(default="customer_id", min_length=1)
    sample: SampleSettings = SampleSettings()
    # fsspec options for remote sources (never secrets: use the backend's own
    # credential chain, e.g. AWS_PROFILE), and extra reader options (sep, ...)
    storage_options: dict[str, Any] = {}
    read_options: dict[str, Any] = {}


class SplitSettings(_Section):
    """``prepare.split``: how the rows are split, the fractions of the three sets, the seed."""

    # random (stratified when the task stratifies), time (ordered by ``column``,
    # the earliest rows train) or group (one value of ``column`` in one set only)
    by: SplitMethod = "random"
    column: str | None = Field(default=None, min_length=1)
    train: float = Field(default=0.7, gt=0, lt=1)
    valid: float = Field(default=0.15, ge=0, lt=1)
    test: float = Field(default=0.15, gt=0, lt=1)
    seed: int = 42
    stratify: bool = True

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> Self:
        total = self.train + self.valid + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + valid + test must be 1, got {total:g}")
        return self

    @model_validator(mode="after")
    def _column_names_the_order_or_the_groups(self) -> Self:
        if self.by != "random" and self.column is None:
            raise ValueError(f"split by {self.by} needs column: the name of its column")
        if self.by == "random" and self.column is not None:
            raise ValueError("column is read by 'by: time' or 'by: group' only; set by or drop it")
        return self


class PrepareSettings(_Section):
    """``prepare``: the train/validation/test split (PII is protected at ingest, ``schema``)."""

    split: SplitSettings = SplitSettings()
