"""The isolation forest's ONNX graph: one tree ensemble, scikit-learn's numbers.

The data ship with scikit-learn (breast cancer, 30 numeric columns). Each
forest is converted through skl2onnx with the platform's converter
registered, run in ONNX Runtime and compared with scikit-learn's
``predict``, ``decision_function`` and ``score_samples`` on rows it did not
see, for the settings a project can choose.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from sklearn import datasets
from sklearn.ensemble import IsolationForest

from mlops_gitops.contract import open_session
from mlops_gitops.training import isolation_forest_onnx


def _converted(forest: IsolationForest, width: int) -> onnx.ModelProto:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    isolation_forest_onnx.register()
    return convert_sklearn(
        forest,
        initial_types=[("X", FloatTensorType([None, width]))],
        target_opset={"": 18, "ai.onnx.ml": 3},
        options={id(forest): {"score_samples": True}},
    )


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"max_features": 0.5},  # each tree reads its own subset of the columns
        {"bootstrap": True, "max_samples": 64},
        {"contamination": 0.05, "n_estimators": 37},
    ],
    ids=["default", "feature-subsets", "bootstrap", "contamination"],
)
def test_the_graph_gives_scikit_learns_scores_and_labels(tmp_path, settings):
    x = datasets.load_breast_cancer().data.astype(np.float32)
    train, test = x[:400], x[400:]
    forest = IsolationForest(random_state=0, **settings).fit(train)
    proto = _converted(forest, x.shape[1])
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count("TreeEnsembleRegressor") == 1 and len(ops) <= 10, ops
    path = tmp_path / "forest.onnx"
    path.write_bytes(proto.SerializeToString())
    label, scores, samples = open_session(path).run(
        ["label", "scores", "score_samples"], {"X": test}
    )
    np.testing.assert_array_equal(label.ravel(), forest.predict(test))
    np.testing.assert_allclose(scores.ravel(), forest.decision_function(test), atol=1e-5)
    np.testing.assert_allclose(samples.ravel(), forest.score_samples(test), atol=1e-5)
    if "contamination" in settings:  # the cut flags about that share of the rows
        assert 0 < (label == -1).mean() < 0.2


def test_registering_twice_keeps_one_converter():
    from skl2onnx import _supported_operators

    isolation_forest_onnx.register()
    isolation_forest_onnx.register()
    converter = _supported_operators.sklearn_operator_name_map[IsolationForest]
    assert converter == isolation_forest_onnx.ALIAS
