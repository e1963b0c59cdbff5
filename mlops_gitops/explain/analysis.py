"""The ``explain`` pipeline stage: every explanation of one model version, computed and written.

:func:`explain_model` reads the exported model, the trained-model folder and
the prepared train/test splits, computes global importance, attributions
(SHAP, LIME, plug-ins), decision paths, correlations, counterfactuals and
fairness, then hands them to :mod:`mlops_gitops.explain.results`, which
writes the DVC metrics, plots and the stakeholder report. Row samples are
drawn with ``explain.seed``, so a rerun on the same inputs gives the same
outputs. Labels are checked and encoded by the model's task; an analysis
the task does not name in its ``explanations`` trait is skipped and the
report says it does not apply (:func:`mlops_gitops.tasks.applicable_analyses`).
A model fitted without a label (clustering, anomaly) is explained without
one: importance and mutual information then read the model's own decisions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlops_gitops.explain.attribution import Attributions, tree_estimator
from mlops_gitops.explain.correlation import (
    FeatureSelection,
    association_matrix,
    mutual_information,
    select_features,
)
from mlops_gitops.explain.decision import Surrogate, fit_surrogate
from mlops_gitops.explain.explained_model import ExplainError, TabularModel, load_tabular_model
from mlops_gitops.explain.explainers import find_explainer
from mlops_gitops.explain.fairness import fairness_of
from mlops_gitops.explain.importance import Importance, native_importance, permutation_importance
from mlops_gitops.explain.prediction import PredictionExplanation, explain_examples
from mlops_gitops.explain.settings import ExplainSettings, parse_settings
from mlops_gitops.tasks import ANALYSES, DEFAULT_THRESHOLD, applicable_analyses, inapplicable_reason

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ExplainPaths:
    """The inputs and outputs of the explain stage (as named in ``dvc.yaml``)."""

    model: str = "models/model.onnx"
    trained: str = "models/trained"
    train: str = "data/prepared/train.parquet"
    test: str = "data/prepared/test.parquet"
    metrics: str = "metrics/explain.json"
    fairness: str = "metrics/fairness.json"
    importance_plot: str = "plots/importance.json"
    report_dir: str = "reports/explain"


@dataclass(frozen=True, kw_only=True)
class Explanations:
    """Everything the explain stage computed for one model version."""

    model: TabularModel
    settings: ExplainSettings
    threshold: float
    importance: Importance
    native: dict[str, float] | None
    attributions: dict[str, Attributions]
    examples: tuple[PredictionExplanation, ...]
    surrogate: Surrogate | None
    association: pd.DataFrame
    information: dict[str, float]
    selection: FeatureSelection
    fairness: dict[str, object]
    timings: dict[str, float] = field(default_factory=dict)
    # analysis -> why it does not apply to the model's task
    not_applicable: dict[str, str] = field(default_factory=dict)


# One keyword per path of the stage's dvc.yaml entry (the stage calling convention).
def explain_model(  # noqa: PLR0913
    *,
    model: str = ExplainPaths.model,
    trained: str = ExplainPaths.trained,
    train: str = ExplainPaths.train,
    test: str = ExplainPaths.test,
    metrics: str = ExplainPaths.metrics,
    fairness: str = ExplainPaths.fairness,
    importance_plot: str = ExplainPaths.importance_plot,
    report_dir: str = ExplainPaths.report_dir,
    settings: ExplainSettings | Mapping[str, object],
    label: str | None,
    sensitive: Sequence[str],
    threshold: float | str = DEFAULT_THRESHOLD,
    rules: Mapping[str, Mapping[str, object]] | None = None,
) -> Explanations:
    """Explain the ONNX ``model`` and write the stage's metrics, plots and report.

    The paths are the stage's inputs (the ONNX file, the trained-model folder,
    the prepared splits) and outputs (see :mod:`mlops_gitops.explain.results`);
    each defaults to its :class:`ExplainPaths` field, as named in ``dvc.yaml``.

    Args:
        settings: the ``explain`` params section.
        label: the label column (``data.label``); None for a model of a task
            fitted without one (``Task.supervised`` false).
        sensitive: the sensitive attributes (``schema.sensitive``).
        threshold: ``evaluate.threshold``; a binary decision is positive at or above the
            threshold recorded in the model, else this one when it is a number.
        rules: ``schema.columns``, whose ranges and allowed values bound counterfactuals.

    Raises:
        DataError: a split is missing or lacks the label, or a supervised model has none.
        ExplainError: the model cannot be explained (see the message).
        ConfigError: the ``explain`` params are invalid.
    """
    from mlops_gitops.explain.results import write_outputs

    where = ExplainPaths(
        model=model, trained=trained, train=train, test=test, metrics=metrics,
        fairness=fairness, importance_plot=importance_plot, report_dir=report_dir,
    )  # fmt: skip
    config = parse_settings(settings)
    train_rows, test_rows = _read_split(where.train, label), _read_split(where.test, label)
    loaded = load_tabular_model(where.model, train_rows, trained_dir=where.trained, rules=rules)
    _check_label(loaded, label)
    for path, rows in ((where.train, train_rows), (where.test, test_rows)):
        encoded_labels(loaded, rows, label, origin=path)  # the task's label check, as training
    explanations = compute_explanations(
        loaded, train_rows, test_rows,
        settings=config, label=label, sensitive=sensitive,
        threshold=loaded.decision_threshold(threshold),
    )  # fmt: skip
    write_outputs(explanations, where)
    return explanations


def compute_explanations(
    model: TabularModel,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    settings: ExplainSettings,
    label: str | None,
    sensitive: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
) -> Explanations:
    """Compute every explanation of ``model`` on the ``train``/``test`` splits (no files).

    ``label`` None: the rows have no label (a model fitted without one).
    """
    timings: dict[str, float] = {}
    applies = applicable_analyses(model.task)
    skipped = _not_applicable(model, applies)
    with _timed(timings, "importance"):
        encoded, importance = _importance(
            model, test, label, settings=settings, threshold=threshold
        )
    background = _sample(train, settings.shap.background_rows, settings.seed)
    attributions = _attribute(model, test, background, settings=settings, timings=timings)
    with _timed(timings, "examples"):
        examples = explain_examples(
            model, attributions, train, settings=settings, threshold=threshold,
            counterfactuals="counterfactuals" in applies,
        )  # fmt: skip
    surrogate = None
    if "surrogate" in applies:
        with _timed(timings, "surrogate"):
            surrogate = _surrogate(model, train, encoded, settings=settings, threshold=threshold)
    with _timed(timings, "correlation"):
        association, information, selection = _correlation(
            model, train, importance, label=label, sensitive=sensitive, settings=settings,
            threshold=threshold,
        )  # fmt: skip
    with _timed(timings, "fairness"):
        fairness = _fairness(
            model, test, label, reason=skipped.get("fairness"), threshold=threshold,
            sensitive=sensitive,
        )  # fmt: skip
    return Explanations(
        model=model, settings=settings, threshold=threshold, importance=importance,
        native=native_importance(model), attributions=attributions, examples=examples,
        surrogate=surrogate, association=association, information=information,
        selection=selection, fairness=fairness, timings=timings, not_applicable=skipped,
    )  # fmt: skip


def _importance(
    model: TabularModel,
    test: pd.DataFrame,
    label: str | None,
    *,
    settings: ExplainSettings,
    threshold: float,
) -> tuple[np.ndarray, Importance]:
    sample = _sample(test, settings.permutation.rows, settings.seed)
    encoded = model.space.encode(sample)
    importance = permutation_importance(
        model, encoded, encoded_labels(model, sample, label, origin="the test split"),
        scoring=settings.permutation.scoring, n_repeats=settings.permutation.n_repeats,
        seed=settings.seed, threshold=threshold,
    )  # fmt: skip
    return encoded, importance


def _not_applicable(model: TabularModel, applies: Sequence[str]) -> dict[str, str]:
    task = model.task
    article = "an" if task.name[:1] in "aeiou" else "a"
    reasons = {name: inapplicable_reason(task, name) for name in ANALYSES if name not in applies}
    return {
        name: f"{name} does not apply to {article} {task.name} model" + (f" ({why})" if why else "")
        for name, why in reasons.items()
    }


def _fairness(  # the fairness step's inputs, keyword-only
    model: TabularModel,
    test: pd.DataFrame,
    label: str | None,
    *,
    reason: str | None,
    threshold: float,
    sensitive: Sequence[str],
) -> dict[str, object]:
    if reason is not None:  # the report says so instead of failing
        return {"applies": False, "reason": reason}
    labels = encoded_labels(model, test, label, origin="the test split")
    if labels is None:  # the fairness analyses of every task read the labels
        return {"applies": False, "reason": "fairness needs labels; data.label is null"}
    return fairness_of(model, test, labels, threshold=threshold, sensitive=sensitive)


def _read_split(path: str, label: str | None) -> pd.DataFrame:
    from mlops_gitops.errors import DataError
    from mlops_gitops.training.features import read_frame

    frame = read_frame(path)
    if label is not None and label not in frame.columns:
        raise DataError(f"{path}: no label column '{label}'; set data.label in params.yaml")
    return frame.reset_index(drop=True)


def _check_label(model: TabularModel, label: str | None) -> None:
    from mlops_gitops.errors import DataError

    if label is None and model.task.supervised:
        raise DataError(
            f"params.yaml data.label: null, but the {model.task.name} model at {model.path} "
            "is explained against its labels; name the label column"
        )


def encoded_labels(
    model: TabularModel, frame: pd.DataFrame, label: str | None, *, origin: str
) -> np.ndarray | None:
    """Return ``frame``'s labels checked and encoded by the model's task (its classes kept).

    None where there is no label (``label`` None).

    Raises:
        DataError: the task refuses the labels (e.g. a class the model does not know).
    """
    from mlops_gitops.tasks import encode_labels

    if label is None:
        return None
    classes = model.classes or None
    return np.asarray(
        encode_labels(model.task, frame, label, origin=origin, classes=classes).values
    )


def _sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    if len(frame) <= rows:
        return frame
    return frame.sample(n=rows, random_state=seed).sort_index()


class _timed:
    def __init__(self, timings: dict[str, float], name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.name] = round(time.perf_counter() - self.started, 3)
        log.info("explain: %s in %.1f s", self.name, self.timings[self.name])


def _attribute(
    model: TabularModel,
    test: pd.DataFrame,
    background: pd.DataFrame,
    *,
    settings: ExplainSettings,
    timings: dict[str, float],
) -> dict[str, Attributions]:
    attributions = {}
    for name in settings.explainers:
        explainer = find_explainer(name)
        rows = _rows_for(name, model, settings)
        with _timed(timings, name):
            rows_frame = _sample(test, rows, settings.seed)[list(model.space.names)]
            attributions[name] = explainer.attribute(
                model, rows_frame, background=background, settings=settings
            )
    return attributions


def _rows_for(name: str, model: TabularModel, settings: ExplainSettings) -> int:
    if name == "shap":
        return (
            settings.shap.rows if tree_estimator(model) is not None else settings.shap.agnostic_rows
        )
    return settings.lime.rows  # LIME and plug-ins explain a handful of rows


def _surrogate(
    model: TabularModel,
    train: pd.DataFrame,
    test: np.ndarray,
    *,
    settings: ExplainSettings,
    threshold: float,
) -> Surrogate:
    fit_rows = model.space.encode(_sample(train, settings.surrogate.rows, settings.seed))
    decisions = model.decide(model.predict_matrix(fit_rows), threshold=threshold)
    test_decisions = model.decide(model.predict_matrix(test), threshold=threshold)
    return fit_surrogate(
        model.space,
        fit_rows,
        decisions,
        test=(test, test_decisions),
        max_depth=settings.surrogate.max_depth,
        seed=settings.seed,
    )


def _correlation(
    model: TabularModel,
    train: pd.DataFrame,
    importance: Importance,
    *,
    label: str | None,
    sensitive: Sequence[str],
    settings: ExplainSettings,
    threshold: float,
) -> tuple[pd.DataFrame, dict[str, float], FeatureSelection]:
    sample = _sample(train, settings.correlation.rows, settings.seed)
    extra = [s for s in sensitive if s in sample.columns and s not in model.space.names]
    association = association_matrix(sample, [*model.space.names, *extra])
    kinds = [f.kind == "categorical" for f in model.space.features]
    encoded = model.space.encode(sample)
    labels = encoded_labels(model, sample, label, origin="the training split")
    if labels is None:  # no label: what the features tell about the model's own decisions
        labels = model.decide(model.predict_matrix(encoded), threshold=threshold)
    if len(np.unique(labels)) < 2:
        raise ExplainError(
            f"the training sample has one class of '{label or 'the decisions'}' only; "
            "sample more rows"
        )
    information = mutual_information(
        encoded,
        labels,
        names=model.space.names,
        categorical=kinds,
        seed=settings.seed,
        continuous=bool(np.issubdtype(labels.dtype, np.floating)),  # a regression's values
    )
    selection = select_features(
        importance.mean,
        information,
        association,
        threshold=settings.correlation.threshold,
        min_importance=settings.correlation.min_importance,
    )
    return association, information, selection
