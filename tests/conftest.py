"""Shared fixtures: an isolated environment, real git and DVC repositories, the CLI.

Tests run against real git and real DVC in temporary folders; nothing of our
own is mocked. The reference project (the scaffold with its pipeline run on a
small sample) is built once per test session and copied into each test.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from click.testing import CliRunner

from mlops_gitops import stage
from mlops_gitops.data import generate_sample
from mlops_gitops.project import template_root
from tests.helpers import DEMO_LOG, CliResult, gen_tree, run
from tests.helpers.repos import add_dvc, build_repo_template, copy_repo

if TYPE_CHECKING:
    from mlops_gitops.demo import DemoResult

pytest_plugins = (  # fixtures shared by several test folders
    "tests.helpers.history_repo",
    "tests.helpers.model_repo",
    "tests.helpers.serving",
    "tests.helpers.tiny_forge",
)

PINNED_DATE = "2026-01-15T10:00:00+00:00"
SMALL_SAMPLE = 600


@pytest.fixture(autouse=True, scope="session")
def isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point HOME at a temporary folder and pin git identities and dates."""
    home = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.endswith(("_TOKEN", "_PROXY", "_proxy")) or key.startswith(("GIT_", "GITHUB_")):
            del os.environ[key]
    os.environ.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Ada Analyst",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada Analyst",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
            "GIT_AUTHOR_DATE": PINNED_DATE,
            "GIT_COMMITTER_DATE": PINNED_DATE,
            "DVC_NO_ANALYTICS": "1",
            "DVCLIVE_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(home / ".dvc-site-cache"),
            "MLOPS_TRACEBACK": "",
            # stage scripts run by `dvc repro` must find this environment's python and dvc
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    yield home
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def gen(tmp_path: Path) -> Callable[..., None]:
    """``gen(tree, commit=None, root=tmp_path)``: write files and optionally commit them."""

    def _gen(
        tree: Mapping[str, str | bytes], commit: str | None = None, root: Path | None = None
    ) -> None:
        gen_tree(root or Path.cwd(), tree, commit)

    return _gen


@pytest.fixture(scope="session")
def repo_template(isolated_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The initialised repositories (``git``, ``dvc``, ``dvc-with-remote``) that tests copy."""
    return build_repo_template(tmp_path_factory.mktemp("repo-template"))


@pytest.fixture
def git_repo(repo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real git repository with one commit, as the current folder."""
    repo = copy_repo(repo_template, tmp_path / "repo", "git")
    gen_tree(repo, {"README.md": "# test\n"}, commit="Initial commit")
    monkeypatch.chdir(repo)
    return repo


@pytest.fixture
def dvc_repo(git_repo: Path, repo_template: Path) -> Path:
    """``git_repo`` made a DVC repository with a local DVC remote folder (``../dvc-remote``)."""
    remote = git_repo.parent / "dvc-remote"
    remote.mkdir()
    add_dvc(repo_template, git_repo, "dvc-with-remote")
    run(["git", "add", "-A"], git_repo)
    run(["git", "commit", "-q", "-m", "Initialise DVC"], git_repo)
    return git_repo


@pytest.fixture
def remote(git_repo: Path) -> Path:
    """A bare repository set as ``origin`` of ``git_repo`` with main pushed."""
    bare = git_repo.parent / "origin.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], git_repo)
    run(["git", "remote", "add", "origin", str(bare)], git_repo)
    run(["git", "push", "-q", "-u", "origin", "main"], git_repo)
    return bare


def _build_reference(dest: Path) -> None:
    from mlops_gitops.project import init_project

    init_project(dest / "project", remote=dest / "dvc-remote")
    project = dest / "project"
    params = project / "params.yaml"
    text = params.read_text()
    params.write_text(text.replace("rows: 20000", f"rows: {SMALL_SAMPLE}"))
    run(["dvc", "repro", "-q"], project)
    run(["dvc", "push", "-q"], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "Train on the small sample"], project)


@pytest.fixture(scope="session")
def reference_project(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The scaffold with its pipeline run on a small sample; built once, shared by workers."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    built = shared / "reference-project"
    with FileLock(str(shared / "reference-project.lock")):
        if not (built / "done").exists():
            shutil.rmtree(built, ignore_errors=True)
            built.mkdir()
            _build_reference(built)
            (built / "done").write_text("ok\n")
    return built


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> DemoResult:
    """One ``run_demo`` of the whole loop on the small sample, shared by tests and workers.

    Its cost is one full demo per test session (about 40 s on 2 cores: the
    pipeline, a local server, 2,000 replayed requests, a monitoring run), paid
    by the first test that asks for it; tests only read what it left. Every
    line the demo printed or logged is kept in ``DEMO_LOG`` beside the project.
    """
    from filelock import FileLock

    from mlops_gitops.demo import DemoResult, run_demo

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    record = shared / "demo-run" / "result.json"
    with FileLock(str(shared / "demo-run.lock")):
        if not record.exists():
            shutil.rmtree(shared / "demo-run", ignore_errors=True)
            (shared / "demo-run").mkdir()
            with _output_to(shared / "demo-run" / DEMO_LOG):
                result = run_demo(shared / "demo-run" / "demo", rows=SMALL_SAMPLE)
            fields = {**vars(result), "path": str(result.path), "remote": str(result.remote)}
            record.write_text(json.dumps(fields))
    fields = json.loads(record.read_text())
    fields.update(
        path=Path(fields["path"]), remote=Path(fields["remote"]), alerts=tuple(fields["alerts"])
    )
    return DemoResult(**fields)


@contextlib.contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout, stderr (and its children's) and log records to ``path``."""
    import logging

    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    handler = logging.FileHandler(path, encoding="utf-8")
    root = logging.getLogger()
    level = root.level
    with path.open("ab") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            root.removeHandler(handler)
            root.setLevel(level)
            handler.close()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


@pytest.fixture
def project(reference_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the reference project (with its DVC remote), as the current folder."""
    shutil.copytree(reference_project / "project", tmp_path / "project", symlinks=True)
    shutil.copytree(reference_project / "dvc-remote", tmp_path / "dvc-remote")
    run(
        ["dvc", "remote", "modify", "local", "url", str(tmp_path / "dvc-remote")],
        tmp_path / "project",
    )
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path / "project"


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """``cli("status", "--json")``: run ``mlops`` in-process through ``cli.main``."""
    from mlops_gitops.cli import main

    def _cli(*args: str) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(_as_command(main), list(args), catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return _cli


def _as_command(main: Callable[[list[str]], object]) -> object:
    import click

    @click.command(
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    @click.pass_context
    def wrapper(ctx: click.Context) -> None:
        main(list(ctx.args))

    return wrapper


# Fixtures of the data and quality tests: the scaffold's params sections and a small sample.
PII = ("full_name", "email", "phone", "national_id")


@pytest.fixture(scope="session")
def sections() -> dict[str, dict[str, Any]]:
    """The data, schema and prepare sections of the scaffold's params.yaml."""
    return stage.load_sections("data", "schema", "prepare", root=template_root())


@pytest.fixture(scope="session")
def small_sample() -> pd.DataFrame:
    """400 rows of the built-in sample (seed 7); copy before changing it."""
    return generate_sample(400, 7)


@pytest.fixture
def venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put this interpreter's folder first on PATH, so `python stages/x.py` under DVC finds us."""
    bin_dir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))


@pytest.fixture(autouse=True)
def no_salt_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the PII salt themselves; one in the developer's shell must not leak in."""
    monkeypatch.delenv("MLOPS_PII_SALT", raising=False)
