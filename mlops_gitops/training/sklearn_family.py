"""The ``sklearn`` family: a scikit-learn pipeline of preprocessing and gradient boosting.

Files in ``models/trained/``: ``model.joblib`` (the fitted ``Pipeline``,
raw feature columns in, probabilities or values out). The estimator fits
the task (:data:`ESTIMATORS`): a classifier for ``binary`` and
``multiclass``, a regressor for ``regression``. Training curves (the loss
on the train and validation sets after each boosting iteration) go to
dvclive, with the final validation loss and headline metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_gitops.contract import Feature
from mlops_gitops.params import parse_section
from mlops_gitops.tasks import DEFAULT_THRESHOLD, load_task, score
from mlops_gitops.training.families import TrainingData, TrainingError

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy as np
    import numpy.typing as npt
    import onnx
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline

    Booster: TypeAlias = HistGradientBoostingClassifier | HistGradientBoostingRegressor

MODEL_FILE = "model.joblib"
# task -> (scikit-learn estimator class, the pipeline step's name)
ESTIMATORS = {
    "binary": ("HistGradientBoostingClassifier", "classifier"),
    "multiclass": ("HistGradientBoostingClassifier", "classifier"),
    "regression": ("HistGradientBoostingRegressor", "regressor"),
}


class SklearnParams(BaseModel):
    """``model.sklearn``: the estimator and its hyper-parameters."""

    model_config = ConfigDict(extra="forbid")

    estimator: Literal["hist_gradient_boosting"] = "hist_gradient_boosting"
    learning_rate: float = Field(0.1, gt=0)
    max_iter: int = Field(200, ge=1)
    max_leaf_nodes: int = Field(31, ge=2)
    l2_regularization: float = Field(0.0, ge=0)
    early_stopping: bool = True
    n_iter_no_change: int = Field(10, ge=1)


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
        return hasattr(self.pipeline.steps[-1][1], "classes_")

    def save(self, folder: Path) -> None:
        """Write ``model.joblib``."""
        import joblib

        joblib.dump(self.pipeline, folder / MODEL_FILE)

    def to_onnx(self, *, opset: int) -> onnx.ModelProto:
        """Convert the whole pipeline with skl2onnx (probabilities as a tensor, not a map).

        A regressor's one output is named ``prediction`` (the regression task's contract).
        """
        from mlops_gitops.training.preprocessing import sklearn_to_onnx

        if not self._is_classifier():
            return sklearn_to_onnx(
                self.pipeline, self.features, opset=opset, output_width=1, output="prediction"
            )
        classifier = self.pipeline.steps[-1][1]
        options = {id(classifier): {"zipmap": False}}
        return sklearn_to_onnx(self.pipeline, self.features, opset=opset, options=options)


class SklearnFamily:
    """Fit, load and export scikit-learn pipelines."""

    tasks = tuple(ESTIMATORS)

    def fit(
        self, data: TrainingData, settings: Mapping[str, object], *, seed: int, live_dir: Path
    ) -> SklearnModel:
        """Fit preprocessing on the train frame, then boosting with the valid frame for stopping."""
        from sklearn.pipeline import Pipeline

        from mlops_gitops.training.preprocessing import tree_preprocessor

        params = parse_section(SklearnParams, settings, "model.sklearn")
        preprocess = tree_preprocessor(data.features).fit(data.train)
        estimator, step = _estimator(params, seed, data.task)
        train_matrix = preprocess.transform(data.train)
        if params.early_stopping:
            valid_matrix = preprocess.transform(data.valid)
            estimator.fit(
                train_matrix, data.train_label, X_val=valid_matrix, y_val=data.valid_label
            )
        else:
            estimator.fit(train_matrix, data.train_label)
        model = SklearnModel(
            Pipeline([("preprocess", preprocess), (step, estimator)]), data.features
        )
        _log_curves(estimator, model, data, live_dir)
        return model

    def load(self, folder: Path, features: tuple[Feature, ...]) -> SklearnModel:
        """Load ``model.joblib`` from ``folder``."""
        import joblib

        path = folder / MODEL_FILE
        if not path.exists():
            raise TrainingError(
                f"{path}: not found; the sklearn family writes it in the train stage"
            )
        return SklearnModel(joblib.load(path), features)


def _estimator(params: SklearnParams, seed: int, task: str) -> tuple[Booster, str]:
    from sklearn import ensemble

    if task not in ESTIMATORS:
        raise TrainingError(
            f"params.yaml model.task: the sklearn family fits {', '.join(ESTIMATORS)}, not {task}"
        )
    name, step = ESTIMATORS[task]
    booster: Booster = getattr(ensemble, name)(
        learning_rate=params.learning_rate,
        max_iter=params.max_iter,
        max_leaf_nodes=params.max_leaf_nodes,
        l2_regularization=params.l2_regularization,
        early_stopping=params.early_stopping,
        n_iter_no_change=params.n_iter_no_change,
        scoring="loss",
        random_state=seed,
    )
    return booster, step


def _log_curves(
    estimator: Booster, model: SklearnModel, data: TrainingData, live_dir: Path
) -> None:
    """Log the per-iteration losses (when early stopping recorded them) and the final scores."""
    import math

    from dvclive.live import Live

    loss = str(estimator.loss)  # log_loss for classifiers, squared_error for regressors
    train_scores = list(getattr(estimator, "train_score_", []))
    valid_scores = list(getattr(estimator, "validation_score_", []))
    task = load_task(data.task)
    scores = task.decision_scores(model.predict(data.valid))
    # The summary keeps the loss and the headline metric, which the threshold does not move.
    values = score(task, data.valid_label, scores, threshold=DEFAULT_THRESHOLD)
    with Live(dir=str(live_dir), save_dvc_exp=False, dvcyaml=None) as live:
        # HistGradientBoosting records the negative loss as its score.
        for train_score, valid_score in zip(train_scores, valid_scores, strict=False):
            live.log_metric(f"train/{loss}", -float(train_score))
            live.log_metric(f"valid/{loss}", -float(valid_score))
            live.next_step()
        # Final values go to the summary only (metrics.json), not to the curves.
        summary = {"iterations": int(estimator.n_iter_)}
        valid = {
            name: values[name]
            for name in dict.fromkeys((loss, task.headline))
            if name in values and not math.isnan(values[name])
        }
        live.summary.update(summary)
        live.summary.setdefault("valid", {}).update(valid)
