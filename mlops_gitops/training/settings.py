"""The ``model`` and ``export`` sections of ``params.yaml`` as validated models.

Each family validates its own sub-section (``model.sklearn``,
``model.lightning``) with :func:`mlops_gitops.params.parse_section`, so an error names the
field: ``params.yaml model.lightning.max_epochs: Input should be greater
than or equal to 1``.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from mlops_gitops.errors import ConfigError
from mlops_gitops.tasks import DEFAULT_TASK


class FeatureSelection(BaseModel):
    """``model.features``: columns kept out of the model besides id, label and PII."""

    model_config = ConfigDict(extra="forbid")

    exclude: list[str] = Field(default_factory=list)


class ModelSection(BaseModel):
    """``model``: the family, the task, the seed, the features and one sub-section per family."""

    # Family sub-sections (model.sklearn, model.lightning, plug-ins) are extra keys.
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    family: str = Field(min_length=1)
    task: str = Field(DEFAULT_TASK, min_length=1, validate_default=True)
    seed: int = 42
    features: FeatureSelection = Field(default_factory=FeatureSelection)

    @field_validator("task")
    @classmethod
    def _task_the_family_fits(cls, task: str, info: ValidationInfo) -> str:
        from mlops_gitops.training.families import check_family_task

        family = info.data.get("family")
        if family is not None:  # else the family's own error is reported
            check_family_task(family, task)
        return task

    @model_validator(mode="after")
    def _settings_the_family_fits(self) -> ModelSection:
        from mlops_gitops.training.families import check_family_settings

        # Raises ConfigError itself (not ValueError), so its own field path is kept.
        check_family_settings(self.family, self.task, self.family_settings())
        return self

    def family_settings(self) -> Mapping[str, object]:
        """Return the sub-section of the chosen family (empty when absent)."""
        extra = self.model_extra or {}
        value = extra.get(self.family) or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"params.yaml model.{self.family}: expected a mapping")
        return value


class ExportSection(BaseModel):
    """``export``: the ONNX opset and the tolerance of the equivalence check."""

    model_config = ConfigDict(extra="forbid")

    opset: int = Field(18, ge=13)
    tolerance: float = Field(1e-4, ge=0)
