"""The ``multiclass`` task: two or more named classes, the most probable one is the decision.

Class names are the label's own values as text (``low``, ``mid``, ``high``
or ``0``, ``1``, ``2``), sorted (numbers by value); the model sees their
codes ``0..K-1`` and its score output is ``probabilities`` ``[N, K]`` in that
order. Training records the names, so later sets are encoded the same way
and decisions are decoded back to names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mlops_gitops.errors import DataError
from mlops_gitops.tasks.base import Labels, Metric, Served, Watch
from mlops_gitops.tasks.binary import ACCURACY, ClassificationTask
from mlops_gitops.tasks.labels import check_complete

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from mlops_gitops.tasks.base import Classes


def _every_class(proba: npt.NDArray[np.float64]) -> list[int]:
    return list(range(proba.shape[1]))


def _f1(average: str) -> Metric:
    def compute(
        labels: npt.NDArray[np.generic],
        proba: npt.NDArray[np.float64],
        decided: npt.NDArray[np.generic],
    ) -> float:
        from sklearn import metrics

        classes = _every_class(proba)
        return float(
            metrics.f1_score(labels, decided, labels=classes, average=average, zero_division=0)
        )

    return Metric(f"f1_{average}", compute, "maximize")


def _log_loss(labels: npt.NDArray[np.generic], proba: npt.NDArray[np.float64], _: object) -> float:
    from sklearn import metrics

    # Probabilities computed in float32 (an ONNX graph, a network) sum to one only
    # to float32 precision; scikit-learn warns unless they are renormalised.
    rows = proba / proba.sum(axis=1, keepdims=True)
    return float(metrics.log_loss(labels, rows, labels=_every_class(proba)))


def _roc_auc_ovr(
    labels: npt.NDArray[np.generic], proba: npt.NDArray[np.float64], _: object
) -> float:
    import numpy as np
    from sklearn import metrics

    classes = _every_class(proba)
    # One-vs-rest AUC needs every class among the rows (a small slice may lack one).
    if len(np.unique(labels)) != len(classes):
        return float("nan")
    if len(classes) == 2:
        return float(metrics.roc_auc_score(labels, proba[:, -1]))
    return float(metrics.roc_auc_score(labels, proba, multi_class="ovr", labels=classes))


MULTICLASS_METRICS = (
    ACCURACY,
    _f1("macro"),
    _f1("weighted"),
    Metric("log_loss", _log_loss, "minimize"),
    Metric("roc_auc_ovr", _roc_auc_ovr, "maximize"),
)
MULTICLASS_WATCH = Watch(
    prediction="classes",
    metrics=MULTICLASS_METRICS,
    defaults=("f1_macro", "accuracy"),
    health=("performance.f1_macro_drop", 0.1),
    alerts=(
        ("prediction-drift", "prediction.psi", ">=", 0.25),
        ("performance-drop", "performance.f1_macro_drop", ">=", 0.1),
    ),
)


class MulticlassTask(ClassificationTask):
    """Named classes; the decision is the most probable class."""

    name, stratifies, headline = "multiclass", True, "f1_macro"
    metrics, monitoring = MULTICLASS_METRICS, MULTICLASS_WATCH
    plots = ("confusion",)
    explains = "classes"  # explanations attribute each class's probability

    def encode_labels(self, column: pd.Series, *, origin: str, classes: Classes = None) -> Labels:
        """Return the class codes; without ``classes`` they are learned (two at least)."""
        import numpy as np

        label = column.name
        check_complete(column, label, origin=origin)
        names = column.astype(str)
        known = tuple(classes) if classes is not None else class_names(column)
        if classes is None and len(known) < 2:
            raise DataError(
                f"{origin}: label '{label}' has one class only ({known[0] if known else 'none'}); "
                "a classifier needs two at least"
            )
        codes = {name: code for code, name in enumerate(known)}
        unknown = sorted(set(names) - set(codes))
        if unknown:
            raise DataError(
                f"{origin}: label '{label}' holds {', '.join(unknown[:5])}, not among the "
                f"classes the model was trained on ({', '.join(known)})"
            )
        return Labels(names.map(codes).to_numpy(np.int64), known)

    def decision_scores(self, predicted: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return the class probabilities as they are."""
        return predicted

    def decide(
        self, scores: npt.NDArray[np.float64], *, threshold: float
    ) -> npt.NDArray[np.generic]:
        """Return the code of the most probable class (the threshold does not apply)."""
        import numpy as np

        decided: npt.NDArray[np.int64] = np.argmax(scores, axis=1).astype(np.int64)
        return decided

    def decision_rule(self, threshold: float) -> dict[str, float]:
        """Return nothing: the arg-max has no parameter."""
        return {}

    def decode(
        self, decisions: npt.NDArray[np.generic], classes: Sequence[str]
    ) -> list[int | float | str]:
        """Return the class names of the codes."""
        return [classes[int(code)] for code in decisions.tolist()]

    def rates(
        self, labels: npt.NDArray[np.generic], scores: npt.NDArray[np.float64], *, threshold: float
    ) -> dict[str, float]:
        """Return nothing yet: per-class shares come with multiclass fairness."""
        return {}

    def per_class(
        self,
        labels: npt.NDArray[np.generic],
        scores: npt.NDArray[np.float64],
        *,
        threshold: float,
        classes: Sequence[str],
    ) -> dict[str, dict[str, float]]:
        """Return precision, recall, F1 and support of each class, by class name."""
        from sklearn import metrics

        codes = list(range(len(classes)))
        decided = self.decide(scores, threshold=threshold)
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            labels, decided, labels=codes, zero_division=0
        )
        return {
            name: {
                "precision": float(precision[code]),
                "recall": float(recall[code]),
                "f1": float(f1[code]),
                "support": int(support[code]),
            }
            for code, name in enumerate(classes)
        }

    def served(
        self,
        outputs: Mapping[str, npt.NDArray[np.generic]],
        *,
        classes: Sequence[str],
        threshold: float,
    ) -> Served:
        """Return the most probable class's name and probability, and every class's probability."""
        import numpy as np

        proba = np.asarray(outputs["probabilities"])
        codes = self.decide(proba, threshold=threshold)
        names = tuple(classes) or tuple(str(code) for code in range(proba.shape[1]))
        labels = np.asarray(names, dtype=object)[codes]
        scores = proba[np.arange(codes.shape[0]), codes].astype(np.float64)
        by_class = {name: proba[:, code].astype(np.float64) for code, name in enumerate(names)}
        return Served(
            predictions=labels,
            scores=scores,
            tensors={"label": labels, "probabilities": proba},
            fields={"label": labels, "score": scores, "probabilities": by_class},
            columns={f"proba:{name}": column for name, column in by_class.items()},
            parameters={"probabilities": {"classes": list(names)}},
        )


def class_names(column: pd.Series) -> tuple[str, ...]:
    """Return the distinct values of ``column`` as text, sorted (numbers by value)."""
    values = column.dropna().unique().tolist()
    try:
        ordered = sorted(values)
    except TypeError:  # mixed kinds (numbers and text): sort as text
        ordered = sorted(values, key=str)
    return tuple(dict.fromkeys(str(value) for value in ordered))
