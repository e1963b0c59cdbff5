"""Inline SVG charts for the site: curves, confusion matrices, bars and trends.

The site draws its plots as SVG text at build time instead of through
matplotlib (which the PR report uses): a matplotlib figure costs about
0.25 s on the build machine, so the four plots of 1,000 model cards would
take minutes, where an SVG string takes well under a millisecond. Plots
read DVC's plot options (``x``, ``y``, ``template``) as the PR report does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

WIDTH, HEIGHT = 420, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 30, 26, 40
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


@dataclass(frozen=True)
class Series:
    """One line of a chart: its label and points."""

    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    dashed: bool = False


def _open(title: str, width: int = WIDTH, height: int = HEIGHT) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mlops-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" font-size="12" '
        f'font-weight="bold">{escape(title)}</text>',
    ]


def _span(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high == low:
        return low - 0.5, high + 0.5
    return low, high


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_ticks: Sequence[tuple[float, str]] | None = None,
) -> str:
    """Return an SVG line chart of ``series`` (empty series are left out)."""
    drawn = [s for s in series if s.xs]
    if not drawn:
        return ""
    x0, x1 = _span([x for s in drawn for x in s.xs])
    y0, y1 = _span([y for s in drawn for y in s.ys])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - (y - y0) / (y1 - y0) * plot_h

    parts = _open(title)
    parts += _axes(plot_w, plot_h, x_label, y_label)
    ticks = x_ticks if x_ticks is not None else [(x0, _fmt(x0)), (x1, _fmt(x1))]
    parts += [_x_tick(px(v), label) for v, label in ticks]
    parts += [_y_tick(py(v), _fmt(v)) for v in (y0, (y0 + y1) / 2, y1)]
    for index, line in enumerate(drawn):
        color = COLORS[index % len(COLORS)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(line.xs, line.ys, strict=True))
        dash = ' stroke-dasharray="5,3"' if line.dashed else ""
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{points}"/>'
        )
        parts.append(
            f'<text x="{LEFT + 8}" y="{TOP + 14 + 14 * index}" font-size="11" '
            f'fill="{color}">{escape(line.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _axes(plot_w: float, plot_h: float, x_label: str, y_label: str) -> list[str]:
    bottom = TOP + plot_h
    return [
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#999" stroke-width="1"/>',
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{bottom + 32:.0f}" text-anchor="middle" '
        f'font-size="11">{escape(x_label)}</text>',
        f'<text x="12" y="{TOP + plot_h / 2:.0f}" text-anchor="middle" font-size="11" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2:.0f})">{escape(y_label)}</text>',
    ]


def _x_tick(x: float, label: str) -> str:
    y = HEIGHT - BOTTOM + 14
    return f'<text x="{x:.1f}" y="{y}" text-anchor="middle" font-size="10">{escape(label)}</text>'


def _y_tick(y: float, label: str) -> str:
    return (
        f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end" font-size="10">'
        f"{escape(label)}</text>"
    )


def confusion_chart(records: Sequence[dict[str, Any]], *, title: str, x: str, y: str) -> str:
    """Return an SVG count matrix of ``x`` (actual, rows) against ``y`` (predicted, columns)."""
    counts = Counter((str(r.get(x)), str(r.get(y))) for r in records)
    labels = sorted({a for a, _ in counts} | {p for _, p in counts})
    if not labels:
        return ""
    cell = min(60, int((HEIGHT - TOP - BOTTOM) / len(labels)))
    top_count = max(counts.values())
    parts = _open(title)
    for i, actual in enumerate(labels):
        parts.append(_y_tick(TOP + cell * i + cell / 2, actual))
        for j, predicted in enumerate(labels):
            count = counts.get((actual, predicted), 0)
            shade = 255 - int(200 * count / top_count)
            fill = f"rgb({shade},{shade},255)"
            cx, cy = LEFT + cell * j, TOP + cell * i
            parts.append(f'<rect x="{cx}" y="{cy}" width="{cell}" height="{cell}" fill="{fill}"/>')
            parts.append(
                f'<text x="{cx + cell / 2:.0f}" y="{cy + cell / 2 + 4:.0f}" text-anchor="middle" '
                f'font-size="12">{count}</text>'
            )
    below = TOP + cell * len(labels) + 14
    parts += [
        f'<text x="{LEFT + cell * j + cell / 2:.0f}" y="{below}" text-anchor="middle" '
        f'font-size="10">{escape(p)}</text>'
        for j, p in enumerate(labels)
    ]
    parts.append(
        f'<text x="{LEFT + cell * len(labels) + 8}" y="{TOP + 12}" font-size="11">'
        f"rows: {escape(x)}, columns: {escape(y)}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: Sequence[tuple[str, float]], *, title: str, value_label: str) -> str:
    """Return an SVG horizontal bar chart (one bar per label, in the given order)."""
    if not bars:
        return ""
    row = 18
    height = TOP + row * len(bars) + 30
    left = 150
    top_value = max(abs(v) for _, v in bars) or 1.0
    span = WIDTH - left - RIGHT - 40
    parts = _open(title, height=height)
    for index, (label, value) in enumerate(bars):
        y = TOP + row * index
        width = abs(value) / top_value * span
        color = COLORS[0] if value >= 0 else COLORS[3]
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" font-size="11">'
            f"{escape(label[:24])}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" fill="{color}"/>'
        )
        parts.append(
            f'<text x="{left + width + 4:.1f}" y="{y + 13}" font-size="10">{_fmt(value)}</text>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 8}" font-size="11">{escape(value_label)}</text></svg>'
    )
    return "".join(parts)


def plot_chart(records: list[dict[str, Any]], options: dict[str, Any], *, title: str) -> str:
    """Return the chart of one DVC plot file (its ``template``, ``x`` and ``y`` options)."""
    template = str(options.get("template", "simple"))
    x, y = str(options.get("x", "x")), str(options.get("y", "y"))
    if template == "confusion":
        return confusion_chart(records, title=title, x=x, y=y)
    if template.startswith("bar"):
        bars = [
            (str(r.get(y)), _number(r.get(x))) for r in records if _number(r.get(x)) is not None
        ]
        ordered = sorted(bars, key=lambda b: -abs(b[1] or 0))[:15]
        return bar_chart([(k, v or 0.0) for k, v in ordered], title=title, value_label=x)
    points = [(_number(r.get(x)), _number(r.get(y))) for r in records]
    kept = [(a, b) for a, b in points if a is not None and b is not None]
    series = Series(title, tuple(a for a, _ in kept), tuple(b for _, b in kept))
    return line_chart([series], title=title, x_label=x, y_label=y)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None
