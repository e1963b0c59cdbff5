"""The scikit-learn estimators of the catalogue: their ``model.sklearn`` keys and how each is built.

Each class validates ``model.sklearn`` for one ``estimator`` (an unknown
key or a wrong type names ``model.sklearn.KEY``) and builds the classifier,
regressor, clusterer or anomaly detector the task needs. The two
unsupervised ones (``kmeans``, ``isolation_forest``) fit the features only:
a label, where the data has one, is never fitted. scikit-learn is imported
only when one is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from mlops_gitops.training.estimator import CurveLog, EstimatorParams, Fitting

if TYPE_CHECKING:
    from dvclive.live import Live
    from sklearn.base import BaseEstimator

CLASSIFICATION = frozenset({"binary", "multiclass"})


class HistGradientBoostingParams(EstimatorParams):
    """``estimator: hist_gradient_boosting``: histogram gradient boosting, curves per iteration."""

    estimator: Literal["hist_gradient_boosting"] = "hist_gradient_boosting"
    learning_rate: float = Field(0.1, gt=0)
    max_iter: int = Field(200, ge=1)
    max_leaf_nodes: int = Field(31, ge=2)
    l2_regularization: float = Field(0.0, ge=0)
    early_stopping: bool = True
    n_iter_no_change: int = Field(10, ge=1)

    def build(self, task: str, seed: int) -> BaseEstimator:
        from sklearn import ensemble

        kind = "Classifier" if task in CLASSIFICATION else "Regressor"
        booster: BaseEstimator = getattr(ensemble, f"HistGradientBoosting{kind}")(
            **self.model_dump(exclude={"estimator"}), scoring="loss", random_state=seed
        )
        return booster

    def fit(self, estimator: BaseEstimator, train: Fitting, valid: Fitting) -> None:
        if self.early_stopping:
            estimator.fit(*train, X_val=valid[0], y_val=valid[1])
        else:
            estimator.fit(*train)

    def curves(self, estimator: BaseEstimator, live: Live) -> CurveLog:
        """Log the loss on both sets after each iteration (recorded when stopping early)."""
        loss = str(estimator.loss)  # log_loss for classifiers, squared_error else
        train_scores = list(getattr(estimator, "train_score_", []))
        valid_scores = list(getattr(estimator, "validation_score_", []))
        # HistGradientBoosting records the negative loss as its score.
        for train_score, valid_score in zip(train_scores, valid_scores, strict=False):
            live.log_metric(f"train/{loss}", -float(train_score))
            live.log_metric(f"valid/{loss}", -float(valid_score))
            live.next_step()  # type: ignore[no-untyped-call]  # dvclive leaves it unannotated
        return CurveLog(summary={"iterations": int(estimator.n_iter_)}, loss=loss)


class LogisticRegressionParams(EstimatorParams):
    """``estimator: logistic_regression``: L2, L1 or elastic net (``C``, ``l1_ratio``)."""

    estimator: Literal["logistic_regression"] = "logistic_regression"
    C: float = Field(1.0, gt=0)  # inverse strength: smaller regularises more
    l1_ratio: float = Field(0.0, ge=0, le=1)  # 0: L2, 1: L1, between: elastic net
    max_iter: int = Field(1000, ge=1)

    def build(self, task: str, seed: int) -> BaseEstimator:
        from sklearn.linear_model import LogisticRegression

        # lbfgs is exact for L2; only saga handles an L1 part.
        solver = "lbfgs" if self.l1_ratio == 0 else "saga"
        model: BaseEstimator = LogisticRegression(
            C=self.C, l1_ratio=self.l1_ratio, max_iter=self.max_iter, solver=solver,
            random_state=seed,
        )  # fmt: skip
        return model


class LinearRegressionParams(EstimatorParams):
    """``estimator: linear_regression``: least squares, ridge or elastic net (``alpha``)."""

    estimator: Literal["linear_regression"] = "linear_regression"
    alpha: float = Field(1.0, ge=0)  # strength: 0 is plain least squares
    l1_ratio: float = Field(0.0, ge=0, le=1)  # 0: ridge (L2), 1: lasso (L1), between: elastic net
    max_iter: int = Field(1000, ge=1)

    def build(self, task: str, seed: int) -> BaseEstimator:
        from sklearn import linear_model

        model: BaseEstimator
        if self.alpha == 0:
            model = linear_model.LinearRegression()
        elif self.l1_ratio == 0:
            model = linear_model.Ridge(alpha=self.alpha, random_state=seed)
        else:
            model = linear_model.ElasticNet(
                alpha=self.alpha, l1_ratio=self.l1_ratio, max_iter=self.max_iter,
                random_state=seed,
            )  # fmt: skip
        return model


class _ForestParams(EstimatorParams):
    n_estimators: int = Field(100, ge=1)
    max_depth: int | None = Field(None, ge=1)  # None: grow until leaves are pure
    min_samples_leaf: int = Field(1, ge=1)
    # None: scikit-learn's default for the task (sqrt for classifiers, all for regressors).
    max_features: Literal["sqrt", "log2"] | float | None = None

    def _build(self, kind: str, task: str, seed: int) -> BaseEstimator:
        from sklearn import ensemble

        suffix = "Classifier" if task in CLASSIFICATION else "Regressor"
        keys = self.model_dump(exclude={"estimator"}, exclude_none=True)
        keys.setdefault("max_depth", None)
        forest: BaseEstimator = getattr(ensemble, f"{kind}{suffix}")(**keys, random_state=seed)
        return forest


class RandomForestParams(_ForestParams):
    """``estimator: random_forest``: bagged decision trees."""

    estimator: Literal["random_forest"] = "random_forest"

    def build(self, task: str, seed: int) -> BaseEstimator:
        return self._build("RandomForest", task, seed)


class ExtraTreesParams(_ForestParams):
    """``estimator: extra_trees``: extremely randomised trees."""

    estimator: Literal["extra_trees"] = "extra_trees"

    def build(self, task: str, seed: int) -> BaseEstimator:
        return self._build("ExtraTrees", task, seed)


Share = Annotated[float, Field(gt=0, le=0.5)]
Count = Annotated[int, Field(ge=1)]


class KMeansParams(EstimatorParams):
    """``estimator: kmeans``: k-means clustering on standardised features."""

    estimator: Literal["kmeans"] = "kmeans"
    n_clusters: int = Field(8, ge=2)
    init: Literal["k-means++", "random"] = "k-means++"
    n_init: int = Field(10, ge=1)
    max_iter: int = Field(300, ge=1)
    tol: float = Field(1e-4, ge=0)

    def build(self, task: str, seed: int) -> BaseEstimator:
        from sklearn.cluster import KMeans

        clusterer: BaseEstimator = KMeans(
            **self.model_dump(exclude={"estimator"}), random_state=seed
        )
        return clusterer

    def fit(self, estimator: BaseEstimator, train: Fitting, valid: Fitting) -> None:
        """Fit the features only, after checking there are enough rows for the clusters."""
        from mlops_gitops.training.families import TrainingError

        rows = len(train[0])  # type: ignore[arg-type]  # a preprocessed matrix
        if self.n_clusters > rows:
            raise TrainingError(
                f"params.yaml model.sklearn.n_clusters: {self.n_clusters} clusters need at least "
                f"as many training rows (found {rows}); lower n_clusters"
            )
        estimator.fit(train[0])


class IsolationForestParams(EstimatorParams):
    """``estimator: isolation_forest``: an isolation forest, higher scores more anomalous."""

    estimator: Literal["isolation_forest"] = "isolation_forest"
    n_estimators: int = Field(100, ge=1)
    # The expected share of anomalies (it sets the cut at 0); auto: scikit-learn's fixed offset.
    contamination: Literal["auto"] | Share = "auto"
    max_samples: Literal["auto"] | Count = "auto"
    max_features: float = Field(1.0, gt=0, le=1)
    bootstrap: bool = False

    def build(self, task: str, seed: int) -> BaseEstimator:
        from sklearn.ensemble import IsolationForest

        detector: BaseEstimator = IsolationForest(
            **self.model_dump(exclude={"estimator"}), random_state=seed
        )
        return detector

    def fit(self, estimator: BaseEstimator, train: Fitting, valid: Fitting) -> None:
        """Fit the features only: the label, when there is one, is for evaluation."""
        estimator.fit(train[0])
