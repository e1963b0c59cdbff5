"""The ``binary`` task: labels 0 and 1, the probability of class 1, a threshold decides.

The model's score output is ``probabilities`` ``[N, 2]``; the metrics and the
decision read the probability of the positive class 1, and a row is
predicted positive when it reaches ``evaluate.threshold``. A metric that is
undefined for the rows at hand (ROC AUC of a slice holding one class) is NaN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mlops_gitops.errors import DataError
from mlops_gitops.tasks.base import Labels, Metric, Output, Served, Watch

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from mlops_gitops.tasks.base import Classes

POSITIVE_CLASS = 1
CLASSES = ("0", "1")
CLASSIFICATION_OUTPUTS = (
    Output("label", "int64", "[N]"),
    Output("probabilities", "float", "[N, K]"),
)


def _accuracy(
    labels: npt.NDArray[np.generic], _: object, decided: npt.NDArray[np.generic]
) -> float:
    from sklearn import metrics

    return float(metrics.accuracy_score(labels, decided))


def _roc_auc(labels: npt.NDArray[np.generic], proba: npt.NDArray[np.float64], _: object) -> float:
    import numpy as np
    from sklearn import metrics

    if len(np.unique(labels)) != 2:
        return float("nan")
    return float(metrics.roc_auc_score(labels, proba))


def _f1(labels: npt.NDArray[np.generic], _: object, decided: npt.NDArray[np.generic]) -> float:
    from sklearn import metrics

    return float(metrics.f1_score(labels, decided, zero_division=0))


def _precision(
    labels: npt.NDArray[np.generic], _: object, decided: npt.NDArray[np.generic]
) -> float:
    from sklearn import metrics

    return float(metrics.precision_score(labels, decided, zero_division=0))


def _recall(labels: npt.NDArray[np.generic], _: object, decided: npt.NDArray[np.generic]) -> float:
    from sklearn import metrics

    return float(metrics.recall_score(labels, decided, zero_division=0))


def _log_loss(labels: npt.NDArray[np.generic], proba: npt.NDArray[np.float64], _: object) -> float:
    from sklearn import metrics

    return float(metrics.log_loss(labels, proba, labels=[0, 1]))


ACCURACY = Metric("accuracy", _accuracy, "maximize")
BINARY_METRICS = (
    ACCURACY,
    Metric("roc_auc", _roc_auc, "maximize"),
    Metric("f1", _f1, "maximize"),
    Metric("precision", _precision, "maximize"),
    Metric("recall", _recall, "maximize"),
    Metric("log_loss", _log_loss, "minimize"),
)


def _brier(labels: npt.NDArray[np.generic], proba: npt.NDArray[np.float64], _: object) -> float:
    import numpy as np

    return float(np.mean((proba - labels.astype(np.float64)) ** 2))


# Monitoring also watches calibration; the evaluation metrics file keeps BINARY_METRICS.
BINARY_WATCH = Watch(
    prediction="positive_rate",
    metrics=(*BINARY_METRICS, Metric("brier", _brier, "minimize")),
    defaults=("accuracy", "f1", "roc_auc"),
    health=("performance.accuracy_drop", 0.1),
)


class ClassificationTask:
    """What the classification tasks share: the ONNX outputs and the check of their label."""

    outputs = CLASSIFICATION_OUTPUTS
    supervised = True

    def agreement(
        self, onnx_outputs: Sequence[npt.NDArray[np.generic]], predicted: npt.NDArray[np.float64]
    ) -> float | None:
        """Return the share of rows where the ONNX label is the model's most probable class."""
        import numpy as np

        return float(np.mean(onnx_outputs[0] == np.argmax(predicted, axis=1)))


class BinaryTask(ClassificationTask):
    """Two classes, 0 and 1; class 1 is positive above ``evaluate.threshold``."""

    name, stratifies, headline = "binary", True, "roc_auc"
    metrics, monitoring = BINARY_METRICS, BINARY_WATCH
    plots = ("roc", "precision_recall", "confusion", "calibration")
    label_type = "int"  # the type validation gives an undeclared label (0/1)

    def encode_labels(self, column: pd.Series, *, origin: str, classes: Classes = None) -> Labels:
        """Return the 0/1 label as int64; training needs both classes."""
        import numpy as np

        label = column.name
        values = set(column.dropna().unique().tolist())
        if column.isna().any() or not values <= {0, 1}:
            found = ", ".join(sorted(map(str, values - {0, 1}))) or "missing values"
            raise DataError(
                f"{origin}: label '{label}' must hold 0 and 1 only (found {found}); "
                "for other classes set model.task: multiclass"
            )
        if classes is None and len(values) < 2:
            raise DataError(
                f"{origin}: label '{label}' has one class only; a classifier needs both"
            )
        return Labels(column.to_numpy(np.int64), CLASSES)

    def decision_scores(self, predicted: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return the probability of the positive class."""
        return predicted[:, POSITIVE_CLASS]

    def decide(
        self, scores: npt.NDArray[np.float64], *, threshold: float
    ) -> npt.NDArray[np.generic]:
        """Return 1 where the positive probability reaches ``threshold``, else 0."""
        import numpy as np

        return (scores >= threshold).astype(np.int64)

    def decision_rule(self, threshold: float) -> dict[str, float]:
        """Return the threshold."""
        return {"threshold": threshold}

    def decode(
        self, decisions: npt.NDArray[np.generic], classes: Sequence[str]
    ) -> list[int | float | str]:
        """Return the 0/1 codes as ints: they are the label's own values."""
        return [int(value) for value in decisions.tolist()]

    def rates(
        self, labels: npt.NDArray[np.generic], scores: npt.NDArray[np.float64], *, threshold: float
    ) -> dict[str, float]:
        """Return the share of actual positives and the share predicted positive."""
        import numpy as np

        return {
            "base_rate": float(np.mean(labels.astype(np.float64))),
            "positive_rate": float(np.mean(scores >= threshold)),
        }

    def per_class(
        self,
        labels: npt.NDArray[np.generic],
        scores: npt.NDArray[np.float64],
        *,
        threshold: float,
        classes: Sequence[str],
    ) -> dict[str, dict[str, float]]:
        """Return nothing: the flat metrics already are the positive class's."""
        return {}

    def served(
        self,
        outputs: Mapping[str, npt.NDArray[np.generic]],
        *,
        classes: Sequence[str],
        threshold: float,
    ) -> Served:
        """Return the 0/1 labels decided at ``threshold`` and the probability of class 1.

        The graph's own ``label`` (its arg-max) is replaced by the decision, so
        every consumer agrees with the threshold recorded at export. A graph
        without ``probabilities`` keeps its label and has no score (NaN).
        """
        import numpy as np

        proba = outputs.get("probabilities")
        if proba is None:
            labels = np.asarray(outputs["label"]).reshape(-1).astype(np.int64)
            scores = np.full(labels.shape[0], np.nan)
            return Served(
                predictions=labels,
                scores=scores,
                tensors={"label": labels},
                fields={"label": labels, "score": scores},
            )
        positive = proba[:, POSITIVE_CLASS] if proba.ndim == 2 else proba.reshape(-1)
        scores = positive.astype(np.float64)
        decided = self.decide(scores, threshold=threshold)
        return Served(
            predictions=decided,
            scores=scores,
            tensors={"label": decided, "probabilities": proba},
            fields={"label": decided, "score": scores},
        )
