"""The repository convention: scaffold a project and run the demo.

The scaffold lives in ``templates/project/`` inside the package; the
repository root of mlops-gitops links to the same files, so the reference
project and what ``mlops init`` writes have one source. Files ending in
``.j2`` are rendered with jinja2 (the project and model names); the rest are
copied. ``mlops init --task TASK`` starts from the same scaffold and applies
the task's starter, ``templates/tasks/TASK.yaml``: values set in params.yaml
and dvc.yaml by dotted path, policy rules replaced by id, files written or
removed. The binary task is the scaffold itself.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mlops_gitops import pipeline, scm
from mlops_gitops.errors import ConfigError
from mlops_gitops.roundtrip import load_roundtrip

log = logging.getLogger(__name__)

TEMPLATE = "templates/project"
# The starters of ``mlops init --task``, one TASK.yaml each, beside the scaffold.
STARTERS = "templates/tasks"
# The task and model of the scaffold itself.
SCAFFOLD_TASK = "binary"
SCAFFOLD_MODEL = "credit-default"
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


@dataclass(frozen=True, kw_only=True)
class InitResult:
    """What ``init_project`` created."""

    path: Path
    remote: Path
    commit: str
    files: tuple[str, ...]
    task: str = SCAFFOLD_TASK


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


def render_template_file(
    relpath: str, *, name: str, model: str = SCAFFOLD_MODEL
) -> tuple[str, bytes]:
    """Return the destination path and content of one scaffold file."""
    source = template_root() / relpath
    if not relpath.endswith(".j2"):
        return relpath, source.read_bytes()
    import jinja2

    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(source.read_text(encoding="utf-8"))
    text = template.render(project_name=name, model_name=model)
    return relpath.removesuffix(".j2"), text.encode()


def list_starters() -> list[str]:
    """Return the tasks ``mlops init --task`` can start a project for, the scaffold's first."""
    root = Path(str(resources.files("mlops_gitops").joinpath(STARTERS)))
    return [SCAFFOLD_TASK, *sorted(p.stem for p in root.glob("*.yaml"))]


def read_starter(task: str) -> dict[str, Any]:
    """Return the starter of ``task`` (round-trip YAML, comments kept); empty for the scaffold's.

    Raises:
        ConfigError: ``task`` is not a task (``mlops_gitops.tasks.list_tasks``), or
            no starter exists for it.
    """
    from mlops_gitops.tasks import list_tasks

    tasks = list_tasks()
    if task not in tasks:
        raise ConfigError(f"--task: unknown task '{task}'; tasks: {', '.join(tasks)}")
    if task not in list_starters():
        raise ConfigError(
            f"--task: no starter project for task '{task}'; starters: {', '.join(list_starters())}"
        )
    if task == SCAFFOLD_TASK:
        return {}
    path = Path(str(resources.files("mlops_gitops").joinpath(STARTERS))) / f"{task}.yaml"
    starter: dict[str, Any] = load_roundtrip(path)
    return starter


def init_project(
    dest: str | os.PathLike[str],
    *,
    remote: str | os.PathLike[str] | None = None,
    name: str | None = None,
    task: str = SCAFFOLD_TASK,
) -> InitResult:
    """Scaffold a project at ``dest``: files, ``git init``, ``dvc init``, a local DVC remote.

    Args:
        dest: an empty or missing folder.
        remote: the DVC remote folder; defaults to ``DEST/../NAME-dvc-remote``.
        name: the project name; defaults to the folder name.
        task: the model's task; the project gets that task's sample, schema,
            evaluation, pipeline and starter policies (:func:`list_starters`).

    Raises:
        ConfigError: ``dest`` exists and is not empty, or ``task`` has no starter.
    """
    path = Path(dest).resolve()
    starter = read_starter(task)
    if path.exists() and any(path.iterdir()):
        raise ConfigError(f"{path}: folder is not empty; choose a new folder for the project")
    project_name = name or path.name
    remote_path = Path(remote).resolve() if remote else path.parent / f"{project_name}-dvc-remote"
    written = _write_scaffold(path, project_name, starter)
    scm.init(path)
    pipeline.dvc("init", "-q", cwd=path)
    pipeline.dvc("config", "core.analytics", "false", cwd=path)
    remote_path.mkdir(parents=True, exist_ok=True)
    pipeline.dvc("remote", "add", "-d", "local", str(remote_path), cwd=path)
    commit = scm.commit_all(f"Scaffold {project_name} with mlops init", cwd=path)
    log.info("created %s with %d files, DVC remote %s", path, len(written), remote_path)
    return InitResult(path=path, remote=remote_path, commit=commit, files=tuple(written), task=task)


def _write_scaffold(path: Path, name: str, starter: dict[str, Any]) -> list[str]:
    staging = path.with_name(f".{path.name}.init-tmp")
    shutil.rmtree(staging, ignore_errors=True)
    model = str(starter.get("params", {}).get("model.name", SCAFFOLD_MODEL))
    written: list[str] = []
    for rel in list_template_files():
        out_rel, content = render_template_file(rel, name=name, model=model)
        target = staging / out_rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        if (template_root() / rel).stat().st_mode & 0o111:
            target.chmod(0o755)
        written.append(out_rel)
    try:
        written = _apply_starter(staging, starter, written)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if path.exists():
        path.rmdir()
    os.replace(staging, path)
    return written


def _apply_starter(root: Path, starter: dict[str, Any], written: list[str]) -> list[str]:
    for file, edits in (("params.yaml", "params"), ("dvc.yaml", "pipeline")):
        if starter.get(edits):
            doc = load_roundtrip(root / file)
            for dotted, value in starter[edits].items():
                _set_path(doc, str(dotted), value)
            for dotted in starter.get(f"{edits}_null", []) if edits == "params" else []:
                _set_path(doc, str(dotted), _NULL)
            (root / file).write_text(_dump(doc), encoding="utf-8")
    for file, rules in starter.get("policies", {}).items():
        doc = load_roundtrip(root / "policies" / file)
        index = {rule["id"]: i for i, rule in enumerate(doc["rules"])}
        for rule in rules:
            if rule["id"] in index:
                _replace(doc["rules"], index[rule["id"]], rule)
            else:
                doc["rules"].append(rule)
        (root / "policies" / file).write_text(_dump(doc), encoding="utf-8")
    for rel, text in starter.get("files", {}).items():
        (root / rel).write_text(str(text), encoding="utf-8")
    removed = {str(rel) for rel in starter.get("remove", [])}
    for rel in removed:
        (root / rel).unlink()
    added = [str(rel) for rel in starter.get("files", {}) if rel not in written]
    return [rel for rel in written if rel not in removed] + added


# A starter's ``params_null`` keys are set to null in params.yaml (a null under
# ``params`` removes the key instead).
_NULL = object()


def _set_path(doc: Any, dotted: str, value: Any) -> None:
    *parents, key = dotted.split(".")
    node = doc
    for part in parents:
        node = node[part]
    if value is None:
        del node[key]
    else:
        _replace(node, key, None if value is _NULL else value)


def _replace(node: Any, key: Any, value: Any) -> None:
    # The comment lines after a block value (often the next key's comment) belong
    # to the value's last item in ruamel: move them to the new value's.
    known = key < len(node) if isinstance(node, list) else key in node
    token = _take_tail_comment(node[key]) if known else None
    node[key] = value
    if token is not None:
        where = _tail_slot(value)
        container, slot, index = where or (node, key, 2)
        container.ca.items.setdefault(slot, [None] * 4)[index] = token


def _tail_slot(value: Any) -> tuple[Any, Any, int] | None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, CommentedMap) and len(value) and not value.fa.flow_style():
        last = list(value)[-1]
        return _tail_slot(value[last]) or (value, last, 2)
    if isinstance(value, CommentedSeq) and len(value) and not value.fa.flow_style():
        return _tail_slot(value[-1]) or (value, len(value) - 1, 0)
    return None


def _take_tail_comment(value: Any) -> Any:
    where = _tail_slot(value)
    if where is None:
        return None
    container, slot, index = where
    items = container.ca.items.get(slot)
    token = items[index] if items else None
    if items:
        items[index] = None
    if token is not None and token.value.startswith("#"):
        # an end-of-line comment describes the old value: keep only the lines after it
        token.value = token.value[token.value.index("\n") :]
    return token


def _dump(doc: Any) -> str:
    import io

    from ruamel.yaml.representer import RoundTripRepresenter

    from mlops_gitops.roundtrip import yaml_roundtrip

    class _Representer(RoundTripRepresenter):  # writes None as 'null', as the scaffold does
        pass

    _Representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    yaml = yaml_roundtrip()
    yaml.Representer = _Representer
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    return buffer.getvalue()
