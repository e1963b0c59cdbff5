"""The compliance page: a matrix of requirements, how each is met, and its proof.

Reads a compliance data file (``docs/compliance.yaml``: one row per
requirement with its area, status, ``how`` and the tests that prove it) and
renders it as the site's compliance page. A project without the file gets a
page that says so. The checks of the proofs are the repository's own
tooling (``python -m tools.compliance check``), not part of the package.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from mlops_gitops.documents import validate
from mlops_gitops.errors import ConfigError
from mlops_gitops.roundtrip import load_roundtrip

MATRIX_FILE = Path("docs/compliance.yaml")
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
    matrix = validate(Matrix, load_roundtrip(path), str(path))
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
        "<!-- generated from docs/compliance.yaml by `python -m tools.compliance render`;"
        " do not edit -->",
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


def compliance_page(root: Path) -> str:
    """Return the compliance page of the repository at ``root``.

    Raises:
        ConfigError: its data file is malformed (see :func:`load_matrix`).
    """
    path = root / MATRIX_FILE
    if not path.is_file():
        return (
            "# Compliance matrix\n\nThis repository has no compliance data file "
            f"(`{MATRIX_FILE}`).\n"
        )
    return render_markdown(load_matrix(path))
