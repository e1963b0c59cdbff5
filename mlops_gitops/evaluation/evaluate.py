"""Evaluate the trained model on the test set: metrics, slices and plots.

Reads ``models/trained/`` and ``data/prepared/test.parquet``; writes
``metrics/evaluate.json`` (flat metrics, ``rows``, ``threshold`` and
``slices``) and the four plot files under ``plots/``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from mlops_gitops.errors import MlopsError
from mlops_gitops.evaluation.metrics import classification_metrics, slice_metrics
from mlops_gitops.evaluation.plots import (
    Record,
    calibration_points,
    confusion_records,
    precision_recall_points,
    roc_points,
    write_plots,
)
from mlops_gitops.outputs import write_json

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)


class EvaluationError(MlopsError):
    """The model could not be evaluated on the test set."""


class EvaluateSection(BaseModel):
    """``evaluate``: the decision threshold, slice columns and plot resolution."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(0.5, gt=0, lt=1)
    slices: list[str] = Field(default_factory=list)
    calibration_bins: int = Field(10, ge=2, le=100)
    curve_points: int = Field(200, ge=10, le=5000)


@dataclass(frozen=True)
class Evaluation:
    """The metrics written to the metrics file and the plot files written."""

    metrics: dict[str, object]
    plots: list[Path] = field(default_factory=list)


def evaluate_model(
    *,
    trained: str | os.PathLike[str],
    test: str | os.PathLike[str],
    metrics: str | os.PathLike[str],
    plots_dir: str | os.PathLike[str],
    settings: Mapping[str, object],
    label: str,
) -> Evaluation:
    """Score the model in ``trained`` on ``test`` and write ``metrics`` and plots.

    Raises:
        ConfigError: the ``evaluate`` section is invalid.
        EvaluationError: the test set is empty or lacks a slice column.
        DataError: the test set cannot be read or lacks features or label.
    """

    from mlops_gitops.params import parse_section
    from mlops_gitops.training import load_model
    from mlops_gitops.training.features import label_array, read_frame

    params = parse_section(EvaluateSection, settings, "evaluate")
    frame = read_frame(test)
    _check_frame([str(c) for c in frame.columns], params.slices, rows=len(frame), origin=str(test))
    labels = label_array(frame, label, origin=str(test))
    proba = load_model(trained).predict_proba(frame)[:, 1]
    values: dict[str, object] = {
        **classification_metrics(labels, proba, threshold=params.threshold),
        "rows": len(frame),
        "threshold": params.threshold,
        "slices": slice_metrics(
            frame, labels, proba, columns=params.slices, threshold=params.threshold
        ),
    }
    write_json(metrics, values)
    written = write_plots(plots_dir, _plots(labels, proba, params))
    log.info("test set (%d rows): roc_auc %.4f", len(frame), values["roc_auc"])
    return Evaluation(metrics=values, plots=written)


def _plots(
    labels: npt.NDArray[np.int64], proba: npt.NDArray[np.float64], params: EvaluateSection
) -> dict[str, list[Record]]:
    import numpy as np

    predicted = (proba >= params.threshold).astype(np.int64)
    return {
        "roc": roc_points(labels, proba, max_points=params.curve_points),
        "precision_recall": precision_recall_points(labels, proba, max_points=params.curve_points),
        "confusion": confusion_records(labels, predicted),
        "calibration": calibration_points(labels, proba, bins=params.calibration_bins),
    }


def _check_frame(columns: list[str], slices: list[str], *, rows: int, origin: str) -> None:
    if rows == 0:
        raise EvaluationError(f"{origin}: the test set has no rows")
    missing = [s for s in slices if s not in columns]
    if missing:
        raise EvaluationError(
            f"params.yaml evaluate.slices: column '{missing[0]}' is not in {origin}; "
            "remove it from evaluate.slices or keep the column in prepare"
        )
