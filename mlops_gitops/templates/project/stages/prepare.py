"""Stage prepare: numeric types, then the stratified train/valid/test split of the raw table."""

from __future__ import annotations

from mlops_gitops import stage
from mlops_gitops.data import prepare_dataset


def main() -> None:
    params = stage.load_sections("data", "prepare")
    prepare_dataset(
        "data/raw/dataset.parquet",
        "data/prepared",
        validation_report="reports/validation.json",
        **params,
    )


if __name__ == "__main__":
    raise SystemExit(stage.run_stage(main))
