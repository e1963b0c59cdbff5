"""The PR report compares the candidate with the version each environment runs."""

from __future__ import annotations

import pytest

from mlops_gitops.reports import build_pr_context, render_pr_markdown
from tests.helpers import sh
from tests.helpers.tiny_forge import TinyForge


@pytest.mark.slow
def test_report_shows_the_version_prod_runs_and_the_delta_to_it(tiny: TinyForge) -> None:
    from mlops_gitops.registry import register
    from mlops_gitops.registry.promote import promote

    register(tiny.clone, "credit-default", version="v1.0.0", check_remote=False)
    change = promote(tiny.clone, "credit-default", "v1.0.0", to="prod")
    sh(f"git merge -q --ff-only {change.branch}", tiny.clone)
    sh("git checkout -q -b feature && sed -i 's/0.1/0.25/' params.yaml && dvc repro -q", tiny.clone)
    sh("git commit -qam 'Raise lr'", tiny.clone)

    context = build_pr_context(tiny.clone, branch="feature", sha="f" * 40, base="main")
    text = render_pr_markdown(context)

    assert [(c.env, c.version) for c in context.env_columns] == [("prod", "credit-default@v1.0.0")]
    assert "| metric | candidate | main | Δ main | prod (credit-default@v1.0.0) |" in text
    assert "| roc_auc | 0.85 | 0.7 | +0.15 | 0.7 (+0.15) |" in text
