"""Stage ingest: read the source of params `data`; check, then protect its PII; write the table."""

from __future__ import annotations

from mlops_gitops import stage
from mlops_gitops.data import ingest


def main() -> None:
    params = stage.load_sections("data", "schema")
    ingest(
        raw="data/raw/dataset.parquet",
        pii_report="reports/pii_validation.json",
        data=params["data"],
        schema=params["schema"],
    )


if __name__ == "__main__":
    raise SystemExit(stage.run_stage(main))
