"""Roles and approvals: who counts, who is stale, who approved their own change."""

from __future__ import annotations

import json

import pytest

from mlops_gitops.policies import (
    Approval,
    ApprovalSet,
    FileApprovals,
    Roles,
    assess_approvals,
    load_roles,
)
from mlops_gitops.policies.source import PolicyError

HEAD = "a" * 40
ROLES = Roles.model_validate(
    {
        "people": {"alice": ["alice@example.com", "alice-gh"], "bob": ["bob@example.com"]},
        "teams": {"ml-leads": ["alice", "bob"], "ml-engineers": ["carol@example.com"]},
        "approvals": {
            "environments": {"prod": {"ml-leads": 2}},
            "paths": {"policies/*.yaml": {"ml-leads": 1}, "policies/roles.yaml": {"ml-leads": 2}},
        },
        "waivers": {"approvers": "ml-leads"},
    }
)


def test_identities_map_to_people_and_teams():
    assert (
        ROLES.person("Alice-GH") == "alice"
        and ROLES.person("carol@example.com") == "carol@example.com"
    )
    assert ROLES.teams_of("alice") == ["ml-leads"] and ROLES.teams_of("carol@example.com") == [
        "ml-engineers"
    ]


def test_each_person_counts_once_per_team():
    sets = [
        ApprovalSet((Approval("alice-gh", HEAD), Approval("alice@example.com", HEAD[:7]))),
        ApprovalSet(),
    ]
    result = assess_approvals(
        ROLES, sets, head=HEAD, authors=["ada@example.com"], environment="prod"
    )
    assert result.count == {"ml-leads": 1, "ml-engineers": 0}
    assert result.required == {"ml-leads": 2} and result.authors == ["ada@example.com"]
    assert all(r.counted and r.on_head for r in result.reviews)


def test_provider_author_never_counts():
    sets = [ApprovalSet((Approval("bob@example.com", HEAD),), author="bob")]
    result = assess_approvals(ROLES, sets, head=HEAD, authors=[])
    assert result.self_approvals == ["bob"] and result.count["ml-leads"] == 0
    assert result.authors == ["bob"] and not result.reviews[0].counted


def test_short_commit_prefixes_are_not_on_head():
    result = assess_approvals(
        ROLES, [ApprovalSet((Approval("bob", HEAD[:4]),))], head=HEAD, authors=[]
    )
    assert result.stale == ["bob"]


def test_path_requirements_take_the_largest_count():
    result = assess_approvals(
        ROLES, [], head=HEAD, authors=[], changed_files=["policies/roles.yaml", "params.yaml"]
    )
    assert result.required_for_paths == {"ml-leads": 2}


def test_roles_file_is_optional(tmp_path):
    assert load_roles(tmp_path / "roles.yaml", "policies/roles.yaml") == Roles()
    (tmp_path / "roles.yaml").write_text("")
    assert load_roles(tmp_path / "roles.yaml", "policies/roles.yaml") == Roles()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "teams:\n  ML Leads: [a]\n",
            "policies/roles.yaml:2 teams: team name 'ML Leads' must be lower-case",
        ),
        (
            "teams: {leads: [a]}\napprovals:\n  environments:\n    prod: {ml-leads: 2}\n",
            "policies/roles.yaml:1: team 'ml-leads' is not defined under 'teams'",
        ),
    ],
)
def test_invalid_roles(tmp_path, text, message):
    (tmp_path / "roles.yaml").write_text(text)
    with pytest.raises(PolicyError) as err:
        load_roles(tmp_path / "roles.yaml", "policies/roles.yaml")
    assert str(err.value).startswith(message)


def test_approvals_file(tmp_path):
    path = tmp_path / "approvals.json"
    path.write_text(
        json.dumps({"author": "ada", "approvals": [{"reviewer": "bob", "commit": HEAD}]})
    )
    found = FileApprovals(path).read_approvals(tmp_path, HEAD)
    assert found.author == "ada"
    assert found.approvals == (Approval("bob", HEAD, source="file:approvals.json"),)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "approvals.json: approvals file not found"),
        ("{\n  oops", "approvals.json:2: not valid JSON"),
        (
            '{"approvals": [{"reviewer": "bob", "commit": "HEAD"}]}',
            "approvals.json approvals.0.commit: string should match",
        ),
    ],
)
def test_invalid_approvals_file(tmp_path, content, message):
    path = tmp_path / "approvals.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PolicyError) as err:
        FileApprovals(path).read_approvals(tmp_path, HEAD)
    assert str(err.value).startswith(f"{tmp_path}/{message}")
