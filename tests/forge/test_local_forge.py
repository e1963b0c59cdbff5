"""The local forge: notes with plots beside them, gate notes, SSH-signed approvals."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_gitops.forge import ChangeRef, ForgeError, GateStatus, Report, find_local_remote
from mlops_gitops.forge.local import LocalForge, init_forge, track_notes
from mlops_gitops.forge.signed_approvals import sign_approval
from tests.helpers import sh_stdout as sh
from tests.helpers.signing import signers_text


def _target(bare: Path, branch: str = "feature") -> ChangeRef:
    return ChangeRef(sh(f"git rev-parse {branch}", bare).strip(), branch)


def test_report_note_replaces_the_previous_one_and_keeps_plots_beside_it(
    hosted: tuple[Path, Path],
) -> None:
    bare, _ = hosted
    forge = LocalForge(bare)
    target = _target(bare)
    first = forge.publish_report(
        target, Report("first ![roc](attachment://roc.png)", {"roc.png": b"A"})
    )
    second = forge.publish_report(
        target, Report("second ![roc](attachment://roc.png)", {"roc.png": b"B"})
    )

    text = forge.read_report(target)
    assert (first.created, second.created) == (True, False)
    assert text is not None and text.startswith(f"second ![roc](plots/{target.sha}/roc.png)")
    assert forge.read_attachment(target, "roc.png") == b"B"
    assert sh("git notes --ref=mlops-reports list", bare).split() == [
        sh(f"git rev-parse refs/notes/mlops-reports:{target.sha}", bare).strip(),
        target.sha,
    ]


def test_gate_note_round_trips_and_clones_fetch_it(hosted: tuple[Path, Path]) -> None:
    bare, work = hosted
    target = _target(bare)
    LocalForge(bare).set_gate(
        target, GateStatus(decision="warn", summary="1 warning", data={"rules": 3})
    )

    assert track_notes(work) is True
    sh("git fetch -q origin", work)
    note = sh(f"git notes --ref=mlops-gate show {target.sha}", work)
    assert '"decision": "warn"' in note
    gate = LocalForge(bare).read_gate(target)
    assert gate is not None and (gate.decision, gate.state, dict(gate.data)) == (
        "warn",
        "success",
        {"rules": 3},
    )


def test_signed_approvals_count_only_for_allowed_signers(
    hosted: tuple[Path, Path], ssh_keys: dict[str, Path]
) -> None:
    bare, work = hosted
    sh("git checkout -q main", work)
    (work / "policies").mkdir()
    (work / "policies" / "allowed_signers").write_text(signers_text(ssh_keys, "alice", "bob"))
    sh("git add -A && git commit -qm signers && git push -q origin main", work)
    sha = sh("git rev-parse origin/feature", work).strip()
    for name in ("alice", "mallory"):
        sign_approval(work, "prod", sha, key=ssh_keys[name], user=name)
    sh("git push -q origin 'refs/tags/*'", work)

    approvals = LocalForge(bare).list_approvals(_target(bare))

    assert [(a.reviewer, a.commit, a.env) for a in approvals] == [("alice@acme", sha, "prod")]


def test_approval_tag_on_another_commit_than_its_name_is_ignored(
    hosted: tuple[Path, Path], ssh_keys: dict[str, Path]
) -> None:
    bare, work = hosted
    sh("git checkout -q main", work)
    (work / "policies").mkdir()
    (work / "policies" / "allowed_signers").write_text(signers_text(ssh_keys, "alice"))
    sh("git add -A && git commit -qm signers && git push -q origin main", work)
    feature = sh("git rev-parse origin/feature", work).strip()
    key = f"-c gpg.format=ssh -c user.signingkey={ssh_keys['alice']}"
    tag = f"approve/prod/{feature}/alice"
    sh(
        f"git {key} tag -s -m approve {tag} HEAD && git push -q origin --tags",
        work,
    )

    assert LocalForge(bare).list_approvals(_target(bare)) == []


def test_init_forge_installs_hooks_that_call_this_python(tmp_path: Path) -> None:
    result = init_forge(tmp_path / "models.git", python="/opt/py/bin/python")

    hook = (result.path / "hooks" / "post-receive").read_text()
    assert (
        result.created and "exec /opt/py/bin/python -m mlops_gitops forge hook post-receive" in hook
    )
    assert (result.path / "hooks" / "pre-receive").stat().st_mode & 0o111
    assert init_forge(result.path).created is False


def test_init_forge_refuses_a_work_tree(git_repo: Path) -> None:
    with pytest.raises(ForgeError, match="is not a bare repository"):
        init_forge(git_repo)


def test_find_local_remote_accepts_paths_and_refuses_hosted_urls(hosted: tuple[Path, Path]) -> None:
    bare, work = hosted
    assert find_local_remote(work) == bare
    sh("git remote set-url origin git@github.com:acme/models.git", work)
    with pytest.raises(ForgeError, match="is not a local forge"):
        find_local_remote(work)
