"""Explain the model: importance, SHAP, LIME, decision paths, correlation, fairness."""

from mlops_gitops import stage
from mlops_gitops.explain import explain_model


def main() -> None:
    params = stage.load_sections("explain", "data", "schema", "evaluate")
    explain_model(
        model="models/model.onnx", trained="models/trained",
        train="data/prepared/train.parquet", test="data/prepared/test.parquet",
        metrics="metrics/explain.json", fairness="metrics/fairness.json",
        importance_plot="plots/importance.json", report_dir="reports/explain",
        settings=params["explain"], label=params["data"]["label"],
        sensitive=params["schema"]["sensitive"], threshold=params["evaluate"]["threshold"],
        rules=params["schema"].get("columns", {}),
    )  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(stage.run_stage(main))
