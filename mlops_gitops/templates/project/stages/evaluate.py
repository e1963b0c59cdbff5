"""Score the trained model on the test set: metrics, slices and DVC plots."""

from mlops_gitops import stage
from mlops_gitops.evaluation import evaluate_model


def main() -> None:
    params = stage.load_sections("data", "evaluate")
    evaluate_model(
        trained="models/trained",
        test="data/prepared/test.parquet",
        metrics="metrics/evaluate.json",
        plots_dir="plots",
        settings=params["evaluate"],
        label=params["data"]["label"],
    )


if __name__ == "__main__":
    raise SystemExit(stage.run_stage(main))
