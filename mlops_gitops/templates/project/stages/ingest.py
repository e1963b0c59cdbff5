"""Stage ingest: read the source named in params `data` into data/raw/dataset.parquet."""

from __future__ import annotations

from mlops_gitops import stage
from mlops_gitops.data import ingest


def main() -> None:
    params = stage.load_sections("data")
    ingest("data/raw/dataset.parquet", data=params["data"])


if __name__ == "__main__":
    raise SystemExit(stage.run_stage(main))
