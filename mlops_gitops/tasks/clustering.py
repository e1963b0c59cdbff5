"""The ``clustering`` task: no label to fit, the nearest centre is the decision.

The ONNX graph's outputs are ``label`` (``int64 [N]``, the cluster id
``0..K-1``) and ``distances`` (``float [N, K]``, the Euclidean distance of
each row to each centre, in the model's preprocessed feature space); the
decision is the nearest centre. Silhouette (the headline; on a seeded
sample of :data:`SILHOUETTE_SAMPLE` rows when there are more),
Davies-Bouldin and Calinski-Harabasz read the rows in that feature space
(``TrainedModel.embed``). A label column, when the data has one, is never
fitted: its values are only compared with the clusters (adjusted Rand
index). Each metric is NaN where it is undefined (fewer than two clusters
among the rows, or no label).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mlops_gitops.tasks.base import Labels, Metric, Output, Served, Watch
from mlops_gitops.tasks.labels import check_complete, has_labels

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from mlops_gitops.tasks.base import Classes, Direction

CLUSTERING_OUTPUTS = (
    Output("label", "int64", "[N]"),
    Output("distances", "float", "[N, K]"),
)
# Silhouette is quadratic in the rows: above this many it is computed on a seeded sample.
SILHOUETTE_SAMPLE = 5000


def _separable(decided: npt.NDArray[np.generic]) -> bool:
    import numpy as np

    # Every cluster-validity index needs 2 <= clusters <= rows - 1.
    return 2 <= len(np.unique(decided)) <= len(decided) - 1


def _validity(name: str, direction: Direction) -> Metric:
    """Return scikit-learn's cluster-validity index ``NAME_score`` as a metric on points."""

    def compute(
        points: npt.NDArray[np.generic], _: object, decided: npt.NDArray[np.generic]
    ) -> float:
        from sklearn import metrics

        if not _separable(decided):
            return float("nan")
        index = getattr(metrics, f"{name}_score")
        if name == "silhouette" and len(decided) > SILHOUETTE_SAMPLE:
            return float(index(points, decided, sample_size=SILHOUETTE_SAMPLE, random_state=0))
        return float(index(points, decided))

    return Metric(name, compute, direction, needs="points")


def _adjusted_rand(
    labels: npt.NDArray[np.generic], _: object, decided: npt.NDArray[np.generic]
) -> float:
    from sklearn import metrics

    if not has_labels(labels):
        return float("nan")
    return float(metrics.adjusted_rand_score(labels, decided))


CLUSTERING_METRICS = (
    _validity("silhouette", "maximize"),
    _validity("davies_bouldin", "minimize"),
    _validity("calinski_harabasz", "maximize"),
    Metric("adjusted_rand", _adjusted_rand, "maximize"),
)
# Monitoring: the drift of the cluster sizes; feedback does not apply (no label is predicted).
CLUSTERING_WATCH = Watch(
    prediction="classes",
    metrics=(),
    alerts=(("prediction-drift", "prediction.psi", ">=", 0.25),),
)


class ClusteringTask:
    """Rows grouped around K centres; no label is fitted."""

    name, stratifies, supervised, headline = "clustering", False, False, "silhouette"
    outputs, metrics, monitoring = CLUSTERING_OUTPUTS, CLUSTERING_METRICS, CLUSTERING_WATCH
    plots = ("cluster_sizes",)
    # A clustering has no ground truth to learn from: serving refuses feedback for it.
    takes_feedback = False
    # No decision to explain by a tree, no target to reach, no error per group: the
    # explain stage reports surrogate, counterfactuals and fairness as not applicable.
    explanations = ()
    # (analysis, why it does not apply), as the explain report says it
    inapplicable = (
        ("surrogate", "its tree describes a positive decision, and a cluster id is not one"),
        ("counterfactuals", "a cluster describes a row, it is no outcome to reach"),
        ("fairness", "without a label there is no error or favourable outcome to compare"),
    )
    # Attributions explain one number per row (``explained``); permutation importance,
    # without a label, compares the clusters of shuffled rows with the model's own.
    explains = "value"
    explained_as = "the distance of a row to the centre of its cluster (lower: more typical)"
    unlabelled_scoring = "adjusted_rand"

    def encode_labels(self, column: pd.Series, *, origin: str, classes: Classes = None) -> Labels:
        """Return codes of the label's values (compared with the clusters only, never fitted)."""
        import numpy as np

        from mlops_gitops.tasks.multiclass import class_names

        check_complete(column, column.name, origin=origin)
        names = class_names(column)  # each set on its own: the Rand index ignores naming
        codes = {name: code for code, name in enumerate(names)}
        return Labels(column.astype(str).map(codes).to_numpy(np.int64))

    def decision_scores(self, predicted: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return the distances to the centres as they are."""
        return predicted

    def explained(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return each row's distance to its nearest centre, the one it is assigned to."""
        import numpy as np

        nearest: npt.NDArray[np.float64] = np.asarray(scores, dtype=np.float64).min(axis=1)
        return nearest

    def decide(
        self, scores: npt.NDArray[np.float64], *, threshold: float
    ) -> npt.NDArray[np.generic]:
        """Return the id of the nearest centre (the threshold does not apply)."""
        import numpy as np

        decided: npt.NDArray[np.int64] = np.argmin(scores, axis=1).astype(np.int64)
        return decided

    def decision_rule(self, threshold: float) -> dict[str, float]:
        """Return nothing: the nearest centre has no parameter."""
        return {}

    def decode(
        self, decisions: npt.NDArray[np.generic], classes: Sequence[str]
    ) -> list[int | float | str]:
        """Return the cluster ids as ints."""
        return [int(value) for value in decisions.tolist()]

    def agreement(
        self, onnx_outputs: Sequence[npt.NDArray[np.generic]], predicted: npt.NDArray[np.float64]
    ) -> float | None:
        """Return the share of rows whose ONNX cluster id is the model's nearest centre."""
        import numpy as np

        return float(np.mean(onnx_outputs[0].reshape(-1) == np.argmin(predicted, axis=1)))

    def rates(
        self, labels: npt.NDArray[np.generic], scores: npt.NDArray[np.float64], *, threshold: float
    ) -> dict[str, float]:
        """Return nothing: a clustering has no positive class to compare across slices."""
        return {}

    def per_class(
        self,
        labels: npt.NDArray[np.generic],
        scores: npt.NDArray[np.float64],
        *,
        threshold: float,
        classes: Sequence[str],
    ) -> dict[str, dict[str, float]]:
        """Return each cluster's size and share of the rows, by cluster id."""
        import numpy as np

        sizes = np.bincount(self.decide(scores, threshold=threshold), minlength=scores.shape[1])
        total = max(int(sizes.sum()), 1)
        return {
            str(cluster): {"size": int(size), "share": float(size) / total}
            for cluster, size in enumerate(sizes.tolist())
        }

    def served(
        self,
        outputs: Mapping[str, npt.NDArray[np.generic]],
        *,
        classes: Sequence[str],
        threshold: float,
    ) -> Served:
        """Return the cluster ids; the logged score is the distance to the assigned centre."""
        import numpy as np

        ids = np.asarray(outputs["label"]).reshape(-1).astype(np.int64)
        distances = np.asarray(outputs["distances"], dtype=np.float64)
        own = distances[np.arange(ids.shape[0]), ids] if ids.size else np.empty(0)
        return Served(
            predictions=ids,
            scores=own,
            tensors={"label": ids, "distances": np.asarray(outputs["distances"])},
            fields={"label": ids, "distance": own},
        )
