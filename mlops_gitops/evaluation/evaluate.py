"""Evaluate the trained model on the test set: metrics, slices and plots.

Reads ``models/trained/`` and ``data/prepared/test.parquet``; writes
``metrics/evaluate.json`` (the task's flat metrics, ``rows``, the decision
rule's ``threshold`` for a binary model, ``slices``, and ``per_class`` where
the task has classes: per class for multiclass, per cluster id for a
clustering) and the task's plot files under ``plots/`` (four for binary).
An unsupervised task is evaluated without a label when the test set has
none. The task is the one training recorded in the model's metadata, never
guessed from the data.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ConfigDict, Field

from mlops_gitops.errors import MlopsError
from mlops_gitops.evaluation.metrics import slice_metrics
from mlops_gitops.evaluation.plots import (
    Record,
    calibration_points,
    cluster_size_records,
    confusion_records,
    precision_recall_points,
    predicted_records,
    roc_points,
    score_histogram_records,
    write_plots,
)
from mlops_gitops.outputs import write_json
from mlops_gitops.tasks import encode_labels, load_task, needs_points, score
from mlops_gitops.tasks.thresholds import DecisionSection

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import numpy.typing as npt

    from mlops_gitops.tasks import Task

log = logging.getLogger(__name__)


class EvaluationError(MlopsError):
    """The model could not be evaluated on the test set."""


class EvaluateSection(DecisionSection):
    """``evaluate``: the decision rule (binary), slice columns and plot resolution."""

    model_config = ConfigDict(extra="forbid")

    slices: list[str] = Field(default_factory=list)
    calibration_bins: int = Field(10, ge=2, le=100)
    histogram_bins: int = Field(20, ge=2, le=200)
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
    label: str | None,
) -> Evaluation:
    """Score the model in ``trained`` on ``test`` and write ``metrics`` and plots.

    Raises:
        ConfigError: the ``evaluate`` section is invalid.
        EvaluationError: the test set is empty or lacks a slice column.
        DataError: the test set cannot be read or lacks features or label.
    """

    from mlops_gitops.params import parse_section
    from mlops_gitops.training import load_trained_model
    from mlops_gitops.training.features import read_frame

    params = parse_section(EvaluateSection, settings, "evaluate")
    frame = read_frame(test)
    _check_frame([str(c) for c in frame.columns], params.slices, rows=len(frame), origin=str(test))
    loaded = load_trained_model(trained)
    task = load_task(loaded.meta.task, where=f"{Path(trained) / 'meta.json'} task")
    classes = tuple(loaded.meta.classes or ())
    labels = encode_labels(task, frame, label, origin=str(test), classes=classes).values
    scores = task.decision_scores(loaded.predict(frame))
    points = loaded.embed(frame) if needs_points(task) else None
    threshold = _recorded_threshold(loaded.meta.threshold, params, trained=Path(trained))
    slices = slice_metrics(
        frame, labels, scores, columns=params.slices, threshold=threshold, task=task, points=points
    )
    values: dict[str, object] = {
        **score(task, labels, scores, threshold=threshold, points=points),
        "rows": len(frame),
        **task.decision_rule(threshold),
        "slices": slices,
    }
    if loaded.meta.threshold_criterion:
        values["threshold_criterion"] = loaded.meta.threshold_criterion
    per_class = task.per_class(labels, scores, threshold=threshold, classes=classes)
    if per_class:
        values["per_class"] = per_class
    write_json(metrics, values)
    written = write_plots(
        plots_dir, _plots(task, labels, scores, params=params, classes=classes, threshold=threshold)
    )
    log.info("test set (%d rows): %s %.4f", len(frame), task.headline, values[task.headline])
    return Evaluation(metrics=values, plots=written)


def _plots(
    task: Task,
    labels: npt.NDArray[np.generic],
    scores: npt.NDArray[np.float64],
    *,
    params: EvaluateSection,
    classes: tuple[str, ...],
    threshold: float,
) -> dict[str, list[Record]]:
    """Return the plots the task names (``Task.plots``), each drawn only when it applies."""
    decided = task.decide(scores, threshold=threshold)
    points = params.curve_points
    draw: dict[str, Callable[[], list[Record]]] = {
        "roc": lambda: roc_points(labels, scores, max_points=points),
        "precision_recall": lambda: precision_recall_points(labels, scores, max_points=points),
        "confusion": lambda: confusion_records(
            task.decode(labels, classes), task.decode(decided, classes)
        ),
        "calibration": lambda: calibration_points(labels, scores, bins=params.calibration_bins),
        "predicted_vs_actual": lambda: predicted_records(labels, scores),
        "cluster_sizes": lambda: cluster_size_records(decided, scores.shape[-1]),
        "score_histogram": lambda: score_histogram_records(scores, bins=params.histogram_bins),
    }
    return {name: draw[name]() for name in task.plots}


def _recorded_threshold(recorded: float | None, params: EvaluateSection, *, trained: Path) -> float:
    """Return the model's own threshold; a model trained before it was recorded uses params."""
    if recorded is not None:
        return recorded
    if params.is_auto:
        raise EvaluationError(
            f"{trained / 'meta.json'}: no threshold recorded for evaluate.threshold: auto; "
            "rerun the train stage (dvc repro)"
        )
    return float(params.threshold)


def _check_frame(columns: list[str], slices: list[str], *, rows: int, origin: str) -> None:
    if rows == 0:
        raise EvaluationError(f"{origin}: the test set has no rows")
    missing = [s for s in slices if s not in columns]
    if missing:
        raise EvaluationError(
            f"params.yaml evaluate.slices: column '{missing[0]}' is not in {origin}; "
            "remove it from evaluate.slices or keep the column in prepare"
        )
