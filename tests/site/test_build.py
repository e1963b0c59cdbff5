"""``build_site``: generated pages, the strict mkdocs build, atomic regeneration, offline output."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from mlops_gitops import scm
from mlops_gitops.audit import list_events, read_export
from mlops_gitops.errors import MlopsError
from mlops_gitops.site import SiteError, build_site, generate_site
from tests.site.history import History

NOW = datetime(2026, 1, 25, tzinfo=UTC)


@pytest.fixture(scope="module")
def built(built_site):
    return built_site


def test_build_writes_every_page_and_the_audit_exports(built):
    repo, result = built
    site = result.site_dir
    assert result.generated.versions == 5 and result.generated.undocumented == ("churn",)
    home = (site / "index.html").read_text()
    assert "What runs where, right now" in home and "Latest gate decisions" in home
    card = (site / "generated/models/credit-default/v1.1.0/index.html").read_text()
    assert 'id="lineage"' in card and "<svg" in card and "alice" in card
    assert (site / "generated/models/credit-default/v1.2.0/explain/report.html").is_file()
    for name in ("audit.csv", "audit.json"):
        assert read_export(site / "generated" / name) == list_events(repo.path)
    cli_page = (site / "generated/reference/cli/index.html").read_text()
    assert "mlops docs build" in cli_page and "mlops audit" in cli_page


def test_what_ran_on_a_date_covers_the_rollback(built):
    _, result = built
    page = (result.site_dir / "generated/environments/index.html").read_text()
    prod = re.findall(
        r'<tr data-start="([^"]+)" data-end="([^"]*)"><td>prod</td><td>credit-default'
        r'</td><td><a href="[^"]+">(v[\d.]+)</a>',
        page,
    )
    assert ("2026-01-14T09:00:00Z", "2026-01-15T09:00:00Z", "v1.1.0") in prod
    assert ("2026-01-15T09:00:00Z", "", "v1.0.0") in prod


def test_the_built_site_loads_nothing_from_the_network(built):
    _, result = built
    external = set()
    for page in result.site_dir.rglob("*.html"):
        text = page.read_text()
        external |= set(re.findall(r'(?:src|href)="(https?://[^"]+)"', text))
    assert {url for url in external if "fonts." in url or "cdn" in url or "unpkg" in url} == set()
    assert not list(result.site_dir.rglob("*.woff2"))


def test_generated_pages_are_rebuilt_never_edited(history_repo: History):
    settings, _ = generate_site(history_repo.path, now=NOW)
    page = settings.generated / "models" / "index.md"
    original = page.read_text()
    page.write_text("edited by hand\n")
    generate_site(history_repo.path, now=NOW)
    assert page.read_text() == original
    assert (settings.generated / ".gitignore").read_text().endswith("*\n")
    assert not scm.is_dirty(history_repo.path, untracked=True)


def test_a_failed_generation_keeps_the_previous_pages(history_repo: History):
    settings, _ = generate_site(history_repo.path, now=NOW)
    (history_repo.path / "docs" / "compliance.yaml").write_text("requirements: [{id: T1}]\n")
    with pytest.raises(MlopsError, match=r"compliance.yaml requirements.0.area"):
        generate_site(history_repo.path, now=NOW)
    assert (settings.generated / "models" / "index.md").is_file()
    assert not list(settings.docs_dir.glob(".generated*"))


def test_a_broken_link_in_a_hand_written_page_fails_the_strict_build(history_repo: History):
    guide = history_repo.path / "docs" / "getting-started.md"
    guide.write_text(guide.read_text() + "\nSee [the runbook](runbook.md).\n")
    with pytest.raises(SiteError) as info:
        build_site(history_repo.path, now=NOW)
    message = str(info.value)
    assert message.startswith(
        "mkdocs build --strict failed: warning: Doc file 'getting-started.md'"
    )
    assert "runbook.md" in message and "\n" not in message


def test_policies_page_lists_rules_with_tests_and_splits_waivers_by_expiry(built):
    _, result = built
    page = (result.settings.generated / "policies.md").read_text()
    assert "| `min-metrics` |" in page and "`policies/quality.yaml:" in page
    active, expired = page.split("### Active waivers")[1].split("### Expired waivers")
    assert "`W-2026-001`" in active and "`W-2026-000`" not in active
    assert "`W-2026-000`" in expired


def test_compliance_page_is_rendered_from_the_data_file(history_repo: History):
    from pathlib import Path

    from mlops_gitops.site.compliance import load_matrix, render_markdown

    data = Path(__file__).parents[2] / "docs" / "compliance.yaml"
    (history_repo.path / "docs" / "compliance.yaml").write_text(data.read_text())
    settings, _ = generate_site(history_repo.path, now=NOW)
    expected = render_markdown(load_matrix(history_repo.path / "docs" / "compliance.yaml"))
    assert (settings.generated / "compliance.md").read_text() == expected


def test_experiments_page_compares_branches_and_dvc_experiments(built):
    _, result = built
    page = (result.settings.generated / "experiments.md").read_text()
    for column in ("HEAD", "exp/wider", "train/too-small", "shy-lamb"):
        assert f"<th>{column}<br>" in page
    assert "<td>train.width</td>" in page and "<strong>roc_auc</strong>" in page
    assert "promote/" not in page  # merged branches are not experiments
    assert "roc_auc by experiment" in page
