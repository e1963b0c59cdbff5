"""The ``sklearn`` family: a scikit-learn pipeline of preprocessing and one catalogue estimator.

Files in ``models/trained/``: ``model.joblib`` (the fitted ``Pipeline``,
raw feature columns in, probabilities or values out). ``model.sklearn.estimator``
names a row of :data:`mlops_gitops.training.catalogue.CATALOGUE`, which says
the tasks it fits, its keys, its preprocessor and its ONNX converter; the
family fits every task some row fits. Training curves go to dvclive: the
per-iteration losses of estimators that record them, and for every
estimator the final headline metric on the train and valid sets. The
fitted ``kmeans`` and ``isolation_forest`` (``clustering``, ``anomaly``)
are :class:`~mlops_gitops.training.sklearn_unsupervised.UnsupervisedModel`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_gitops.contract import Feature
from mlops_gitops.tasks import DEFAULT_THRESHOLD, load_task, score
from mlops_gitops.training import catalogue
from mlops_gitops.training.families import TrainingData, TrainingError
from mlops_gitops.training.sklearn_unsupervised import (
    UnsupervisedModel,
    log_summary,
    unsupervised_model,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import onnx
    import pandas as pd
    from sklearn.base import BaseEstimator
    from sklearn.pipeline import Pipeline

    from mlops_gitops.training.estimator import EstimatorParams

MODEL_FILE = "model.joblib"


class SklearnModel:
    """A fitted scikit-learn pipeline over the raw feature columns."""

    def __init__(self, pipeline: Pipeline, features: Sequence[Feature]) -> None:
        self.pipeline = pipeline
        self.features = tuple(features)

    def predict(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return ``[N, K]`` class probabilities, or ``[N]`` values of a regressor."""
        import numpy as np

        names = [f.name for f in self.features]
        if self._is_classifier():
            return np.asarray(self.pipeline.predict_proba(frame[names]), dtype=np.float64)
        return np.asarray(self.pipeline.predict(frame[names]), dtype=np.float64)

    def _is_classifier(self) -> bool:
        from sklearn.base import is_classifier

        return bool(is_classifier(self.pipeline.steps[-1][1]))

    def save(self, folder: Path) -> None:
        """Write ``model.joblib``."""
        import joblib

        joblib.dump(self.pipeline, folder / MODEL_FILE)

    def to_onnx(self, *, opset: int) -> onnx.ModelProto:
        """Convert the whole pipeline with skl2onnx (probabilities as a tensor, not a map).

        A regressor's one output is named ``prediction`` (the regression task's contract).
        """
        from mlops_gitops.training.preprocessing import sklearn_to_onnx

        catalogue.register_converters(self.pipeline.steps[-1][1])
        if not self._is_classifier():
            return sklearn_to_onnx(
                self.pipeline, self.features, opset=opset, output_width=1, output="prediction"
            )
        classifier = self.pipeline.steps[-1][1]
        options = {id(classifier): {"zipmap": False}}
        return sklearn_to_onnx(self.pipeline, self.features, opset=opset, options=options)


class SklearnFamily:
    """Fit, load and export scikit-learn pipelines."""

    tasks = catalogue.catalogue_tasks()

    def check_settings(self, settings: Mapping[str, object], task: str) -> None:
        """Check ``model.sklearn`` names an estimator that fits ``task``, with valid keys."""
        catalogue.parse_estimator(settings, task)

    def fit(
        self, data: TrainingData, settings: Mapping[str, object], *, seed: int, live_dir: Path
    ) -> SklearnModel | UnsupervisedModel:
        """Fit preprocessing on the train frame, then the estimator (valid may stop it early).

        A clusterer or an anomaly detector fits the features only and becomes an
        :class:`UnsupervisedModel`.
        """
        from sklearn.pipeline import Pipeline

        params = catalogue.parse_estimator(settings, data.task)
        preprocess = catalogue.make_preprocessor(params.estimator, data.features).fit(data.train)
        estimator = params.build(data.task, seed)
        params.fit(estimator, *catalogue.fitting(data, preprocess))
        pipeline = Pipeline([("preprocess", preprocess), (_step_name(estimator), estimator)])
        unsupervised = unsupervised_model(pipeline, data.features)
        if unsupervised is not None:
            log_summary(unsupervised, data, Path(live_dir))
            return unsupervised
        model = SklearnModel(pipeline, data.features)
        _log_curves(params, estimator, model, data, live_dir=Path(live_dir))
        return model

    def load(self, folder: Path, features: tuple[Feature, ...]) -> SklearnModel | UnsupervisedModel:
        """Load ``model.joblib`` from ``folder``."""
        import joblib

        path = folder / MODEL_FILE
        if not path.exists():
            raise TrainingError(
                f"{path}: not found; the sklearn family writes it in the train stage"
            )
        pipeline = joblib.load(path)
        return unsupervised_model(pipeline, features) or SklearnModel(pipeline, features)


def _step_name(estimator: BaseEstimator) -> str:
    """Return the name of the pipeline's last step: what kind of estimator it is."""
    from sklearn import base

    if base.is_classifier(estimator):
        return "classifier"
    if base.is_clusterer(estimator):
        return "clusterer"
    if base.is_outlier_detector(estimator):
        return "detector"
    return "regressor"


def _log_curves(
    params: EstimatorParams,
    estimator: BaseEstimator,
    model: SklearnModel,
    data: TrainingData,
    *,
    live_dir: Path,
) -> None:
    """Log the estimator's curves, if it records any, and the final scores."""
    import math

    from dvclive.live import Live

    task = load_task(data.task)
    # The summary keeps losses and the headline metric, which the threshold does not move.
    valid_values = _scores(model, data.valid, data.valid_label, data.task)
    with Live(dir=str(live_dir), save_dvc_exp=False, dvcyaml=None) as live:
        curves = params.curves(estimator, live)
        if curves is None:
            # No per-iteration record: the fitted model's headline on both splits is a
            # one-point curve, so every estimator writes dvclive/plots (a train stage output).
            train_values = _scores(model, data.train, data.train_label, data.task)
            for split, values in (("train", train_values), ("valid", valid_values)):
                if not math.isnan(values[task.headline]):
                    live.log_metric(f"{split}/{task.headline}", values[task.headline])
            names: tuple[str, ...] = (task.headline,)
        else:
            live.summary.update(curves.summary)
            names = tuple(dict.fromkeys((curves.loss, task.headline)))
        valid = {
            name: valid_values[name]
            for name in names
            if name in valid_values and not math.isnan(valid_values[name])
        }
        live.summary.setdefault("valid", {}).update(valid)


def _scores(
    model: SklearnModel, frame: pd.DataFrame, labels: npt.NDArray[np.generic], task_name: str
) -> dict[str, float]:
    task = load_task(task_name)
    return score(
        task, labels, task.decision_scores(model.predict(frame)), threshold=DEFAULT_THRESHOLD
    )
