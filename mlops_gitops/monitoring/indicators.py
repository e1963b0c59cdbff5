"""The flat indicator values that health weights and alert rules name.

=====================================  ==============================================
indicator                              value
=====================================  ==============================================
``traffic.rows``                       logged predictions in the window
``drift.share`` / ``drift.count``      share / number of drifted features
``drift.max_psi``                      largest feature PSI
``drift.feature.<f>.psi``              PSI of feature ``f``
``drift.feature.<f>.statistic``        KS ``D`` or chi-square statistic of ``f``
``drift.feature.<f>.pvalue``           p-value of that test
``prediction.psi`` / ``prediction.ks`` drift of the scores (or predicted classes)
``prediction.chi2``                    chi-square of the predicted classes (clusters)
``prediction.pvalue``                  p-value of the KS or chi-square test
``prediction.positive_rate``           share of positive predictions (binary)
``prediction.positive_rate_delta``     live minus reference positive rate
``performance.labelled_rows``          predictions with a feedback label
``performance.<metric>``               live metric of the task (f1, f1_macro, rmse...)
``performance.<metric>_drop``          test minus live, live minus test where lower is
                                       better (a positive drop degrades)
``performance.<metric>_rise``          lower is better: (live - test) / abs(test)
``performance.label_rate``             share of positive labels (binary)
``quality.missing_rate``               mean missing share over features
``quality.out_of_range_rate``          rows with an out-of-range value or new category
``quality.violation_rate``             rows with any schema violation
``ops.requests`` / ``ops.error_rate``  server requests, share of 5xx
``ops.latency_p50_ms`` (p95, p99)      latency percentiles
``health.score``                       the 0-100 health score
=====================================  ==============================================

An indicator that could not be measured (no labels, no server metrics) is
absent, never zero: rules on it do not fire and the health score leaves it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_gitops.monitoring.operational import OperationalFigures
    from mlops_gitops.monitoring.window import ModelMonitoring


def collect_indicators(result: ModelMonitoring) -> dict[str, float]:
    """Return the indicators of one model's monitoring result."""
    values: dict[str, float | None] = {"traffic.rows": float(result.rows)}
    if result.drift is not None:
        values["drift.share"] = result.drift.share
        values["drift.count"] = float(result.drift.drifted_count)
        values["drift.max_psi"] = result.drift.max_psi
        for f in result.drift.features:
            values[f"drift.feature.{f.feature}.psi"] = f.psi
            values[f"drift.feature.{f.feature}.statistic"] = f.statistic
            values[f"drift.feature.{f.feature}.pvalue"] = f.pvalue
    if result.prediction is not None:
        p = result.prediction
        values["prediction.psi"] = p.psi
        values["prediction.ks"] = p.ks
        values["prediction.chi2"] = p.chi2
        values["prediction.pvalue"] = p.pvalue
        values["prediction.positive_rate"] = p.positive_rate
        if p.positive_rate is not None and p.reference_positive_rate is not None:
            values["prediction.positive_rate_delta"] = p.positive_rate - p.reference_positive_rate
    if result.performance is not None:
        perf = result.performance
        values["performance.labelled_rows"] = float(perf.labelled_rows)
        values["performance.label_rate"] = perf.label_rate
        values.update({f"performance.{k}": v for k, v in perf.metrics.items()})
        values.update({f"performance.{k}_drop": v for k, v in perf.drops.items()})
        values.update({f"performance.{k}_rise": v for k, v in perf.rises.items()})
    if result.quality is not None:
        values["quality.missing_rate"] = result.quality.missing_rate
        values["quality.out_of_range_rate"] = result.quality.out_of_range_rate
        values["quality.violation_rate"] = result.quality.violation_rate
    return {k: float(v) for k, v in values.items() if v is not None}


def operational_indicators(figures: OperationalFigures) -> dict[str, float]:
    """Return the ``ops.*`` indicators of the server's figures (none when not available)."""
    values: Mapping[str, float | int | None] = {
        "ops.requests": figures.requests,
        "ops.error_rate": figures.error_rate,
        "ops.latency_p50_ms": figures.latency_p50_ms,
        "ops.latency_p95_ms": figures.latency_p95_ms,
        "ops.latency_p99_ms": figures.latency_p99_ms,
    }
    return {k: float(v) for k, v in values.items() if v is not None}
