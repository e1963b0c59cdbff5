"""The audit history: registry events, waivers, approvals and gate decisions, in Git order."""

from __future__ import annotations

import pytest

from mlops_gitops.audit import AuditError, list_events
from tests.site.history import WAIVERS, History, dated, git


def _kinds(events):
    return [e.kind for e in events]


def test_audit_holds_every_kind_of_event_numbered_in_order(built_history: History):
    events = list_events(built_history.path)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {"register", "promote", "rollback", "deprecate", "waiver-add", "approve", "gate"} <= set(
        _kinds(events)
    )
    assert [e.date for e in events] == sorted(e.date for e in events)


def test_audit_orders_a_version_from_registration_to_rollback(built_history: History):
    events = list_events(built_history.path, model="credit-default")
    story = [
        (e.kind, e.env, e.version)
        for e in events
        if (e.kind in ("register", "promote", "rollback", "deprecate") and e.version == "v1.1.0")
        or e.kind == "rollback"
    ]
    assert story == [
        ("register", None, "v1.1.0"),
        ("promote", "dev", "v1.1.0"),
        ("promote", "staging", "v1.1.0"),
        ("promote", "prod", "v1.1.0"),
        ("rollback", "prod", "v1.0.0"),
        ("deprecate", None, "v1.1.0"),
    ]
    rollback = next(e for e in events if e.kind == "rollback")
    assert rollback.summary == "prod: rolled back to credit-default v1.0.0 (was v1.1.0)"
    assert rollback.landed == built_history.rollback
    deprecation = next(e for e in events if e.kind == "deprecate")
    assert deprecation.detail == "calibration drift in prod"


def test_promotions_link_their_pull_request_and_gate(built_history: History):
    events = list_events(built_history.path, env="prod")
    promotion = next(e for e in events if e.kind == "promote" and e.version == "v1.1.0")
    assert (
        promotion.pr is not None
        and promotion.landed == built_history.promotions["credit-default@v1.1.0->prod"]
    )
    gate = next(e for e in events if e.kind == "gate" and e.commit == promotion.commit)
    assert gate.detail.startswith("warn") and gate.seq < promotion.seq
    approval = next(e for e in events if e.kind == "approve" and e.commit == promotion.commit)
    assert approval.actor == "alice" and gate.seq < approval.seq < promotion.seq


def test_waiver_additions_name_rule_approver_and_expiry(built_history: History):
    added = list_events(built_history.path, kinds=["waiver-add"])
    assert [e.summary for e in added] == [
        "waiver W-2026-000 added (rule soak-time)",
        "waiver W-2026-001 added (rule min-metrics)",
    ]
    assert added[1].commit == built_history.waiver_commit
    assert "approver alice" in added[1].detail and "expires 2026-02-28" in added[1].detail
    assert (added[1].model, added[1].version, added[1].env) == ("credit-default", "v1.1.0", "prod")


def test_waiver_changes_and_removals_are_events(history_repo: History):
    changed = WAIVERS.replace("expires: 2026-02-28", "expires: 2026-03-31")
    changed = changed[: changed.index("  - id: W-2026-000")]
    (history_repo.path / "policies" / "waivers.yaml").write_text(changed)
    with dated("2026-01-23T09:00:00+00:00"):
        git(history_repo.path, "commit", "-qam", "Extend W-2026-001, drop W-2026-000")
    events = list_events(history_repo.path, since="2026-01-23")
    assert [(e.kind, e.summary.split()[1]) for e in events] == [
        ("waiver-remove", "W-2026-000"),
        ("waiver-change", "W-2026-001"),
    ]


def test_gate_decisions_of_unmerged_branches_are_listed(built_history: History):
    blocked = list_events(built_history.path, kinds=["gate"])[-1]
    assert blocked.commit == built_history.blocked_head
    assert blocked.detail == "block (branch train/too-small)" and blocked.landed is None


def test_filters_by_dates_and_reads_the_past(built_history: History):
    window = list_events(built_history.path, since="2026-01-14", until="2026-01-15")
    assert {e.kind for e in window} == {"gate", "approve", "promote", "rollback"}
    past = list_events(built_history.path, at="2026-01-09")
    assert past and all(e.date < "2026-01-10" for e in past)
    assert "waiver-add" not in _kinds(past)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kinds": ["promotion"]}, "unknown event kind 'promotion'; expected one of register"),
        ({"since": "last week"}, "--since last week: not a date; use YYYY-MM-DD"),
    ],
)
def test_bad_filters_are_refused_with_the_fix(built_history: History, options, message):
    with pytest.raises(AuditError, match=message):
        list_events(built_history.path, **options)
