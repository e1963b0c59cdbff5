"""Train the model family named in params.yaml (model.family) on the prepared split."""

from mlops_gitops import stage
from mlops_gitops.training import train_model


def main() -> None:
    params = stage.load_sections("data", "schema", "model", "evaluate")
    train_model(
        train="data/prepared/train.parquet",
        valid="data/prepared/valid.parquet",
        trained="models/trained",
        live_dir="dvclive",
        settings=params["model"],
        label=params["data"]["label"],
        id_column=params["data"]["id_column"],
        pii=params["schema"]["pii"],
        decision=params["evaluate"],
    )


if __name__ == "__main__":
    raise SystemExit(stage.run_stage(main))
