"""The evaluation plots as DVC plot files: JSON lists of records.

The field names are the ``x``/``y`` that ``dvc.yaml`` declares:
``roc.json`` (fpr, tpr), ``precision_recall.json`` (recall, precision),
``confusion.json`` (actual, predicted: one record per test row, DVC's
confusion template counts them; class names for a multiclass model),
``calibration.json`` (mean_predicted, fraction_positive), for a
regression ``predicted_vs_actual.json`` (actual, predicted, one per row),
for a clustering ``cluster_sizes.json`` (cluster, size: a bar per cluster)
and for an anomaly model ``score_histogram.json`` (score, count: the
centre of each score bin and its rows).
Curves are thinned to a few hundred points so the files stay small and
diffs readable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Record = dict[str, float | int | str]
PLOT_FILES = {
    "roc": "roc.json",
    "precision_recall": "precision_recall.json",
    "confusion": "confusion.json",
    "calibration": "calibration.json",
}


def roc_points(
    labels: npt.NDArray[np.generic], proba: npt.NDArray[np.float64], *, max_points: int = 200
) -> list[Record]:
    """Return the ROC curve as ``{fpr, tpr, threshold}`` records, at most ``max_points``."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(labels, proba)
    keep = _thin(len(fpr), max_points)
    return [
        {"fpr": _round(fpr[i]), "tpr": _round(tpr[i]), "threshold": _round(min(thresholds[i], 1.0))}
        for i in keep
    ]


def precision_recall_points(
    labels: npt.NDArray[np.generic], proba: npt.NDArray[np.float64], *, max_points: int = 200
) -> list[Record]:
    """Return the precision-recall curve as ``{recall, precision, threshold}`` records."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(labels, proba)
    # The last point (recall 0, precision 1) has no threshold of its own.
    cut = [*thresholds.tolist(), 1.0]
    keep = _thin(len(precision), max_points)
    return [
        {
            "recall": _round(recall[i]),
            "precision": _round(precision[i]),
            "threshold": _round(cut[i]),
        }
        for i in keep
    ]


def confusion_records(
    labels: npt.NDArray[np.int64] | Sequence[int | float | str],
    predicted: npt.NDArray[np.int64] | Sequence[int | float | str],
) -> list[Record]:
    """Return one ``{actual, predicted}`` record per row (DVC's confusion template).

    Codes become ints; class names stay as they are.
    """
    actual, decided = _plain(labels), _plain(predicted)
    return [{"actual": a, "predicted": p} for a, p in zip(actual, decided, strict=True)]


def predicted_records(
    actual: npt.NDArray[np.generic], predicted: npt.NDArray[np.float64]
) -> list[Record]:
    """Return one ``{actual, predicted}`` record per row of a regression."""
    return [
        {"actual": _round(a), "predicted": _round(p)}
        for a, p in zip(actual.tolist(), predicted.tolist(), strict=True)
    ]


def cluster_size_records(decided: npt.NDArray[np.generic], clusters: int) -> list[Record]:
    """Return one ``{cluster, size}`` record per cluster id ``0..clusters-1``."""
    import numpy as np

    sizes = np.bincount(decided.astype(np.int64), minlength=clusters)
    return [{"cluster": str(cluster), "size": int(size)} for cluster, size in enumerate(sizes)]


def score_histogram_records(scores: npt.NDArray[np.float64], *, bins: int = 20) -> list[Record]:
    """Return the histogram of ``scores``: ``{score, count}`` per bin, ``score`` its centre."""
    import numpy as np

    counts, edges = np.histogram(scores, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    return [
        {"score": _round(centre), "count": int(count)}
        for centre, count in zip(centres.tolist(), counts.tolist(), strict=True)
    ]


def _plain(values: npt.NDArray[np.int64] | Sequence[int | float | str]) -> list[int | str]:
    listed = values.tolist() if hasattr(values, "tolist") else list(values)
    return [value if isinstance(value, str) else int(value) for value in listed]


def calibration_points(
    labels: npt.NDArray[np.generic], proba: npt.NDArray[np.float64], *, bins: int = 10
) -> list[Record]:
    """Return the reliability curve: per probability bin, the mean prediction and positive share."""
    import numpy as np

    index = np.minimum((proba * bins).astype(np.int64), bins - 1)
    points: list[Record] = []
    for b in range(bins):
        mask = index == b
        if not mask.any():
            continue
        points.append(
            {
                "bin": b,
                "mean_predicted": _round(float(np.mean(proba[mask]))),
                "fraction_positive": _round(float(np.mean(labels[mask]))),
                "count": int(mask.sum()),
            }
        )
    return points


def write_plots(
    folder: str | os.PathLike[str], plots: Mapping[str, Sequence[Record]]
) -> list[Path]:
    """Write each plot (name -> records) to ``FOLDER/<name>.json`` atomically."""
    from mlops_gitops.roundtrip import write_atomic

    written: list[Path] = []
    for name, records in plots.items():
        path = Path(folder) / PLOT_FILES.get(name, f"{name}.json")
        write_atomic(path, json.dumps(list(records), separators=(",", ":")) + "\n")
        written.append(path)
    return written


def _thin(count: int, max_points: int) -> list[int]:
    import numpy as np

    if count <= max_points:
        return list(range(count))
    return sorted(set(np.linspace(0, count - 1, max_points).round().astype(int).tolist()))


def _round(value: float) -> float:
    return round(float(value), 6)
