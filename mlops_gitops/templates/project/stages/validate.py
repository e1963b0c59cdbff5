"""Stage validate: check the raw table (with ingest's PII checks); stop on a blocking failure."""

from __future__ import annotations

from mlops_gitops import stage
from mlops_gitops.quality import validate_dataset


def main() -> None:
    params = stage.load_sections("data", "schema", "model")
    validate_dataset(
        raw="data/raw/dataset.parquet",
        validation_report="reports/validation.json",
        pii_report="reports/pii_validation.json",
        data=params["data"],
        schema=params["schema"],
        task=params["model"].get("task"),
    )


if __name__ == "__main__":
    raise SystemExit(stage.run_stage(main))
