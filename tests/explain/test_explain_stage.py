"""The explain stage function: metrics, fairness, plots and the stakeholder report."""

from __future__ import annotations

import json

import pytest

from mlops_gitops.errors import DataError
from mlops_gitops.explain import explain_model

pytestmark = pytest.mark.slow

SETTINGS = {
    "template": "credit",
    "immutable": ["age_band", "sex"],
    "permutation": {"rows": 200, "n_repeats": 2},
    "shap": {
        "rows": 60,
        "agnostic_rows": 5,
        "background_rows": 20,
        "nsamples": 100,
        "dependence": 1,
    },
    "lime": {"rows": 2, "num_samples": 200},
    "counterfactual": {"rows": 2},
    "correlation": {"rows": 300},
    "surrogate": {"rows": 300},
}


@pytest.fixture(scope="module")
def explained(tree_model):
    import os

    cwd = os.getcwd()
    os.chdir(tree_model.folder)
    try:
        result = explain_model(
            settings=SETTINGS,
            label="default",
            sensitive=["sex", "age_band"],
            threshold=0.5,
            rules={"interest_rate": {"min": 0, "max": 40}},
        )
    finally:
        os.chdir(cwd)
    return tree_model.folder, result


def test_stage_writes_flat_metrics_for_dvc(explained):
    folder, _ = explained
    metrics = json.loads((folder / "metrics" / "explain.json").read_text())
    features = set(metrics["importance"])
    assert "income" in features and "sex" not in features
    assert set(metrics["attribution"]) == {"shap", "lime"}
    assert set(metrics["attribution"]["shap"]) == features == set(metrics["mutual_information"])
    assert 0 <= metrics["surrogate_fidelity"] <= 1 and metrics["counterfactuals_found"] == 1.0
    plot = json.loads((folder / "plots" / "importance.json").read_text())["importance"]
    assert plot[0]["feature"] == max(metrics["importance"], key=metrics["importance"].get)


def test_stage_writes_fairness_metrics_per_group(explained):
    folder, _ = explained
    fairness = json.loads((folder / "metrics" / "fairness.json").read_text())["fairness"]
    assert set(fairness["by_attribute"]) == {"sex", "age_band"}
    assert set(fairness["by_group"]["sex"]) == {"F", "M"}
    assert 0 <= fairness["demographic_parity_difference"] <= 1
    assert fairness["demographic_parity_difference"] == max(
        a["demographic_parity_difference"] for a in fairness["by_attribute"].values()
    )


def test_stage_writes_the_stakeholder_report_with_its_figures(explained):
    folder, result = explained
    report = folder / "reports" / "explain"
    markdown = (report / "report.md").read_text()
    html = (report / "report.html").read_text()
    for figure in ("importance.png", "shap_summary.png", "surrogate_tree.png", "association.png"):
        assert (report / "figures" / figure).stat().st_size > 1000
        assert f"figures/{figure}" in markdown and f'src="figures/{figure}"' in html
    assert "The application was declined mainly because of" in markdown
    assert "## Fairness" in markdown and "| sex |" in markdown
    assert "Candidates to drop" in markdown or "No feature is a candidate" in markdown
    selection = json.loads((report / "feature_selection.json").read_text())
    assert len(selection["ranked"]) == len(result.model.space.names)


def test_stage_fails_clearly_without_the_prepared_split(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        DataError, match=r"^data/prepared/train.parquet: not found; run the stages before"
    ):
        explain_model(settings={}, label="default", sensitive=[])
