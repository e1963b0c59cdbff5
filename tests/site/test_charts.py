"""The site's SVG charts are well-formed and show the data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mlops_gitops.site.charts import Series, bar_chart, confusion_chart, line_chart, plot_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_a_line_chart_draws_one_polyline_per_series():
    svg = line_chart(
        [Series("a", (0.0, 1.0), (0.0, 1.0)), Series("b", (0.0, 1.0), (1.0, 0.0), dashed=True)],
        title="roc",
        x_label="fpr",
        y_label="tpr",
    )
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "roc"
    assert len(root.findall(f"{SVG}polyline")) == 2


def test_a_confusion_matrix_shows_each_count():
    records = [{"actual": 0, "predicted": 0}] * 3 + [{"actual": 1, "predicted": 0}]
    root = ET.fromstring(confusion_chart(records, title="confusion", x="actual", y="predicted"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.count("3") == 1 and texts.count("1") >= 1 and texts.count("0") >= 2


def test_bar_plots_and_empty_plots():
    bars = plot_chart(
        [{"feature": "income", "importance": 0.4}, {"feature": "age", "importance": 0.1}],
        {"template": "bar_horizontal_sorted", "x": "importance", "y": "feature"},
        title="importance",
    )
    assert len(ET.fromstring(bars).findall(f"{SVG}rect")) == 2
    assert bar_chart([], title="none", value_label="x") == ""
    assert plot_chart([{"x": "n/a"}], {}, title="bad") == ""
