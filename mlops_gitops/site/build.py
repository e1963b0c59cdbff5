"""Build the site: generate the pages, then ``mkdocs build --strict`` (or ``mkdocs serve``).

Settings come from the project's ``mkdocs.yml``: ``docs_dir`` (the
generated folder is ``<docs_dir>/generated``), ``site_dir``, ``repo_url``
(commit and pull-request links when it is a web forge) and whether the
``mkdocstrings`` plugin is configured (then the Python API page is
generated). The build runs fully offline: no CDN, no web fonts.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from mlops_gitops.errors import DependencyMissingError, MlopsError
from mlops_gitops.site.generate import Generated, generate_pages, swap_in
from mlops_gitops.site.markup import Links

log = logging.getLogger(__name__)

CONFIG_FILE = "mkdocs.yml"
GENERATED = "generated"
MKDOCS_ENV = {"NO_MKDOCS_2_WARNING": "1"}


class SiteError(MlopsError):
    """The site cannot be generated or mkdocs refused to build it."""


@dataclass(frozen=True, kw_only=True)
class SiteSettings:
    """Where the site's sources and output are, read from ``mkdocs.yml``."""

    root: Path
    config: Path
    docs_dir: Path
    site_dir: Path
    repo_url: str | None
    api: bool

    @property
    def generated(self) -> Path:
        """The generated folder (never edited by hand, git-ignored)."""
        return self.docs_dir / GENERATED


@dataclass(frozen=True)
class SiteBuild:
    """What a build produced: the generated pages, the site folder and the timings."""

    settings: SiteSettings
    generated: Generated
    site_dir: Path | None
    seconds: dict[str, float]


def read_settings(root: str | os.PathLike[str] = ".") -> SiteSettings:
    """Read the site settings from ``root/mkdocs.yml``.

    Raises:
        SiteError: the file is missing or is not valid YAML.
    """
    base = Path(root).resolve()
    config = base / CONFIG_FILE
    if not config.is_file():
        raise SiteError(
            f"{config}: not found; every project of the convention has one ('mlops init')"
        )
    data = _load_config(config)
    plugins = data.get("plugins") or []
    names = {p if isinstance(p, str) else next(iter(p), "") for p in plugins}
    return SiteSettings(
        root=base,
        config=config,
        docs_dir=base / str(data.get("docs_dir") or "docs"),
        site_dir=base / str(data.get("site_dir") or "site"),
        repo_url=str(data["repo_url"]).rstrip("/") if data.get("repo_url") else None,
        api="mkdocstrings" in names,
    )


def _load_config(config: Path) -> dict[str, Any]:
    _require_mkdocs()
    from mkdocs.utils.yaml import yaml_load
    from yaml import YAMLError

    try:
        with config.open("rb") as handle:
            data = yaml_load(handle)
    except (YAMLError, OSError) as exc:
        raise SiteError(f"{config}: not a valid mkdocs configuration ({exc})") from exc
    if not isinstance(data, dict):
        raise SiteError(f"{config}: expected a mapping of mkdocs settings")
    return data


def _require_mkdocs() -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        raise DependencyMissingError("mkdocs-material", "docs")


def generate_site(
    root: str | os.PathLike[str] = ".",
    *,
    now: datetime | None = None,
    commands: click.Group | None = None,
) -> tuple[SiteSettings, Generated]:
    """Regenerate the generated folder of the project at ``root`` (atomically swapped in).

    ``commands`` is the click command tree the command-line reference documents.
    """
    settings = read_settings(root)
    target = settings.generated
    staging = target.with_name(f".{GENERATED}.tmp")
    import shutil

    shutil.rmtree(staging, ignore_errors=True)
    try:
        generated = generate_pages(
            settings.root,
            staging,
            now=now or datetime.now(UTC),
            links=Links(settings.repo_url),
            api=settings.api,
            commands=commands,
        )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_in(staging, target)
    log.info("generated %d pages in %s", generated.pages, target)
    return settings, generated


def build_site(
    root: str | os.PathLike[str] = ".",
    *,
    now: datetime | None = None,
    site_dir: str | os.PathLike[str] | None = None,
    commands: click.Group | None = None,
) -> SiteBuild:
    """Generate the pages and run ``mkdocs build --strict``.

    Raises:
        SiteError: mkdocs reported a warning or an error (the first one is named).
    """
    started = time.perf_counter()
    settings, generated = generate_site(root, now=now, commands=commands)
    middle = time.perf_counter()
    output = Path(site_dir).resolve() if site_dir else settings.site_dir
    _run_mkdocs(settings, "build", "--strict", "--site-dir", str(output))
    seconds = {"generate": middle - started, "mkdocs": time.perf_counter() - middle}
    return SiteBuild(settings, generated, output, seconds)


def serve_site(
    root: str | os.PathLike[str] = ".",
    *,
    address: str = "127.0.0.1:8000",
    now: datetime | None = None,
    commands: click.Group | None = None,
) -> SiteBuild:
    """Generate the pages and serve the site on ``address`` until interrupted.

    mkdocs serves in this process (so stopping the process stops the server);
    it logs through the ``mkdocs`` logger, which the caller may show.
    """
    settings, generated = generate_site(root, now=now, commands=commands)
    from mkdocs.commands.serve import serve
    from mkdocs.exceptions import MkDocsException

    previous = os.getcwd()
    os.chdir(settings.root)  # the snippets' base path is relative to the project
    try:
        serve(str(settings.config), dev_addr=address, strict=True)
    except MkDocsException as exc:
        raise SiteError(f"mkdocs serve --strict failed: {exc}") from exc
    finally:
        os.chdir(previous)
    return SiteBuild(settings, generated, None, {})


def _run_mkdocs(settings: SiteSettings, *args: str) -> None:
    command = [sys.executable, "-m", "mkdocs", *args, "--config-file", str(settings.config)]
    env = {**os.environ, **MKDOCS_ENV}
    proc = subprocess.run(
        command, cwd=settings.root, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SiteError(
            f"mkdocs {args[0]} --strict failed: {_first_problem(proc.stdout, proc.stderr)}"
        )


def _first_problem(stdout: str | None, stderr: str | None) -> str:
    lines = [
        line.strip() for line in f"{stderr or ''}\n{stdout or ''}".splitlines() if line.strip()
    ]
    problems = [line for line in lines if line.startswith(("WARNING", "ERROR", "Error", "Aborted"))]
    chosen = problems[0] if problems else (lines[-1] if lines else "no output")
    return " ".join(chosen.split()).replace("WARNING -", "warning:").replace("ERROR -", "error:")
