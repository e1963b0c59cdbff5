"""Explanation wording: jinja2 templates that turn contributions into sentences.

A template gets one :class:`PredictionExplanation`-like context and renders
Markdown: ``generic`` states the decision and the largest contributions;
``credit`` speaks the sample's consumer-credit domain ("declined mainly
because of the debt-to-income ratio (0.52) ..."). Templates are looked up
first in the project's ``explain.template_dir`` (so a team can add its own
domain wording), then in the package's ``templates/explain/``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_gitops.errors import ConfigError
from mlops_gitops.explain.explained_model import ExplainError

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

TEMPLATE_SUFFIX = ".md.j2"


def package_templates() -> Path:
    """Return the folder of the explanation templates shipped with the package."""
    return Path(str(resources.files("mlops_gitops").joinpath("templates/explain")))


def display(value: object) -> str:
    """Format a feature value for people: whole numbers plain, others to 4 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def join_and(items: Sequence[object]) -> str:
    """Join ``['a', 'b', 'c']`` as ``'a, b and c'``."""
    words = [str(i) for i in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def strong(text: str) -> Markup:
    """Escape ``text`` for HTML and turn its Markdown ``**bold**`` spans into ``<strong>``."""
    import re

    from markupsafe import Markup, escape

    return Markup(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", str(escape(text))))


def environment(
    template_dir: str | Path | None = None, *, html: bool = False
) -> jinja2.Environment:
    """Return the jinja2 environment of explanation templates (project folder first)."""
    import jinja2

    folders = [str(template_dir)] if template_dir else []
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*folders, str(package_templates())]),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["display"] = display
    env.filters["join_and"] = join_and
    env.filters["strong"] = strong
    return env


def list_templates(template_dir: str | Path | None = None) -> list[str]:
    """Return the names of the available explanation templates (``credit``, ``generic``, ...)."""
    names = environment(template_dir).list_templates(
        filter_func=lambda n: n.endswith(TEMPLATE_SUFFIX)
    )
    return sorted(
        {n[: -len(TEMPLATE_SUFFIX)] for n in names if "/" not in n and not n.startswith("report")}
    )


def render_template(
    name: str,
    context: Mapping[str, Any],
    *,
    template_dir: str | Path | None = None,
    html: bool = False,
) -> str:
    """Render template ``name`` (file ``NAME.md.j2``, or ``NAME`` itself when it has a suffix).

    Raises:
        ConfigError: there is no such template; the message lists the known ones.
        ExplainError: the template fails; the message names its file and line.
    """
    import jinja2

    env = environment(template_dir, html=html)
    filename = name if name.endswith(".j2") else f"{name}{TEMPLATE_SUFFIX}"
    try:
        template = env.get_template(filename)
    except jinja2.TemplateNotFound as exc:
        known = ", ".join(list_templates(template_dir))
        raise ConfigError(f"explain.template: no template '{name}' (known: {known})") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise ExplainError(f"{exc.filename}:{exc.lineno}: {exc.message}") from exc
    try:
        return template.render(**context)
    except jinja2.TemplateError as exc:
        raise ExplainError(f"{template.filename}: {exc}") from exc
