"""The ONNX converter of scikit-learn's ``IsolationForest``: every tree in one node.

skl2onnx's own converter builds about 27 nodes per tree (a tree node, label
encoders for each leaf's depth and sample count, and the arithmetic of the
average path length), so a 100-tree forest is a graph of 2,700 nodes that
ONNX Runtime takes milliseconds to run for one row. Everything those nodes
compute per leaf is fixed once the forest is fitted: the leaf's depth plus
the average path length of the samples it holds, minus one. This converter
stores that number as the leaf's value, so one ``TreeEnsembleRegressor``
sums the path lengths of all trees, and five nodes turn the sum into
scikit-learn's ``score_samples``, ``decision_function`` and ``predict``.
It also handles ``max_features`` below 1 (each tree reads its own subset of
the columns), which skl2onnx refuses.

:func:`register` makes skl2onnx use it for every ``IsolationForest``, with
skl2onnx's own shape calculator and outputs (``label`` -1/1, ``scores`` the
decision function, and ``score_samples`` on request), so a pipeline holding
one converts as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sklearn.ensemble import IsolationForest

ALIAS = "SklearnIsolationForest"


def register() -> None:
    """Make skl2onnx convert ``IsolationForest`` with :func:`convert` (idempotent)."""
    from skl2onnx import update_registered_converter
    from skl2onnx.shape_calculators.isolation_forest import (
        calculate_isolation_forest_output_shapes,
    )
    from sklearn.ensemble import IsolationForest

    update_registered_converter(
        IsolationForest,
        ALIAS,
        calculate_isolation_forest_output_shapes,
        convert,
        options={"score_samples": [True, False]},
        overwrite=True,
    )


def leaf_path_lengths(forest: IsolationForest) -> dict[str, Any]:
    """Return the attributes of one ``TreeEnsembleRegressor`` over all of ``forest``'s trees.

    A leaf's value is the path length scikit-learn adds for a row that ends
    there: the leaf's depth, plus the average path length of the training
    samples it holds, minus one. Split thresholds are adjusted to float32 as
    skl2onnx does for scikit-learn's trees, and feature ids are mapped to the
    columns of the whole input when each tree reads a subset.
    """
    import numpy as np
    from skl2onnx.common.tree_ensemble import add_node, get_default_tree_regressor_attribute_pairs
    from sklearn.ensemble._iforest import _average_path_length

    attrs: dict[str, Any] = get_default_tree_regressor_attribute_pairs()
    subset = forest._max_features != forest.n_features_in_
    for tree_id, (estimator, columns) in enumerate(
        zip(forest.estimators_, forest.estimators_features_, strict=True)
    ):
        tree = estimator.tree_
        lengths = tree.compute_node_depths() + _average_path_length(tree.n_node_samples) - 1.0
        for node in range(tree.node_count):
            leaf = tree.children_left[node] == -1
            feature = int(tree.feature[node])
            add_node(
                attrs,
                False,
                tree_id,
                1.0,
                node,
                0 if leaf else int(columns[feature]) if subset else feature,
                "LEAF" if leaf else "BRANCH_LEQ",
                0.0 if leaf else float(tree.threshold[node]),
                0 if leaf else int(tree.children_left[node]),
                0 if leaf else int(tree.children_right[node]),
                np.array([lengths[node]]),
                0,
                False,
                True,
                np.float32,
            )
    attrs.update(n_targets=1, post_transform="NONE", aggregate_function="SUM")
    return attrs


def convert(scope: Any, operator: Any, container: Any) -> None:
    """Write ``operator``'s forest as one tree ensemble and the score arithmetic."""
    from skl2onnx.algebra.onnx_ops import OnnxCast, OnnxTreeEnsembleRegressor_1
    from skl2onnx.proto import onnx_proto

    forest = operator.raw_operator
    opv = container.target_opset
    options = container.get_options(forest, {"score_samples": None})
    source = operator.inputs[0]
    if source.type.__class__.__name__ != "FloatTensorType":
        source = OnnxCast(source, to=onnx_proto.TensorProto.FLOAT, op_version=opv)
    total = OnnxTreeEnsembleRegressor_1(source, op_version=1, **leaf_path_lengths(forest))
    outputs = operator.outputs
    samples_name = outputs[2].full_name if options["score_samples"] else None
    predict, score_samples = _scores(
        forest, total, opv=opv, outputs=outputs, samples_name=samples_name
    )
    predict.add_to(scope, container)  # with the decision function it is computed from
    if options["score_samples"]:
        score_samples.add_to(scope, container)


def _scores(
    forest: IsolationForest, total: Any, *, opv: int, outputs: Any, samples_name: str | None
) -> tuple[Any, Any]:
    """Return the nodes of ``predict`` and ``score_samples`` from the summed path lengths."""
    import numpy as np
    from skl2onnx.algebra.onnx_ops import OnnxAdd, OnnxCast, OnnxExp, OnnxLess, OnnxMul, OnnxNeg
    from skl2onnx.proto import onnx_proto
    from sklearn.ensemble._iforest import _average_path_length

    # score_samples = -2 ** (-total / denominator) = -exp(-total * ln 2 / denominator)
    denominator = len(forest.estimators_) * float(_average_path_length([forest.max_samples_])[0])
    rate = np.array([-np.log(2.0) / denominator], dtype=np.float32)
    score_samples = OnnxNeg(
        OnnxExp(OnnxMul(total, rate, op_version=opv), op_version=opv),
        op_version=opv,
        output_names=samples_name,
    )
    decision = OnnxAdd(
        score_samples,
        np.array([-forest.offset_], dtype=np.float32),
        op_version=opv,
        output_names=outputs[1].full_name,
    )
    outlier = OnnxCast(
        OnnxLess(decision, np.array([0], dtype=np.float32), op_version=opv),
        to=onnx_proto.TensorProto.INT64,
        op_version=opv,
    )
    predict = OnnxAdd(  # -1 for an outlier, 1 otherwise, as IsolationForest.predict
        OnnxMul(outlier, np.array([-2], dtype=np.int64), op_version=opv),
        np.array([1], dtype=np.int64),
        op_version=opv,
        output_names=outputs[0].full_name,
    )
    return predict, score_samples
