"""The built site in a real headless Chromium (Debian's ``chromium``), served from 127.0.0.1.

Checks what a reader sees: the model card's metrics and lineage, the audit
history in order and its filter, the search finding a model by name, and
no console error on any page. Screenshots of the home page and a model card
are saved under ``tests/artifacts/site/`` (or ``$MLOPS_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mlops_gitops.audit import list_events

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("MLOPS_TEST_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))


def _chromium() -> str:
    """Return the browser; install Debian's package when it is missing and apt can."""
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, check=False
        )
        found = shutil.which("chromium")
    if found is None:
        pytest.skip(
            "Debian's chromium is not installed and cannot be (apt-get install -y chromium)"
        )
    return found


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def served(built_site) -> Iterator[tuple[str, object]]:
    history, build = built_site
    handler = functools.partial(_Quiet, directory=str(build.site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", history
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            args=FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("requestfailed", lambda r: page.problems.append(f"failed {r.url}"))
    yield page
    page.close()


def _artifact(name: str) -> Path:
    folder = ARTIFACTS / "site"
    folder.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")
    return folder / name


def test_home_page_shows_what_runs_where(served, page):
    base, _ = served
    page.goto(f"{base}/")
    assert page.locator("h2#what-runs-where-right-now").is_visible()
    prod = page.locator("xpath=//h3[@id='prod']/following::table[1]")
    assert "v1.0.0" in prod.inner_text()
    page.screenshot(path=str(_artifact("home.png")), full_page=True)
    assert page.problems == []


def test_model_card_shows_its_metrics_and_lineage(served, page):
    base, _ = served
    page.goto(f"{base}/generated/models/credit-default/v1.1.0/")
    assert page.locator("h1").inner_text().rstrip("¶") == "credit-default v1.1.0"
    metrics = page.locator("xpath=//h2[@id='evaluation']/following::table[1]").inner_text()
    assert "roc_auc" in metrics and "0.84" in metrics
    lineage = page.locator("xpath=//h2[@id='lineage']/following::ol[1]").inner_text()
    for step in ("Data", "Code", "CI run", "Approvers: prod: alice", "Environments"):
        assert step in lineage
    assert page.locator("svg.mlops-chart").count() == 2
    page.screenshot(path=str(_artifact("model-card.png")), full_page=True)
    assert page.problems == []


def test_audit_page_lists_the_events_in_order_and_filters_them(served, page):
    base, history = served
    page.goto(f"{base}/generated/audit/")
    rows = page.locator("#mlops-audit tbody tr")
    numbers = [int(n) for n in rows.locator("td:first-child").all_inner_texts()]
    assert numbers == [e.seq for e in list_events(history.path)]
    page.select_option("select.mlops-filter-kind", "rollback")
    visible = page.locator("#mlops-audit tbody tr:visible")
    assert visible.count() == 1 and "rolled back to credit-default v1.0.0" in visible.inner_text()
    assert page.locator('.mlops-count[data-for="mlops-audit"]').inner_text().startswith("1 of ")
    assert page.problems == []


def test_search_finds_a_model_by_name(served, page):
    base, _ = served
    page.goto(f"{base}/")
    page.locator("input.md-search__input").click()
    page.keyboard.type("churn", delay=50)  # the search reacts to key presses
    result = page.locator(".md-search-result__item a[href*='models/churn/']").first
    result.wait_for(timeout=15_000)
    assert "churn" in result.inner_text()
    assert page.problems == []


def test_environments_page_shows_what_ran_on_a_date(served, page):
    base, _ = served
    page.goto(f"{base}/generated/environments/")
    page.fill("input.mlops-date", "2026-01-14")
    shown = page.locator("#mlops-ran tbody tr:visible").all_inner_texts()
    assert any(r.startswith("prod") and "v1.1.0" in r for r in shown)
    assert not any(r.startswith("prod") and "v1.0.0" in r and "running" in r for r in shown)
    assert page.problems == []
