"""Model cards: every section of the Model Cards paper, filled from the repository."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from mlops_gitops.site import build_cards, read_site_data
from tests.site.history import History

NOW = datetime(2026, 1, 25, tzinfo=UTC)


@pytest.fixture(scope="module")
def cards(built_history: History):
    data = read_site_data(built_history.path, now=NOW)
    return {f"{c.version.model}@{c.version.version}": c for c in build_cards(data)}


def test_every_registered_version_has_a_card(cards):
    assert sorted(cards) == [
        "churn@v0.1.0",
        "churn@v0.2.0",
        "credit-default@v1.0.0",
        "credit-default@v1.1.0",
        "credit-default@v1.2.0",
    ]


def test_card_details_data_and_evaluation_come_from_the_registration(cards):
    card = cards["credit-default@v1.1.0"]
    assert card.version.state == "deprecated"
    assert card.description == "Probability that an applicant defaults within 12 months"
    assert [path for path, _ in card.datasets] == ["data/prepared/train.csv", "data/raw.csv"]
    assert dict(card.code)["train.py"] == hashlib.md5(b"print('train.py')\n").hexdigest()
    assert card.validation is not None and card.validation["rows"] == 1002
    assert ("income", "dtype float64; min >= 0") in card.schema
    assert {m.name: m.value for m in card.metrics}["roc_auc"] == pytest.approx(0.84)
    assert {(s.column, s.value) for s in card.slices} == {("sex", "F"), ("sex", "M")}
    assert [path for path, _ in card.plots] == ["plots/roc.json", "plots/confusion.json"]
    assert all(svg.startswith("<svg") for _, svg in card.plots)


def test_card_lineage_runs_from_data_to_environments(cards):
    card = cards["credit-default@v1.1.0"]
    assert [g.detail for g in card.gates] == ["pass (branch main)"]
    assert card.approvers == {"prod": ["alice"]}
    assert [(i.env, i.start[:10], (i.end or "")[:10]) for i in card.intervals] == [
        ("dev", "2026-01-11", "2026-01-21"),
        ("staging", "2026-01-12", ""),
        ("prod", "2026-01-14", "2026-01-15"),
    ]
    kinds = [e.kind for e in card.history]
    assert kinds.index("register") < kinds.index("promote") < kinds.index("deprecate")
    assert "waiver-add" in kinds


def test_card_includes_the_hand_written_model_documentation(cards):
    docs = cards["credit-default@v1.0.0"].docs
    assert docs["intended"].startswith("Ranks consumer-credit applications")
    assert docs["out_of_scope"] == "Automatic rejection of an application without human review."
    assert docs["limitations"].startswith("Trained on a synthetic sample")
    assert docs["ethics"].startswith("Age and sex are sensitive attributes")
    assert cards["churn@v0.1.0"].docs["intended"] == ""


def test_fairness_and_explanations_appear_only_where_the_version_has_them(cards):
    latest = cards["credit-default@v1.2.0"]
    assert {m.name for m in latest.fairness} == {
        "demographic_parity_difference.sex",
        "equalized_odds_difference.sex",
    }
    assert {"report.html", "figures/importance.png"} <= set(latest.explain_files)
    older = cards["credit-default@v1.0.0"]
    assert older.fairness == [] and older.explain_files == {}
