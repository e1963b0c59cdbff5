"""What a pipeline may write: the outputs, metrics and plots its ``dvc.yaml`` files declare.

The local forge's runner commits back only these (and the ``dvc.lock`` and
``.gitignore`` files DVC keeps beside them), read from the pushed commit's
``dvc.yaml``, never from the work tree a stage could have edited.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mlops_gitops.documents import parse_yaml_document
from mlops_gitops.errors import PipelineError

OUTPUT_KEYS = ("outs", "metrics", "plots")
_TEMPLATE = re.compile(r"\$\{[^}]*\}")


def declared_outputs(dvc_yamls: Mapping[str, str]) -> list[str]:
    """Return the repository paths (``${...}`` as ``*``) that the given ``dvc.yaml`` files declare.

    Args:
        dvc_yamls: each ``dvc.yaml``'s path in the repository -> its text.

    Raises:
        PipelineError: a ``dvc.yaml`` is not valid YAML.
    """
    declared: set[str] = set()
    for origin, text in dvc_yamls.items():
        data = parse_dvc_yaml(text, origin) or {}
        folder = posixpath.dirname(origin)
        declared.add(posixpath.join(folder, "dvc.lock"))
        stages = data.get("stages") if isinstance(data, dict) else None
        for raw in (stages or {}).values():
            body = raw.get("do", raw) if isinstance(raw, dict) else {}
            wdir = posixpath.join(folder, str(body.get("wdir", ".")))
            for path in _entries(body):
                declared.add(posixpath.normpath(posixpath.join(wdir, _TEMPLATE.sub("*", path))))
    return sorted(declared)


def parse_dvc_yaml(text: str, origin: str) -> Any:
    """Parse the text of a ``dvc.yaml`` or ``dvc.lock`` with libyaml (the fast reader).

    Raises:
        PipelineError: ``ORIGIN: not valid YAML``; the line and the problem follow in
            the cause chain.
    """
    try:
        return parse_yaml_document(text, origin, error=PipelineError).data
    except PipelineError as exc:  # the headline without a line is what callers match on
        raise PipelineError(f"{origin}: not valid YAML") from exc


def is_declared_output(path: str, declared: Iterable[str]) -> bool:
    """Tell whether ``path`` is a declared output, lies under one, or is its ``.gitignore``."""
    for pattern in declared:
        ignore = posixpath.normpath(posixpath.join(posixpath.dirname(pattern), ".gitignore"))
        if path == ignore or _glob(pattern).fullmatch(path):
            return True
    return False


def _glob(pattern: str) -> re.Pattern[str]:
    """Match the path, or anything under it; a ``*`` (a template) stays within one name."""
    parts = [re.escape(part) for part in pattern.split("*")]
    return re.compile("[^/]*".join(parts) + "(?:/.*)?")


def _entries(body: dict[str, Any]) -> Iterator[str]:
    for key in OUTPUT_KEYS:
        for entry in body.get(key) or []:
            yield from (entry if isinstance(entry, dict) else [entry])
