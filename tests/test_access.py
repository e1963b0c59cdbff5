"""Code owners rendered from roles.yaml and environments.yaml (``mlops forge protection``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_gitops.access import render_protection, write_codeowners
from mlops_gitops.errors import ConfigError

SCAFFOLD = Path(__file__).resolve().parents[1] / "mlops_gitops" / "templates" / "project"
ENVIRONMENTS = (
    "environments:\n  dev:\n    feeds: [staging]\n  staging:\n    feeds: [prod]\n  prod: {}\n"
)
ROLES = """\
teams:
  ml-leads: [alice, bob]
  security: [erin]
  ml-engineers: [carol]
approvals:
  environments:
    staging: {ml-engineers: 1}
    prod: {ml-leads: 2, security: 1}
  paths:
    "policies/**": {ml-leads: 1}
    "data/*": {ml-engineers: 1}
"""


def test_the_scaffold_codeowners_is_what_protection_renders() -> None:
    rendered = render_protection(SCAFFOLD, org="your-org")

    assert (SCAFFOLD / ".github" / "CODEOWNERS").read_text(encoding="utf-8") == rendered.codeowners


def test_rendering_again_leaves_codeowners_byte_for_byte_unchanged(
    gen: Callable[..., None], tmp_path: Path
) -> None:
    gen({"policies/roles.yaml": ROLES, "envs/environments.yaml": ENVIRONMENTS}, root=tmp_path)
    first = write_codeowners(tmp_path, render_protection(tmp_path, org="acme"))
    before = (tmp_path / ".github" / "CODEOWNERS").read_bytes()
    second = write_codeowners(tmp_path, render_protection(tmp_path, org="acme"))

    assert (first, second) == (True, False)
    assert (tmp_path / ".github" / "CODEOWNERS").read_bytes() == before


def test_owners_follow_the_teams_each_environment_and_path_requires(
    gen: Callable[..., None], tmp_path: Path
) -> None:
    gen({"policies/roles.yaml": ROLES, "envs/environments.yaml": ENVIRONMENTS}, root=tmp_path)
    lines = [
        line.split()
        for line in render_protection(tmp_path, org="acme").codeowners.splitlines()
        if line and not line.startswith("#")
    ]

    owners = {fields[0]: fields[1:] for fields in lines}
    assert owners["/envs/prod.yaml"] == ["@acme/ml-leads", "@acme/security"]
    assert owners["/envs/staging.yaml"] == ["@acme/ml-engineers"]
    assert "/envs/dev.yaml" not in owners  # dev needs no approval
    assert owners["/data/**"] == ["@acme/ml-engineers"]  # fnmatch's '*' crosses '/'
    for path in ("/policies/**", "/policies/roles.yaml"):  # the 'policies/**' entry
        assert owners[path] == ["@acme/ml-leads"], path
    # no entry names them: the teams the gate asks of a policy change (the strictest envs')
    for path in ("/envs/environments.yaml", "/.github/**"):
        assert owners[path] == ["@acme/ml-engineers", "@acme/ml-leads", "@acme/security"], path
    # CODEOWNERS takes the last match: the general globs come first
    assert [f[0] for f in lines].index("/policies/**") < [f[0] for f in lines].index(
        "/policies/roles.yaml"
    )


def test_roles_without_a_team_for_policy_changes_are_refused(
    gen: Callable[..., None], tmp_path: Path
) -> None:
    gen(
        {"policies/roles.yaml": "teams:\n  a: [x]\n", "envs/environments.yaml": ENVIRONMENTS},
        root=tmp_path,
    )
    with pytest.raises(
        ConfigError, match=r"no team is declared for policy changes; add 'policies: "
    ):
        render_protection(tmp_path, org="acme")


def test_a_glob_codeowners_cannot_express_is_refused(
    gen: Callable[..., None], tmp_path: Path
) -> None:
    roles = ROLES.replace('"data/*"', '"data/[ab]*"')
    gen({"policies/roles.yaml": roles, "envs/environments.yaml": ENVIRONMENTS}, root=tmp_path)
    with pytest.raises(ConfigError, match=r"'data/\[ab\]\*': CODEOWNERS cannot express"):
        render_protection(tmp_path, org="acme")
