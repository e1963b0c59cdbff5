"""Export the trained model to ONNX, checked against the framework model on the test set."""

from mlops_gitops import stage
from mlops_gitops.training import export_model


def main() -> None:
    params = stage.load_sections("export")
    export_model(
        trained="models/trained",
        test="data/prepared/test.parquet",
        model="models/model.onnx",
        metrics="metrics/export.json",
        settings=params["export"],
    )


if __name__ == "__main__":
    raise SystemExit(stage.run_stage(main))
