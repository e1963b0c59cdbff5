"""The ``explain`` section of ``params.yaml``: sample sizes, methods, immutables, template.

Every field has a default, so an empty section explains with the defaults;
a wrong value is a :class:`ConfigError` that names the field path.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

SECTION = "explain"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PermutationSettings(_Section):
    """Permutation importance on the exported ONNX model."""

    rows: int = Field(default=2000, ge=10)
    n_repeats: int = Field(default=5, ge=1)
    # A metric of the model's task (checked against it when the model is loaded);
    # None: the task's headline metric.
    scoring: str | None = None


class ShapSettings(_Section):
    """SHAP values: exact tree explanations, or kernel SHAP over the ONNX model."""

    rows: int = Field(default=500, ge=1)
    agnostic_rows: int = Field(default=50, ge=1)
    background_rows: int = Field(default=50, ge=1)
    nsamples: int = Field(default=300, ge=10)
    dependence: int = Field(default=3, ge=0)


class LimeSettings(_Section):
    """LIME local surrogates for a sample of test rows."""

    rows: int = Field(default=5, ge=0)
    num_samples: int = Field(default=1000, ge=50)
    num_features: int = Field(default=8, ge=1)


class CounterfactualSettings(_Section):
    """The search for the smallest feasible change that flips a decision or reaches a target.

    Binary: the other decision; multiclass: ``target_class`` (default: the most
    likely other class); regression: a value in ``target_range`` (default: the
    training label's 25th to 75th percentile).
    """

    rows: int = Field(default=3, ge=0)
    max_changes: int = Field(default=3, ge=1)
    beam_width: int = Field(default=8, ge=1)
    grid: int = Field(default=15, ge=3)
    target_class: str | None = None
    target_range: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> CounterfactualSettings:
        if self.target_range is not None and self.target_range[0] > self.target_range[1]:
            raise ValueError("target_range: low must not exceed high")
        return self


class CorrelationSettings(_Section):
    """Correlation matrix, mutual information and the feature-selection report."""

    rows: int = Field(default=5000, ge=10)
    threshold: float = Field(default=0.9, gt=0, le=1)
    min_importance: float = 0.0


class SurrogateSettings(_Section):
    """The global surrogate decision tree that draws the model's decision paths."""

    rows: int = Field(default=5000, ge=10)
    max_depth: int = Field(default=3, ge=1, le=8)


class ExplainSettings(_Section):
    """The whole ``explain`` section."""

    seed: int = 42
    explainers: tuple[str, ...] = ("shap", "lime")
    immutable: tuple[str, ...] = ()
    template: str = "generic"
    template_dir: str | None = None
    top: int = Field(default=5, ge=1)
    permutation: PermutationSettings = PermutationSettings()
    shap: ShapSettings = ShapSettings()
    lime: LimeSettings = LimeSettings()
    counterfactual: CounterfactualSettings = CounterfactualSettings()
    correlation: CorrelationSettings = CorrelationSettings()
    surrogate: SurrogateSettings = SurrogateSettings()


def parse_settings(section: Mapping[str, object] | ExplainSettings | None) -> ExplainSettings:
    """Validate the ``explain`` section of params into :class:`ExplainSettings`.

    Raises:
        ConfigError: a field is unknown or out of range; the message names its path.
    """
    from mlops_gitops.params import parse_section

    return parse_section(ExplainSettings, section if section is not None else {}, SECTION)
