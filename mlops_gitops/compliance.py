"""The compliance matrix: every requirement of the RFP, how it is met, and its proof.

Reads ``docs/compliance.yaml`` (the data file) and renders
``docs/compliance.md``. :func:`check_matrix` reports rows that claim a proof
that is not there:

* a ``yes`` or ``partial`` row that cites no test;
* a cited test (file, or ``file::name``) that does not exist;
* a ``yes`` row whose ``how`` names a concept module but cites no test of it.

A *concept* is a name ``C`` for which both ``mlops_gitops/C`` (a package or
``C.py``) and the folder ``tests/C/`` exist. A row's ``how`` names ``C`` when
one of its backticked spans is exactly ``C``; contains the module path
``mlops_gitops/C...`` or the dotted name ``mlops_gitops.C...``; is a path
inside the package written from the concept (``monitoring/health.py``, which
must exist as ``mlops_gitops/monitoring/health.py``); or is a command whose
noun is ``C`` (``mlops registry list``, ``mlops audit --csv``). Commands with
another noun (``mlops render k8s``) name no concept: a row that wants the
rule to hold for them names the module too. A ``yes`` row must cite, for
every concept its ``how`` names, at least one test under ``tests/C/``.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from mlops_gitops.errors import ConfigError
from mlops_gitops.roundtrip import load_roundtrip

MATRIX_FILE = Path("docs/compliance.yaml")
MARKDOWN_FILE = Path("docs/compliance.md")
Status = Literal["yes", "partial", "planned", "no"]
_SPAN = re.compile(r"`([^`]+)`")
_MODULE = re.compile(r"\bmlops_gitops[./]([A-Za-z_]\w*)")
_WORD = re.compile(r"[A-Za-z_]\w*")


class Requirement(BaseModel):
    """One row of the matrix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    area: str
    requirement: str
    status: Status
    how: str = ""
    tests: tuple[str, ...] = ()


class Matrix(BaseModel):
    """The whole matrix, in the order of the RFP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requirements: tuple[Requirement, ...]


def load_matrix(path: Path = MATRIX_FILE) -> Matrix:
    """Read and validate the matrix data file.

    Raises:
        ConfigError: the file is malformed; the message names the row and field.
    """
    data = load_roundtrip(path)
    try:
        matrix = Matrix.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{path} {loc}: {err['msg']}") from exc
    dupes = [k for k, n in Counter(r.id for r in matrix.requirements).items() if n > 1]
    if dupes:
        raise ConfigError(f"{path}: duplicate requirement ids {', '.join(dupes)}")
    return matrix


def render_markdown(matrix: Matrix) -> str:
    """Return the Markdown page of the matrix."""
    counts = Counter(r.status for r in matrix.requirements)
    total = len(matrix.requirements)
    lines = [
        "# Compliance matrix",
        "",
        "<!-- generated from docs/compliance.yaml by `mlops compliance render`; do not edit -->",
        "",
        f"{total} requirements: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("yes", "partial", "planned", "no"))
        + ".",
        "",
    ]
    area = None
    for row in matrix.requirements:
        if row.area != area:
            area = row.area
            lines += [
                "",
                f"## {area}",
                "",
                "| ID | Requirement | Status | How | Proved by |",
                "|---|---|---|---|---|",
            ]
        tests = "<br>".join(f"`{t}`" for t in row.tests) or "—"
        how = row.how.replace("|", "\\|") or "—"
        lines.append(f"| {row.id} | {row.requirement} | {row.status} | {how} | {tests} |")
    return "\n".join(lines) + "\n"


def check_matrix(matrix: Matrix, root: Path = Path(".")) -> list[str]:
    """Return one problem line per unproven claim under ``root`` (see the module docstring)."""
    problems: list[str] = []
    names: dict[Path, set[str]] = {}
    for row in matrix.requirements:
        if row.status in ("yes", "partial") and not row.tests:
            problems.append(f"{row.id}: status '{row.status}' needs at least one test")
        for node in row.tests:
            problem = _missing_test(node, root, names)
            if problem:
                problems.append(f"{row.id}: {problem}")
        if row.status == "yes":
            problems += [
                f"{row.id}: 'how' names `{concept}` but no cited test lives in tests/{concept}/"
                for concept in named_concepts(row.how, root)
                if not any(node.startswith(f"tests/{concept}/") for node in row.tests)
            ]
    return problems


def named_concepts(how: str, root: Path = Path(".")) -> list[str]:
    """Return the concepts that ``how`` names, in order (see the module docstring)."""
    found: list[str] = []
    for span in _SPAN.findall(how):
        for name in _span_names(span.strip(), root):
            if name not in found and _is_concept(name, root):
                found.append(name)
    return found


def _span_names(span: str, root: Path) -> list[str]:
    words = span.split()
    if len(words) >= 2 and words[0] == "mlops":
        return [words[1]]
    names = _MODULE.findall(span)
    head = _WORD.match(span)
    if head and (span == head.group() or (root / "mlops_gitops" / span).exists()):
        names.append(head.group())
    return names


def _is_concept(name: str, root: Path) -> bool:
    package = root / "mlops_gitops"
    has_module = (package / name).is_dir() or (package / f"{name}.py").is_file()
    return has_module and (root / "tests" / name).is_dir()


def _missing_test(node: str, root: Path, names: dict[Path, set[str]]) -> str | None:
    file_part, _, name = node.partition("::")
    path = root / file_part
    if not path.is_file():
        return f"{file_part} does not exist"
    defined = names.setdefault(path, _test_names(path))
    leaf = name.split("::")[-1].split("[")[0]
    if leaf and leaf not in defined:
        return f"{node} is not defined"
    return None


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
