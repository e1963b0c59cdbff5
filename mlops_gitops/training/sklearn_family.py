"""The ``sklearn`` family: a scikit-learn pipeline of preprocessing and gradient boosting.

Files in ``models/trained/``: ``model.joblib`` (the fitted ``Pipeline``,
raw feature columns in, probabilities out). Training curves (the log loss
on the train and validation sets after each boosting iteration) go to
dvclive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_gitops.params import parse_section
from mlops_gitops.training.families import TrainingData, TrainingError
from mlops_gitops.training.features import Feature

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import onnx
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

MODEL_FILE = "model.joblib"


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

    def predict_proba(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return ``[N, 2]`` class probabilities for a feature frame."""
        import numpy as np

        names = [f.name for f in self.features]
        return np.asarray(self.pipeline.predict_proba(frame[names]), dtype=np.float64)

    def save(self, folder: Path) -> None:
        """Write ``model.joblib``."""
        import joblib

        joblib.dump(self.pipeline, folder / MODEL_FILE)

    def to_onnx(self, *, opset: int) -> onnx.ModelProto:
        """Convert the whole pipeline with skl2onnx (probabilities as a tensor, not a map)."""
        from mlops_gitops.training.preprocessing import sklearn_to_onnx

        classifier = self.pipeline.steps[-1][1]
        options = {id(classifier): {"zipmap": False}}
        return sklearn_to_onnx(self.pipeline, self.features, opset=opset, options=options)


class SklearnFamily:
    """Fit, load and export scikit-learn pipelines."""

    tasks = ("binary", "multiclass", "regression")

    def fit(
        self, data: TrainingData, settings: Mapping[str, object], *, seed: int, live_dir: Path
    ) -> SklearnModel:
        """Fit preprocessing on the train frame, then boosting with the valid frame for stopping."""
        from sklearn.pipeline import Pipeline

        from mlops_gitops.training.preprocessing import tree_preprocessor

        params = parse_section(SklearnParams, settings, "model.sklearn")
        preprocess = tree_preprocessor(data.features).fit(data.train)
        classifier = _classifier(params, seed)
        train_matrix = preprocess.transform(data.train)
        if params.early_stopping:
            valid_matrix = preprocess.transform(data.valid)
            classifier.fit(
                train_matrix, data.train_label, X_val=valid_matrix, y_val=data.valid_label
            )
        else:
            classifier.fit(train_matrix, data.train_label)
        model = SklearnModel(
            Pipeline([("preprocess", preprocess), ("classifier", classifier)]), data.features
        )
        _log_curves(classifier, model, data, live_dir)
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


def _classifier(params: SklearnParams, seed: int) -> HistGradientBoostingClassifier:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=params.learning_rate,
        max_iter=params.max_iter,
        max_leaf_nodes=params.max_leaf_nodes,
        l2_regularization=params.l2_regularization,
        early_stopping=params.early_stopping,
        n_iter_no_change=params.n_iter_no_change,
        scoring="loss",
        random_state=seed,
    )


def _log_curves(
    classifier: HistGradientBoostingClassifier,
    model: SklearnModel,
    data: TrainingData,
    live_dir: Path,
) -> None:
    """Log the per-iteration losses (when early stopping recorded them) and the final scores."""
    import numpy as np
    from dvclive.live import Live
    from sklearn.metrics import log_loss, roc_auc_score

    train_scores = list(getattr(classifier, "train_score_", []))
    valid_scores = list(getattr(classifier, "validation_score_", []))
    valid_proba = model.predict_proba(data.valid)[:, 1]
    with Live(dir=str(live_dir), save_dvc_exp=False, dvcyaml=None) as live:
        # HistGradientBoosting records the negative loss as its score.
        for train_score, valid_score in zip(train_scores, valid_scores, strict=False):
            live.log_metric("train/log_loss", -float(train_score))
            live.log_metric("valid/log_loss", -float(valid_score))
            live.next_step()
        # Final values go to the summary only (metrics.json), not to the curves.
        summary = {"iterations": int(classifier.n_iter_)}
        valid = {"log_loss": float(log_loss(data.valid_label, valid_proba, labels=[0, 1]))}
        if len(np.unique(data.valid_label)) == 2:
            valid["roc_auc"] = float(roc_auc_score(data.valid_label, valid_proba))
        live.summary.update(summary)
        live.summary.setdefault("valid", {}).update(valid)
