"""The ``anomaly`` task: no label to fit, a score says how unusual a row is.

The ONNX graph's outputs are ``label`` (``int64 [N]``: 1 = anomaly, 0 =
normal) and ``scores`` (``float [N, 1]``: higher = more anomalous; a row is
flagged where its score is above 0, the cut the estimator set at fit time
from its ``contamination``). For scikit-learn's isolation forest the score
is minus ``decision_function``, and the graph maps its -1/1 prediction to
1/0. A label, when the data has one, must hold 0 and 1 (1 = anomaly) and is
used for evaluation only: ROC AUC (the headline; NaN without labels, where
``share_flagged`` is the figure to compare with ``contamination``), average
precision and precision at k (k = the number of true anomalies).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mlops_gitops.errors import DataError
from mlops_gitops.tasks.base import Labels, Metric, Output, Served, Watch
from mlops_gitops.tasks.binary import BINARY_METRICS
from mlops_gitops.tasks.labels import check_complete, has_labels

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from mlops_gitops.tasks.base import Classes

ANOMALY = 1
ANOMALY_OUTPUTS = (
    Output("label", "int64", "[N]"),
    Output("scores", "float", "[N, 1]"),
)
# The score quantiles the metrics file reports, by metric name.
SCORE_QUANTILES = {"score_p50": 0.5, "score_p90": 0.9, "score_p99": 0.99}


def _ranking(name: str, sklearn_name: str) -> Metric:
    """Return a scikit-learn ranking metric of the scores, NaN unless both kinds of row are in."""

    def compute(
        labels: npt.NDArray[np.generic], scores: npt.NDArray[np.float64], _: object
    ) -> float:
        import numpy as np
        from sklearn import metrics

        if not has_labels(labels) or len(np.unique(labels)) != 2:
            return float("nan")
        return float(getattr(metrics, sklearn_name)(labels, scores))

    return Metric(name, compute, "maximize")


def _precision_at_k(
    labels: npt.NDArray[np.generic], scores: npt.NDArray[np.float64], _: object
) -> float:
    """Return the share of true anomalies among the k top-scored rows (k = true anomalies)."""
    import numpy as np

    if not has_labels(labels):
        return float("nan")
    k = int(np.sum(labels == ANOMALY))
    if k == 0:
        return float("nan")
    top = np.argsort(-scores, kind="stable")[:k]
    return float(np.mean(labels[top] == ANOMALY))


def _share_flagged(_: object, __: object, decided: npt.NDArray[np.generic]) -> float:
    import numpy as np

    return float(np.mean(decided == ANOMALY)) if len(decided) else float("nan")


def _quantile(name: str, q: float) -> Metric:
    def compute(scores: npt.NDArray[np.generic], _: object, __: object) -> float:
        import numpy as np

        values = scores.astype(np.float64)
        return float(np.quantile(values, q)) if len(values) else float("nan")

    return Metric(name, compute, "neutral", needs="scores")


ANOMALY_METRICS = (
    _ranking("roc_auc", "roc_auc_score"),
    _ranking("average_precision", "average_precision_score"),
    Metric("precision_at_k", _precision_at_k, "maximize"),
    Metric("share_flagged", _share_flagged, "neutral", needs="scores"),
    *(_quantile(name, q) for name, q in SCORE_QUANTILES.items()),
)
# Monitoring: the anomaly score's drift, and from 0/1 feedback (1 = anomaly) the
# ranking metrics plus precision and recall of the flag (binary's, 1 positive).
ANOMALY_WATCH = Watch(
    prediction="scores",
    metrics=(
        *(m for m in ANOMALY_METRICS if m.needs == "labels"),
        *(m for m in BINARY_METRICS if m.name in ("precision", "recall")),
    ),
    defaults=("roc_auc", "precision", "recall"),
    health=("performance.roc_auc_drop", 0.1),
    alerts=(
        ("prediction-drift", "prediction.psi", ">=", 0.25),
        ("performance-drop", "performance.roc_auc_drop", ">=", 0.1),
    ),
)


class AnomalyTask:
    """Rows scored by how anomalous they are; those above 0 are flagged (label 1)."""

    name, stratifies, supervised, headline = "anomaly", True, False, "roc_auc"
    outputs, metrics, monitoring = ANOMALY_OUTPUTS, ANOMALY_METRICS, ANOMALY_WATCH
    plots = ("score_histogram",)
    label_type = "int"  # the type validation gives an undeclared label (0/1)
    # A surrogate tree describes the flags (the positive decision); counterfactuals and
    # fairness of anomaly flags are not offered yet: the explain stage says so.
    explanations = ("surrogate",)
    # (analysis, why it does not apply), as the explain report says it
    inapplicable = (
        ("counterfactuals", "a flagged row is reviewed, not changed until it passes"),
        (
            "fairness",
            "not offered for anomaly flags yet; the evaluation slices hold each "
            "group's flagged rate",
        ),
    )
    # Attributions explain the anomaly score; permutation importance reads the label
    # when the rows have one, else the model's own flags.
    explains = "value"
    explained_as = "the anomaly score (higher: more unusual; flagged above 0)"
    unlabelled_scoring = "roc_auc"

    def encode_labels(self, column: pd.Series, *, origin: str, classes: Classes = None) -> Labels:
        """Return the 0/1 label as int64 (1 = anomaly); one kind alone is allowed."""
        import numpy as np

        label = column.name
        check_complete(column, label, origin=origin)
        values = set(column.unique().tolist())
        if not values <= {0, 1}:
            found = ", ".join(sorted(map(str, values - {0, 1}))[:5])
            raise DataError(
                f"{origin}: label '{label}' must hold 0 and 1 only for task anomaly "
                f"(1 = anomaly; found {found}); or set data.label: null to evaluate without it"
            )
        return Labels(column.to_numpy(np.int64))

    def decision_scores(self, predicted: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return the anomaly scores as a flat array."""
        return predicted.reshape(-1)

    def decide(
        self, scores: npt.NDArray[np.float64], *, threshold: float
    ) -> npt.NDArray[np.generic]:
        """Return 1 where the score is above 0, else 0 (``evaluate.threshold`` does not apply)."""
        import numpy as np

        return (scores > 0).astype(np.int64)

    def decision_rule(self, threshold: float) -> dict[str, float]:
        """Return the score above which a row is flagged."""
        return {"score_threshold": 0.0}

    def decode(
        self, decisions: npt.NDArray[np.generic], classes: Sequence[str]
    ) -> list[int | float | str]:
        """Return the 0/1 flags as ints."""
        return [int(value) for value in decisions.tolist()]

    def agreement(
        self, onnx_outputs: Sequence[npt.NDArray[np.generic]], predicted: npt.NDArray[np.float64]
    ) -> float | None:
        """Return the share of rows whose ONNX flag is the model's own decision."""
        import numpy as np

        decided = self.decide(predicted.reshape(-1), threshold=0.0)
        return float(np.mean(onnx_outputs[0].reshape(-1) == decided))

    def rates(
        self, labels: npt.NDArray[np.generic], scores: npt.NDArray[np.float64], *, threshold: float
    ) -> dict[str, float]:
        """Return the share flagged and, with labels, the share of actual anomalies."""
        import numpy as np

        rates = {"flagged_rate": float(np.mean(scores > 0))}
        if has_labels(labels):
            rates["anomaly_rate"] = float(np.mean(labels == ANOMALY))
        return rates

    def per_class(
        self,
        labels: npt.NDArray[np.generic],
        scores: npt.NDArray[np.float64],
        *,
        threshold: float,
        classes: Sequence[str],
    ) -> dict[str, dict[str, float]]:
        """Return nothing: the flat metrics already are the anomaly class's."""
        return {}

    def served(
        self,
        outputs: Mapping[str, npt.NDArray[np.generic]],
        *,
        classes: Sequence[str],
        threshold: float,
    ) -> Served:
        """Return the flags (1 = anomaly) and the anomaly scores (higher = more anomalous)."""
        import numpy as np

        flags = np.asarray(outputs["label"]).reshape(-1).astype(np.int64)
        raw = np.asarray(outputs["scores"])
        scores = raw.reshape(-1).astype(np.float64)
        return Served(
            predictions=flags,
            scores=scores,
            tensors={"label": flags, "scores": raw},
            fields={"label": flags, "score": scores},
        )
