"""The documentation site, built from the repository's history with mkdocs-material.

Owns the generated folder (``docs/generated/``, never edited by hand and
git-ignored): the home page (what runs where, the latest gate decisions),
the model catalog, one model card per version, the environments with their
history, the audit history with its CSV and JSON exports, the policies and
waivers, the experiments, the compliance matrix and the command-line and
API references. :func:`build_site` then runs ``mkdocs build --strict``;
everything works offline.
"""

from __future__ import annotations

from mlops_gitops.site.build import (
    SiteBuild,
    SiteError,
    SiteSettings,
    build_site,
    generate_site,
    read_settings,
    serve_site,
)
from mlops_gitops.site.cards import Card, build_card, build_cards
from mlops_gitops.site.data import SiteData, read_site_data
from mlops_gitops.site.generate import Generated

__all__ = [
    "Card",
    "Generated",
    "SiteBuild",
    "SiteData",
    "SiteError",
    "SiteSettings",
    "build_card",
    "build_cards",
    "build_site",
    "generate_site",
    "read_settings",
    "read_site_data",
    "serve_site",
]
