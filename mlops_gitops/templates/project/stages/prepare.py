"""Stage prepare: numeric types, then the train/valid/test split (prepare.split) of the table."""

from __future__ import annotations

from mlops_gitops import stage
from mlops_gitops.data import prepare_dataset


def main() -> None:
    params = stage.load_sections("data", "prepare", "model")
    prepare_dataset(
        raw="data/raw/dataset.parquet",
        prepared_dir="data/prepared",
        validation_report="reports/validation.json",
        split_report="reports/split.json",
        data=params["data"],
        prepare=params["prepare"],
        task=params["model"]["task"],
    )


if __name__ == "__main__":
    raise SystemExit(stage.run_stage(main))
