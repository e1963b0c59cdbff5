"""The compliance matrix: every requirement of the RFP, how it is met, and its proof.

Reads ``docs/compliance.yaml`` (the data file) and renders
``docs/compliance.md``; :func:`check_matrix` reports rows whose named tests
do not exist, so the matrix cannot claim a proof that is not there.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from mlops_gitops.errors import ConfigError
from mlops_gitops.roundtrip import load_roundtrip

MATRIX_FILE = Path("docs/compliance.yaml")
MARKDOWN_FILE = Path("docs/compliance.md")
Status = Literal["yes", "partial", "planned", "no"]


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
    """Return one problem line per named test that does not exist under ``root``."""
    problems: list[str] = []
    names: dict[Path, set[str]] = {}
    for row in matrix.requirements:
        if row.status in ("yes", "partial") and not row.tests:
            problems.append(f"{row.id}: status '{row.status}' needs at least one test")
        for node in row.tests:
            file_part, _, name = node.partition("::")
            path = root / file_part
            if not path.is_file():
                problems.append(f"{row.id}: {file_part} does not exist")
                continue
            defined = names.setdefault(path, _test_names(path))
            leaf = name.split("::")[-1].split("[")[0]
            if leaf and leaf not in defined:
                problems.append(f"{row.id}: {node} is not defined")
    return problems


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
