"""Red team: a model whose registration is not signed by an allowed key is never served.

``credit`` v1.0.0 is registered in a real Git + DVC project whose dev
environment sets ``signed_models: true`` and whose ``policies/allowed_signers``
lists alice. Each attack gives the tampered artifact a hash that matches its
registration (so the pin check passes) but no valid signature, and runs the
real ``mlops verify`` and ``mlops serve --check`` processes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlops_gitops.registry import register
from mlops_gitops.registry.versions import format_message, parse_metadata
from tests.helpers import git, run
from tests.helpers.commands import mlops_process
from tests.helpers.serving import TOKENS, BuiltModel, cache_model
from tests.helpers.signing import signers_text

pytestmark = pytest.mark.slow
TAG = "credit@v1.0.0"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    for name in ("alice", "mallory"):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", name], folder)
    return {name: folder / name for name in ("alice", "mallory")}


@pytest.fixture
def signed_env(registered_root: Path, keys: dict[str, Path]) -> Path:
    """The registered project with dev requiring signed models and alice an allowed signer."""
    root = registered_root
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies" / "allowed_signers").write_text(signers_text(keys, "alice"))
    environments = root / "envs" / "environments.yaml"
    environments.write_text(
        environments.read_text().replace("feeds: [prod]", "feeds: [prod]\n    signed_models: true")
    )
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "Require signed models in dev"], root)
    return root


def reregister(root: Path, key: Path | None) -> None:
    git(root, "tag", "-d", TAG)
    register(root, "credit", version="v1.0.0", rev="HEAD~1", check_remote=False, sign_key=key)


def mlops(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return mlops_process(root, *args, env=TOKENS)


def refused(root: Path, reason: str) -> None:
    verify = mlops(root, "verify", "--env", "dev", "--json")
    assert verify.returncode == 1, verify.stdout
    rows = [f for f in _findings(verify.stdout) if f["check"] == "signature"]
    assert [r["ok"] for r in rows] == [False] and reason in rows[0]["detail"]
    serve = mlops(root, "serve", "--env", "dev", "--check", "--root", str(root))
    assert serve.returncode == 1
    assert serve.stderr.startswith("error: ") and reason in serve.stderr
    assert serve.stderr.count("\n") == 1  # one line, no traceback


def _findings(text: str) -> list[dict[str, object]]:
    import json

    findings: list[dict[str, object]] = json.loads(text)["findings"]
    return findings


def test_a_version_signed_by_an_allowed_key_verifies_and_serves(signed_env, keys):
    reregister(signed_env, keys["alice"])
    verify = mlops(signed_env, "verify", "--env", "dev", "--json")
    assert verify.returncode == 0, verify.stdout
    row = next(f for f in _findings(verify.stdout) if f["check"] == "signature")
    assert row["ok"] is True and f"{TAG} signed by alice@acme (sha256 " in str(row["detail"])
    serve = mlops(signed_env, "serve", "--env", "dev", "--check", "--root", str(signed_env))
    assert serve.returncode == 0, serve.stderr
    assert "v1.0.0" in serve.stdout


def test_an_unsigned_version_is_refused_where_signatures_are_required(signed_env):
    refused(signed_env, f"{TAG} is not signed, and envs/environments.yaml sets signed_models")


def test_a_version_signed_by_a_key_not_allowed_is_refused(signed_env, keys):
    reregister(signed_env, keys["mallory"])
    refused(signed_env, "its signature does not verify against policies/allowed_signers")


def test_a_signature_is_checked_even_where_none_is_required(signed_env, keys):
    environments = signed_env / "envs" / "environments.yaml"
    environments.write_text(environments.read_text().replace("    signed_models: true\n", ""))
    run(["git", "commit", "-q", "-am", "Stop requiring signatures"], signed_env)
    reregister(signed_env, keys["mallory"])
    refused(signed_env, "its signature does not verify against policies/allowed_signers")


def test_a_tampered_artifact_under_a_copied_signature_is_refused(
    signed_env, keys, onnx_models: dict[str, BuiltModel]
):
    """The signed tag's body is edited to the tampered model's md5; the signature is kept."""
    reregister(signed_env, keys["alice"])
    tampered = onnx_models["v2"]
    cache_model(signed_env, tampered)
    body = git(signed_env, "cat-file", "tag", TAG)
    original = parse_metadata(body)["artifact"]["md5"]
    forged = body.replace(original, tampered.md5)
    assert forged != body and "-----BEGIN SSH SIGNATURE-----" in forged
    obj = subprocess.run(
        ["git", "hash-object", "-t", "tag", "-w", "--stdin"],
        cwd=signed_env,
        input=forged,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(signed_env, "update-ref", f"refs/tags/{TAG}", obj)
    manifest = signed_env / "envs" / "dev.yaml"
    manifest.write_text(manifest.read_text().replace(original, tampered.md5))
    run(["git", "commit", "-q", "-am", "Pin the tampered model"], signed_env)
    refused(signed_env, "its signature does not verify against policies/allowed_signers")


def test_a_signed_tag_moved_under_another_version_is_refused(signed_env, keys):
    """alice's signed v1.0.0 tag object re-pointed as v1.0.1: its signed name gives it away."""
    reregister(signed_env, keys["alice"])
    obj = git(signed_env, "rev-parse", f"refs/tags/{TAG}").strip()
    git(signed_env, "update-ref", "refs/tags/credit@v1.0.1", obj)
    manifest = signed_env / "envs" / "dev.yaml"
    manifest.write_text(manifest.read_text().replace("v1.0.0", "v1.0.1"))
    run(["git", "commit", "-q", "-am", "Pin v1.0.1"], signed_env)
    serve = mlops(signed_env, "serve", "--env", "dev", "--check", "--root", str(signed_env))
    assert serve.returncode == 1
    assert "credit@v1.0.1: refused in dev: its signed name is 'credit@v1.0.0'" in serve.stderr


def test_an_unsigned_registration_tag_with_a_signature_text_in_its_message_is_refused(
    signed_env,
):
    """A message that only carries a signature's armour is not a signature."""
    metadata = parse_metadata(git(signed_env, "cat-file", "tag", TAG))
    git(signed_env, "tag", "-d", TAG)
    armour = "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"
    message = format_message("Register credit v1.0.0", metadata) + armour
    git(signed_env, "tag", "-a", "--cleanup=verbatim", "-m", message, TAG, "HEAD~1")
    refused(signed_env, "its signature does not verify against policies/allowed_signers")


def test_a_signer_added_to_the_work_tree_only_does_not_count(signed_env, keys):
    """allowed_signers is read from the commit: an uncommitted edit adding mallory is ignored."""
    reregister(signed_env, keys["mallory"])
    signers = signed_env / "policies" / "allowed_signers"
    signers.write_text(signers_text(keys, "alice", "mallory"))
    refused(signed_env, "its signature does not verify against policies/allowed_signers")


def test_register_signs_from_the_command_line_and_a_missing_key_leaves_no_tag(signed_env, keys):
    missing = mlops(signed_env, "register", "credit", "--version", "v1.1.0", "--sign-key", "nokey")
    assert missing.returncode == 1
    assert missing.stderr == "error: cannot sign the tag credit@v1.1.0: nokey: no such key file\n"
    assert git(signed_env, "tag", "-l", "credit@v1.1.0") == ""
    signed = mlops(
        signed_env, "register", "credit", "--version", "v1.1.0", "--sign-key", str(keys["alice"])
    )
    assert signed.returncode == 0, signed.stderr
    body = git(signed_env, "cat-file", "tag", "credit@v1.1.0")
    artifact = parse_metadata(body)["artifact"]
    assert len(artifact["sha256"]) == 64 and "-----BEGIN SSH SIGNATURE-----" in body
