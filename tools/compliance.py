"""The repository's compliance matrix: render docs/compliance.md and check its proofs.

The project's own documentation tooling, not part of the installed package::

    python -m tools.compliance render [--check]   # docs/compliance.yaml -> docs/compliance.md
    python -m tools.compliance check [--json]     # every claim cites tests that exist and fit

Run from the repository root. The data model and the page come from
:mod:`mlops_gitops.site.compliance` (the site shows the same page).
:func:`check_matrix` reports rows that claim a proof that is not there:

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
import json
import re
import sys
from pathlib import Path
from typing import NoReturn

import click

from mlops_gitops.errors import MlopsError, format_chain
from mlops_gitops.roundtrip import write_atomic
from mlops_gitops.site.compliance import MATRIX_FILE, Matrix, load_matrix, render_markdown

MARKDOWN_FILE = Path("docs/compliance.md")
_SPAN = re.compile(r"`([^`]+)`")
_MODULE = re.compile(r"\bmlops_gitops[./]([A-Za-z_]\w*)")
_WORD = re.compile(r"[A-Za-z_]\w*")


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def compliance() -> None:
    """Render and check the compliance matrix (docs/compliance.yaml)."""


@compliance.command("render")
@click.option("--check", is_flag=True, help="Fail when docs/compliance.md is out of date.")
def render(check: bool) -> None:
    """Write docs/compliance.md from docs/compliance.yaml."""
    text = render_markdown(load_matrix())
    if check:
        current = MARKDOWN_FILE.read_text(encoding="utf-8") if MARKDOWN_FILE.exists() else ""
        if current != text:
            raise MlopsError(
                f"{MARKDOWN_FILE} is out of date; run 'python -m tools.compliance render'"
            )
        click.echo(f"{MARKDOWN_FILE} is up to date")
        return
    write_atomic(MARKDOWN_FILE, text)
    click.echo(f"wrote {MARKDOWN_FILE}")


@compliance.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def check_cmd(as_json: bool) -> None:
    """Check that every row's cited tests exist and test the modules its 'how' names."""
    problems = check_matrix(load_matrix(), Path("."))
    if as_json:
        click.echo(json.dumps({"problems": problems}, indent=2))
    else:
        for line in problems:
            click.echo(line)
    if problems:
        raise MlopsError(f"{len(problems)} unproven claim(s) in {MATRIX_FILE}")


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the command; a problem is one ``error:`` line on stderr and exit code 1."""
    try:
        compliance.main(args=argv, prog_name="python -m tools.compliance", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MlopsError as exc:
        click.echo(f"error: {format_chain(exc)}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(0)


if __name__ == "__main__":
    main()
