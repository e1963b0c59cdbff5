"""Applying the rendered protection on GitHub (the emulator), and what it refuses."""

from __future__ import annotations

from pathlib import Path

import github3
import pytest

from mlops_gitops.forge import ForgeError
from mlops_gitops.forge.github import GitHubForge
from mlops_gitops.forge.protection import (
    Protection,
    apply_protection,
    render_branch_protection,
    render_rulesets,
)

from .emulator import GitHubEmulator


def _protection(branch: str = "main") -> Protection:
    return Protection(
        org="acme",
        branch=branch,
        codeowners="",
        branch_protection=render_branch_protection(),
        rulesets=render_rulesets(app_id=77),
    )


def _admin(emu: GitHubEmulator) -> GitHubForge:
    return GitHubForge("acme/models", token="ghp_alice", api_url=emu.api_url)


def test_applying_twice_updates_the_rulesets_in_place(emulator: GitHubEmulator) -> None:
    first = apply_protection(_admin(emulator), _protection())
    second = apply_protection(_admin(emulator), _protection())
    gh = github3.GitHub(token="ghp_alice")
    base = f"{emulator.api_url}/repos/acme/models"
    shown = gh.session.get(f"{base}/branches/main/protection").json()

    assert [(a.method, a.status) for a in first] == [("PUT", 200), ("POST", 201), ("POST", 201)]
    assert [(a.method, a.status) for a in second] == [("PUT", 200), ("PUT", 200), ("PUT", 200)]
    assert len(gh.session.get(f"{base}/rulesets").json()) == 2
    assert shown["required_pull_request_reviews"]["require_code_owner_reviews"] is True
    assert shown["required_pull_request_reviews"]["require_last_push_approval"] is True
    assert shown["required_status_checks"]["contexts"] == ["mlops/gate"]
    assert (shown["allow_force_pushes"], shown["enforce_admins"]["enabled"]) == (
        {"enabled": False},
        True,
    )


def test_a_payload_outside_the_description_is_refused_with_422(emulator: GitHubEmulator) -> None:
    gh = github3.GitHub(token="ghp_alice")
    body = render_branch_protection()
    del body["required_status_checks"]["contexts"]  # required by the description
    url = f"{emulator.api_url}/repos/acme/models/branches/main/protection"

    response = gh.session.put(url, json=body)

    assert response.status_code == 422
    assert "'contexts' is a required property" in response.json()["message"]
    assert emulator.state.protections == {}


def test_protecting_a_missing_branch_is_a_one_line_forge_error(emulator: GitHubEmulator) -> None:
    with pytest.raises(ForgeError) as caught:
        apply_protection(_admin(emulator), _protection("no-such-branch"))

    message = str(caught.value)
    assert "\n" not in message
    assert message.endswith(
        "404 Branch not found; the token needs 'administration: write' on the repository"
    )


def test_a_push_that_moves_an_approval_tag_is_refused(
    emulator: GitHubEmulator, hosted: tuple[Path, Path]
) -> None:
    import subprocess

    work = hosted[1]
    sha = "a" * 40
    subprocess.run(["git", "tag", f"approve/prod/{sha}/alice", "HEAD~1"], cwd=work, check=True)
    subprocess.run(
        ["git", "push", "-q", "origin", f"refs/tags/approve/prod/{sha}/alice"], cwd=work, check=True
    )
    apply_protection(_admin(emulator), _protection())
    subprocess.run(["git", "tag", "-f", f"approve/prod/{sha}/alice", "HEAD"], cwd=work, check=True)

    proc = subprocess.run(
        ["git", "push", "-f", "origin", f"refs/tags/approve/prod/{sha}/alice"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )

    assert proc.returncode != 0
    assert "Cannot update this protected ref." in proc.stderr
