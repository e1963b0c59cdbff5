"""The repository convention: scaffold a project and run the demo.

The scaffold lives in ``templates/project/`` inside the package; the
repository root of mlops-gitops links to the same files, so the reference
project and what ``mlops init`` writes have one source. Files ending in
``.j2`` are rendered with jinja2 (the project name); the rest are copied.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from mlops_gitops import pipeline, scm
from mlops_gitops.errors import ConfigError

log = logging.getLogger(__name__)

TEMPLATE = "templates/project"
# Paths of the scaffold that the repository root links to (one source).
LINKED_AT_ROOT = (
    "dvc.yaml",
    "params.yaml",
    "stages",
    "envs",
    "policies",
    ".dvcignore",
    ".github",
)


@dataclass(frozen=True)
class InitResult:
    """What ``init_project`` created."""

    path: Path
    remote: Path
    commit: str
    files: tuple[str, ...]


def template_root() -> Path:
    """Return the folder of the project scaffold shipped with the package."""
    return Path(str(resources.files("mlops_gitops").joinpath(TEMPLATE)))


def list_template_files() -> list[str]:
    """Return the scaffold's files as POSIX paths relative to its root, sorted."""
    root = template_root()
    skip = {"__pycache__"}
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not skip.intersection(p.parts) and not p.name.endswith(".pyc")
    )


def render_template_file(relpath: str, *, name: str) -> tuple[str, bytes]:
    """Return the destination path and content of one scaffold file."""
    source = template_root() / relpath
    if not relpath.endswith(".j2"):
        return relpath, source.read_bytes()
    import jinja2

    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    text = env.from_string(source.read_text(encoding="utf-8")).render(project_name=name)
    return relpath.removesuffix(".j2"), text.encode()


def init_project(
    dest: str | os.PathLike[str],
    *,
    remote: str | os.PathLike[str] | None = None,
    name: str | None = None,
) -> InitResult:
    """Scaffold a project at ``dest``: files, ``git init``, ``dvc init``, a local DVC remote.

    Args:
        dest: an empty or missing folder.
        remote: the DVC remote folder; defaults to ``DEST/../NAME-dvc-remote``.
        name: the project name; defaults to the folder name.

    Raises:
        ConfigError: ``dest`` exists and is not empty.
    """
    path = Path(dest).resolve()
    if path.exists() and any(path.iterdir()):
        raise ConfigError(f"{path}: folder is not empty; choose a new folder for the project")
    project_name = name or path.name
    remote_path = Path(remote).resolve() if remote else path.parent / f"{project_name}-dvc-remote"
    written = _write_scaffold(path, project_name)
    scm.init(path)
    pipeline.dvc("init", "-q", cwd=path)
    pipeline.dvc("config", "core.analytics", "false", cwd=path)
    remote_path.mkdir(parents=True, exist_ok=True)
    pipeline.dvc("remote", "add", "-d", "local", str(remote_path), cwd=path)
    commit = scm.commit_all(f"Scaffold {project_name} with mlops init", cwd=path)
    log.info("created %s with %d files, DVC remote %s", path, len(written), remote_path)
    return InitResult(path=path, remote=remote_path, commit=commit, files=tuple(written))


def _write_scaffold(path: Path, name: str) -> list[str]:
    staging = path.with_name(f".{path.name}.init-tmp")
    shutil.rmtree(staging, ignore_errors=True)
    written: list[str] = []
    for rel in list_template_files():
        out_rel, content = render_template_file(rel, name=name)
        target = staging / out_rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        if (template_root() / rel).stat().st_mode & 0o111:
            target.chmod(0o755)
        written.append(out_rel)
    if path.exists():
        path.rmdir()
    os.replace(staging, path)
    return written
