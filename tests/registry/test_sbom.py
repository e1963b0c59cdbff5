"""``mlops sbom``: a CycloneDX 1.6 document of a registered version, validated and noted on its tag.

The tiny DVC project commits the repository's own lock file and registers a
version at that commit; the real ``mlops sbom`` process writes the document,
which is validated again here against the bundled 1.6 schema and compared
with the registration (model hashes, task, family, datasets) and the lock.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from packaging.utils import canonicalize_name

from mlops_gitops.registry import find_version, register
from mlops_gitops.supply import SupplyError
from mlops_gitops.supply.sbom import SBOM_REF, build_sbom, validate_sbom
from tests.helpers import git, run
from tests.helpers.commands import mlops_process

LOCK = Path(__file__).resolve().parents[2] / "requirements" / "lock.txt"


@pytest.fixture
def locked(model_repo):
    """credit-default v3.0.0 registered on a commit that holds the project's lock file."""
    (model_repo.path / "requirements").mkdir()
    shutil.copyfile(LOCK, model_repo.path / "requirements" / "lock.txt")
    params = model_repo.path / "params.yaml"
    params.write_text(params.read_text() + "model:\n  task: binary\n  family: xgboost\n")
    pipeline = model_repo.path / "dvc.yaml"
    pipeline.write_text(
        pipeline.read_text().replace("      - train\n", "      - train\n      - model\n")
    )
    run(["dvc", "repro", "-q"], model_repo.path)
    git(model_repo.path, "add", "-A")
    git(model_repo.path, "commit", "-q", "-m", "Lock the environment")
    register(model_repo.path, "credit-default", version="v3.0.0", check_remote=False)
    return model_repo


def mlops(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return mlops_process(root, *args)


def locked_pins() -> set[tuple[str, str]]:
    """(canonical name, version) of every pin of the lock file."""
    lines = [line.split("#")[0].strip() for line in LOCK.read_text().splitlines()]
    pins = [line.split(";")[0].strip() for line in lines if line and not line.startswith("-")]
    return {(canonicalize_name(p.split("==")[0]), p.split("==")[1]) for p in pins}


def listed(doc: dict[str, object]) -> set[tuple[str, str]]:
    purls = [PackageURL.from_string(c["purl"]) for c in doc["components"] if c["type"] == "library"]
    return {(canonicalize_name(p.name), str(p.version)) for p in purls}


def test_the_sbom_lists_the_model_its_data_and_every_locked_package(locked):
    result = mlops(locked.path, "sbom", "credit-default", "v3.0.0", "--output", "sbom.json")
    assert result.returncode == 0, result.stderr
    text = (locked.path / "sbom.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    version = find_version(locked.path, "credit-default", "v3.0.0")
    model = doc["metadata"]["component"]
    assert model["type"] == "machine-learning-model" and model["version"] == "v3.0.0"
    cached = (
        locked.path / ".dvc/cache/files/md5" / version.artifact.md5[:2] / version.artifact.md5[2:]
    )
    assert {h["alg"]: h["content"] for h in model["hashes"]} == {
        "MD5": version.artifact.md5,
        "SHA-256": hashlib.sha256(cached.read_bytes()).hexdigest(),
    }
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props["mlops:task"] == "binary" and props["mlops:family"] == "xgboost"
    assert model["modelCard"]["modelParameters"]["architectureFamily"] == "xgboost"
    data = {c["name"]: c["hashes"][0]["content"] for c in doc["components"] if c["type"] == "data"}
    assert data == version.data and data  # every training dataset, with its DVC hash
    packages = listed(doc)
    assert packages == locked_pins() and len(packages) > 100
    assert f"{len(data)} datasets, {len(packages)} locked packages" in result.stdout


def test_the_sbom_is_a_note_on_the_registration_tag_and_the_same_every_time(locked):
    for name in ("a.json", "b.json"):
        assert (
            mlops(locked.path, "sbom", "credit-default", "v3.0.0", "--output", name).returncode == 0
        )
    first, second = ((locked.path / n).read_text() for n in ("a.json", "b.json"))
    assert first == second
    tag_object = git(locked.path, "rev-parse", "refs/tags/credit-default@v3.0.0").strip()
    assert git(locked.path, "notes", f"--ref={SBOM_REF}", "show", tag_object) == first


def test_the_model_card_shows_the_attached_sbom(locked, tmp_path):
    from datetime import UTC, datetime

    from mlops_gitops.site.cards import build_cards
    from mlops_gitops.site.data import read_site_data

    data = read_site_data(locked.path, now=datetime.now(UTC))
    before = {
        c.version.version: c.sbom for c in build_cards(data) if c.version.model == "credit-default"
    }
    assert before["v3.0.0"] is None
    assert mlops(locked.path, "sbom", "credit-default", "v3.0.0").returncode == 0
    cards = {c.version.version: c for c in build_cards(data) if c.version.model == "credit-default"}
    card = cards["v3.0.0"].sbom
    assert card is not None and card.spec == "1.6" and card.packages == len(locked_pins())
    assert card.hashes[0] == ("MD5", cards["v3.0.0"].version.artifact.md5)


def test_a_lock_line_without_an_exact_pin_is_refused_naming_its_line(locked):
    lock = locked.path / "requirements" / "lock.txt"
    lock.write_text("click==8.1.8\nrequests>=2\n")
    git(locked.path, "commit", "-q", "-am", "Loosen a pin")
    register(locked.path, "credit-default", version="v3.1.0", check_remote=False)
    result = mlops(locked.path, "sbom", "credit-default", "v3.1.0")
    assert result.returncode == 1
    assert result.stderr == (
        "error: requirements/lock.txt:2: 'requests>=2' pins no exact version (name==version)\n"
    )
    tag_object = git(locked.path, "rev-parse", "refs/tags/credit-default@v3.1.0").strip()
    listed = git(locked.path, "notes", f"--ref={SBOM_REF}", "list")
    assert tag_object not in listed  # nothing attached


def test_a_version_without_a_committed_lock_is_refused(registered):
    result = mlops(registered.path, "sbom", "credit-default", "v1.0.0")
    assert result.returncode == 1
    assert result.stderr.startswith("error: requirements/lock.txt: not committed at ")


def test_the_validation_refuses_a_document_outside_the_schema(locked):
    sbom = build_sbom(locked.path, "credit-default", "v3.0.0")
    broken = json.loads(sbom.text())
    broken["metadata"]["component"]["type"] = "neural-net"
    with pytest.raises(SupplyError, match=r"not valid CycloneDX 1\.6 at metadata/component/type"):
        validate_sbom(broken, "the SBOM")
