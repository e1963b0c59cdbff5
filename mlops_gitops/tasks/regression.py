"""The ``regression`` task: a numeric label, the model predicts its value.

The model's score output is ``prediction`` ``float [N, 1]``; there is no
decision rule (the prediction is the decision) and no stratified split.
MAPE is NaN when a label is zero (it is undefined there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mlops_gitops.errors import DataError
from mlops_gitops.tasks.base import Labels, Metric, Output, Served, Watch
from mlops_gitops.tasks.labels import check_complete

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from mlops_gitops.tasks.base import Classes

REGRESSION_OUTPUTS = (Output("prediction", "float", "[N, 1]"),)


def _rmse(actual: npt.NDArray[np.generic], predicted: npt.NDArray[np.float64], _: object) -> float:
    import numpy as np

    return float(np.sqrt(np.mean((actual.astype(np.float64) - predicted) ** 2)))


def _mae(actual: npt.NDArray[np.generic], predicted: npt.NDArray[np.float64], _: object) -> float:
    from sklearn import metrics

    return float(metrics.mean_absolute_error(actual, predicted))


def _r2(actual: npt.NDArray[np.generic], predicted: npt.NDArray[np.float64], _: object) -> float:
    import numpy as np
    from sklearn import metrics

    if len(actual) < 2 or np.all(actual == actual[0]):
        return float("nan")
    return float(metrics.r2_score(actual, predicted))


def _mape(actual: npt.NDArray[np.generic], predicted: npt.NDArray[np.float64], _: object) -> float:
    import numpy as np
    from sklearn import metrics

    if np.any(actual == 0):
        return float("nan")
    return float(metrics.mean_absolute_percentage_error(actual, predicted))


def _residual_mean(
    actual: npt.NDArray[np.generic], predicted: npt.NDArray[np.float64], _: object
) -> float:
    import numpy as np

    return float(np.mean(actual.astype(np.float64) - predicted))


def _residual_std(
    actual: npt.NDArray[np.generic], predicted: npt.NDArray[np.float64], _: object
) -> float:
    import numpy as np

    return float(np.std(actual.astype(np.float64) - predicted))


REGRESSION_METRICS = (
    Metric("rmse", _rmse, "minimize"),
    Metric("mae", _mae, "minimize"),
    Metric("r2", _r2, "maximize"),
    Metric("mape", _mape, "minimize"),
    Metric("residual_mean", _residual_mean, "neutral"),
    Metric("residual_std", _residual_std, "minimize"),
)
REGRESSION_WATCH = Watch(
    prediction="scores",
    metrics=REGRESSION_METRICS,
    defaults=("rmse", "mae", "r2"),
    health=("performance.rmse_rise", 0.25),
    alerts=(
        ("prediction-drift", "prediction.psi", ">=", 0.25),
        ("performance-rise", "performance.rmse_rise", ">=", 0.25),
    ),
)


class RegressionTask:
    """A numeric label predicted as a value."""

    name, stratifies, headline = "regression", False, "rmse"
    outputs, metrics, monitoring = REGRESSION_OUTPUTS, REGRESSION_METRICS, REGRESSION_WATCH
    supervised = True
    plots = ("predicted_vs_actual",)
    label_type = "float"  # the type validation gives an undeclared label
    # Explanations attribute the predicted value; a surrogate tree of decisions does not apply.
    explains = "value"
    explanations = ("counterfactuals", "fairness")

    def encode_labels(self, column: pd.Series, *, origin: str, classes: Classes = None) -> Labels:
        """Return the label as float64; training needs more than one distinct value."""
        import numpy as np
        import pandas as pd

        label = column.name
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            sample = ", ".join(repr(str(v)) for v in column.dropna().unique()[:3])
            raise DataError(
                f"{origin}: label '{label}' must be numeric for task regression (found {sample}); "
                "use model.task: multiclass for named classes"
            )
        check_complete(column, label, origin=origin)
        values = column.to_numpy(np.float64)
        if not np.all(np.isfinite(values)):
            raise DataError(f"{origin}: label '{label}' holds infinite values")
        if classes is None and len(np.unique(values)) < 2:
            raise DataError(
                f"{origin}: label '{label}' has one value only; a regression needs it to vary"
            )
        return Labels(values)

    def decision_scores(self, predicted: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return the predicted values as a flat array."""
        return predicted.reshape(-1)

    def decide(
        self, scores: npt.NDArray[np.float64], *, threshold: float
    ) -> npt.NDArray[np.generic]:
        """Return the predicted values: they are the decision."""
        return scores

    def decision_rule(self, threshold: float) -> dict[str, float]:
        """Return nothing: a regression has no decision rule."""
        return {}

    def decode(
        self, decisions: npt.NDArray[np.generic], classes: Sequence[str]
    ) -> list[int | float | str]:
        """Return the values as floats."""
        return [float(value) for value in decisions.tolist()]

    def agreement(
        self, onnx_outputs: Sequence[npt.NDArray[np.generic]], predicted: npt.NDArray[np.float64]
    ) -> float | None:
        """Return None: a regression graph has no label output."""
        return None

    def rates(
        self, labels: npt.NDArray[np.generic], scores: npt.NDArray[np.float64], *, threshold: float
    ) -> dict[str, float]:
        """Return the mean actual and mean predicted value (compared across slices)."""
        import numpy as np

        return {
            "mean_actual": float(np.mean(labels.astype(np.float64))),
            "mean_predicted": float(np.mean(scores)),
        }

    def per_class(
        self,
        labels: npt.NDArray[np.generic],
        scores: npt.NDArray[np.float64],
        *,
        threshold: float,
        classes: Sequence[str],
    ) -> dict[str, dict[str, float]]:
        """Return nothing: a regression has no classes."""
        return {}

    def served(
        self,
        outputs: Mapping[str, npt.NDArray[np.generic]],
        *,
        classes: Sequence[str],
        threshold: float,
    ) -> Served:
        """Return the predicted values; the logged score is the value itself."""
        import numpy as np

        raw = np.asarray(outputs["prediction"])
        values = raw.reshape(-1).astype(np.float64)
        return Served(
            predictions=values,
            scores=values,
            tensors={"prediction": raw},
            fields={"prediction": values},
        )
