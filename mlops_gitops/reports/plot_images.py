"""Render DVC's plot files to PNG images locally (matplotlib, no third-party service).

Each plot ``dvc.yaml`` declares becomes one image: ``simple`` templates are
line charts of ``y`` over ``x`` with the base branch's curve dashed beside
the candidate's; ``confusion`` templates are count matrices; a folder of
dvclive curves (``dvclive/plots``) gives one chart per metric file.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

from mlops_gitops.reports.context import PlotImage, declared_outputs, read_json_at

log = logging.getLogger(__name__)

DPI = 80
SIZE = (4.8, 3.4)


def render_plots(
    root: str | os.PathLike[str], base: str | None
) -> tuple[list[PlotImage], dict[str, bytes]]:
    """Return the plot descriptions and their PNG images (attachment name -> bytes)."""
    images: list[PlotImage] = []
    files: dict[str, bytes] = {}
    for path, options in declared_outputs(root, "plots"):
        for name, title, figure in _figures(Path(root), path, options, base):
            file = f"{name}.png"
            files[file] = _png(figure)
            images.append(PlotImage(name=name, title=title, file=file))
    return images, files


def _figures(
    root: Path, path: str, options: dict[str, Any], base: str | None
) -> list[tuple[str, str, Any]]:
    target = root / path
    if target.is_dir():
        return [_curve_figure(f, root) for f in sorted(target.rglob("*.tsv"))]
    records = read_json_at(root, path, None)
    if not isinstance(records, list) or not records:
        log.info("%s: no plot records; left out", path)
        return []
    name = Path(path).stem
    if options.get("template") == "confusion":
        return [(name, f"{name} ({path})", _confusion_figure(records, options))]
    old = read_json_at(root, path, base) if base else None
    return [
        (
            name,
            f"{name} ({path})",
            _line_figure(records, old if isinstance(old, list) else None, options),
        )
    ]


def _axes() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=SIZE, dpi=DPI)
    return figure, axes


def _line_figure(
    records: list[dict[str, Any]], base: list[dict[str, Any]] | None, options: dict[str, Any]
) -> Any:
    x, y = str(options.get("x", "x")), str(options.get("y", "y"))
    figure, axes = _axes()
    axes.plot([r.get(x) for r in records], [r.get(y) for r in records], label="candidate")
    if base:
        axes.plot([r.get(x) for r in base], [r.get(y) for r in base], linestyle="--", label="base")
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    axes.legend(loc="best", fontsize="small")
    axes.grid(alpha=0.3)
    return figure


def _confusion_figure(records: list[dict[str, Any]], options: dict[str, Any]) -> Any:
    x, y = str(options.get("x", "actual")), str(options.get("y", "predicted"))
    counts = Counter((str(r.get(x)), str(r.get(y))) for r in records)
    labels = sorted({a for a, _ in counts} | {p for _, p in counts})
    matrix = [[counts.get((a, p), 0) for p in labels] for a in labels]
    figure, axes = _axes()
    axes.imshow(matrix, cmap="Blues")
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            axes.text(j, i, str(count), ha="center", va="center")
    axes.set_xticks(range(len(labels)), labels)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel(y)
    axes.set_ylabel(x)
    return figure


def _curve_figure(file: Path, root: Path) -> tuple[str, str, Any]:
    rows = list(csv.DictReader(io.StringIO(file.read_text(encoding="utf-8")), delimiter="\t"))
    columns = list(rows[0]) if rows else ["step", "value"]
    x, y = ("step" if "step" in columns else columns[0]), columns[-1]
    figure, axes = _axes()
    axes.plot([float(r[x]) for r in rows], [float(r[y]) for r in rows])
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    axes.grid(alpha=0.3)
    rel = file.relative_to(root).as_posix()
    name = "curve-" + rel.split("/plots/", 1)[-1].removesuffix(".tsv").replace("/", "-")
    return name, f"{y} ({rel})", figure


def _png(figure: Any) -> bytes:
    from matplotlib import pyplot as plt

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()
