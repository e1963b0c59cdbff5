"""``mlops docs build``: one success and one failure path, and a fresh scaffold builds."""

from __future__ import annotations

import json

import pytest

from mlops_gitops.project import init_project
from tests.site.history import History


def test_docs_build_generates_and_builds_the_site(history_repo: History, cli):
    result = cli("docs", "build", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["generated"]["versions"] == 5
    assert (history_repo.path / "site" / "generated" / "audit" / "index.html").is_file()


def test_docs_build_without_mkdocs_config_names_the_file(git_repo, cli):
    result = cli("docs", "build")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {git_repo / 'mkdocs.yml'}: not found; every project of the convention has one "
        "('mlops init')\n"
    )


@pytest.mark.slow
def test_a_fresh_scaffold_builds_its_site(tmp_path, cli, monkeypatch):
    project = init_project(tmp_path / "credit", remote=tmp_path / "remote").path
    monkeypatch.chdir(project)
    result = cli("docs", "build")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"built {project / 'site'}: ")
    home = (project / "site" / "index.html").read_text()
    assert "Nothing runs in dev." in home


@pytest.mark.slow
def test_docs_build_serve_serves_the_site_on_the_address(history_repo: History):
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:  # a free port on 127.0.0.1
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "mlops_gitops", "docs", "build", "--serve", "--address"]
    proc = subprocess.Popen(
        [*command, f"127.0.0.1:{port}"], cwd=history_repo.path, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # mkdocs says when it serves; no polling
            if "Serving on" in line:
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert "What runs where, right now" in response.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
