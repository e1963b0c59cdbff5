"""The waivers file: validation, approvers, expiry and scope."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mlops_gitops.policies import Roles, Waiver, load_waivers
from mlops_gitops.policies.source import PolicyError
from mlops_gitops.policies.waivers import in_scope, is_expired

ROLES = Roles.model_validate(
    {"teams": {"ml-leads": ["alice"]}, "waivers": {"approvers": "ml-leads"}}
)
ENTRY = """\
  - id: {id}
    rule: min-metrics
    reason: known issue
    approver: {approver}
    expires: 2026-02-01
"""


def load(tmp_path, text, roles=ROLES):
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return load_waivers(path, "policies/waivers.yaml", roles)


def test_missing_or_empty_file_means_no_waivers(tmp_path):
    assert load_waivers(tmp_path / "none.yaml", "policies/waivers.yaml", ROLES) == []
    assert load(tmp_path, "# nothing yet\nwaivers:\n") == []
    assert load(tmp_path, "") == []


def test_waivers_load(tmp_path):
    (waiver,) = load(tmp_path, "waivers:\n" + ENTRY.format(id="W-1", approver="alice"))
    assert (waiver.rule, waiver.expires, waiver.scope.model) == (
        "min-metrics",
        date(2026, 2, 1),
        None,
    )


@pytest.mark.parametrize(
    ("text", "roles", "message"),
    [
        (
            "waivers:\n"
            + ENTRY.format(id="W-1", approver="alice")
            + ENTRY.format(id="W-1", approver="alice"),
            ROLES,
            "policies/waivers.yaml:7 waiver 'W-1': duplicate id; waiver ids must be unique",
        ),
        (
            "waivers:\n" + ENTRY.format(id="W-1", approver="mallory"),
            ROLES,
            "policies/waivers.yaml:2 waiver 'W-1': approver "
            "'mallory' is not a member of team 'ml-leads'",
        ),
        (
            "waivers:\n" + ENTRY.format(id="W-1", approver="alice"),
            Roles(),
            "policies/waivers.yaml:2 waiver 'W-1': roles.yaml names no "
            "waiver approvers; add 'waivers: {approvers: TEAM}'",
        ),
        (
            "waivers:\n" + ENTRY.format(id="W-1", approver="alice") + "    until: never\n",
            ROLES,
            "policies/waivers.yaml:7 waiver 'W-1' until: unknown "
            "field; remove it or fix its spelling",
        ),
    ],
)
def test_invalid_waivers(tmp_path, text, roles, message):
    with pytest.raises(PolicyError) as err:
        load(tmp_path, text, roles)
    assert str(err.value) == message


def test_expiry_is_inclusive_of_its_day():
    waiver = Waiver(id="W", rule="r", reason="x", approver="a", expires=date(2026, 2, 1))
    assert not is_expired(waiver, datetime(2026, 2, 1, 23, 59, tzinfo=UTC))
    assert is_expired(waiver, datetime(2026, 2, 2, tzinfo=UTC))


def test_an_open_scope_matches_anything():
    waiver = Waiver(id="W", rule="r", reason="x", approver="a", expires=date(2026, 2, 1))
    assert in_scope(waiver, model="m", version=None, environment="prod")
