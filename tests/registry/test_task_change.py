"""A version whose ``model.task`` changed: registered with a warning, refused at promotion."""

from __future__ import annotations

from collections.abc import Callable

from tests.helpers import CliResult, git, run
from tests.helpers.model_repo import ModelRepo

DAY1 = "2026-02-01T10:00:00+00:00"
REFUSAL = (
    "error: credit-default v3.0.0 is a regression model but v1.0.0, running in dev, is a "
    "binary one; a model that changes task is a new model: register it under a new model "
    "name (its own entry of 'artifacts:' in dvc.yaml)\n"
)


def _train_as(repo: ModelRepo, task: str) -> str:
    """Commit a run of the pipeline whose params (and so its dvc.lock) say ``model.task``."""
    dvc_yaml = repo.path / "dvc.yaml"
    listed = dvc_yaml.read_text().replace("      - train\n", "      - train\n      - model\n")
    dvc_yaml.write_text(listed)
    (repo.path / "params.yaml").write_text(f"train:\n  seed: 4\nmodel:\n  task: {task}\n")
    run(["dvc", "repro", "-q"], repo.path)
    run(["dvc", "push", "-q"], repo.path)
    run(["git", "add", "-A"], repo.path)
    run(["git", "commit", "-q", "-m", f"Train a {task} model"], repo.path)
    return git(repo.path, "rev-parse", "HEAD").strip()


def _register_over_dev(
    cli: Callable[..., CliResult], repo: ModelRepo, deploy: Callable[..., str], task: str
) -> CliResult:
    """Run v1.0.0 in dev, then train and register a ``task`` model as v3.0.0."""
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    _train_as(repo, task)
    return cli("registry", "register", "credit-default", "--version", "v3.0.0")


def test_a_task_change_registers_with_a_warning_and_is_refused_over_the_running_version(
    cli, registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    registration = _register_over_dev(cli, registered, deploy, "regression")
    assert registration.exit_code == 0, registration.stderr
    assert registration.stderr == (
        "credit-default v3.0.0 is a regression model but v2.0.0, its latest registration, is a "
        "binary one; it will not be promoted over a version of another task: register it "
        "under a new model name\n"
    )

    head = git(registered.path, "rev-parse", "HEAD").strip()
    branches = git(registered.path, "branch", "--list")
    refused = cli("registry", "promote", "credit-default", "v3.0.0", "--to", "dev")
    assert refused.exit_code == 1
    assert refused.stderr == REFUSAL
    assert git(registered.path, "rev-parse", "HEAD").strip() == head
    assert git(registered.path, "branch", "--list") == branches
    assert git(registered.path, "status", "--porcelain") == ""


def test_the_same_task_registers_quietly_and_promotes(
    cli, registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    registration = _register_over_dev(cli, registered, deploy, "binary")
    assert (registration.exit_code, registration.stderr) == (0, "")
    promoted = cli("registry", "promote", "credit-default", "v3.0.0", "--to", "dev")
    assert promoted.exit_code == 0, promoted.stderr
    assert "promote/dev/credit-default-v3.0.0" in git(registered.path, "branch", "--list")


def test_a_task_change_may_enter_an_environment_the_model_does_not_run_in(
    cli, registered: ModelRepo
) -> None:
    _train_as(registered, "regression")
    assert cli("registry", "register", "credit-default", "--version", "v3.0.0").exit_code == 0

    promoted = cli("registry", "promote", "credit-default", "v3.0.0", "--to", "dev")
    assert promoted.exit_code == 0, promoted.stderr
