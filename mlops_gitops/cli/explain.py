"""``mlops serving explain`` (also ``mlops explain``): why a model version decided as it did."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_gitops.cli.options import JSON_OPTION
from mlops_gitops.cli.output import echo_json, echo_table


@click.command()
@click.argument("model")
@click.option("--version", help="A registered version of MODEL (e.g. v1.2.0).")
@click.option(
    "--model-path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Explain this ONNX file instead of a registered version.",
)
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A JSON object with one value per feature (null when missing).",
)
@click.option(
    "--method", default="shap", show_default=True, help="shap, lime or a plug-in explainer."
)
@click.option("--threshold", type=float, help="Decision threshold (default: evaluate.threshold).")
@click.option(
    "--counterfactual", is_flag=True, help="Also find the smallest change that flips the decision."
)
@JSON_OPTION
def explain(
    *,
    model: str,
    version: str | None,
    model_path: Path | None,
    input_path: Path,
    method: str,
    threshold: float | None,
    counterfactual: bool,
    as_json: bool,
) -> None:
    """Explain MODEL's decision on the row in --input: contributions, wording, counterfactual."""
    from mlops_gitops.explain import explain_row

    result = explain_row(
        ".",
        input_path,
        model=model,
        version=version,
        model_path=model_path,
        method=method,
        threshold=threshold,
        with_counterfactual=counterfactual,
    )
    if as_json:
        echo_json(result)
        return
    click.echo(result.text.rstrip())
    click.echo()
    echo_table(
        ["feature", "value", f"contribution ({result.method}, {result.output_space})"],
        [(c.feature, c.value, f"{c.contribution:+.4f}") for c in result.contributions],
    )
