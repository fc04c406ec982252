"""The manifest a finished run writes, so a model registry can record it as a model version.

``model_version.json`` in the run folder; ``naa.storage.model_versions.register_model_version`` takes its
fields (``name``, ``path``, ``metrics``, with kind ``generator``). The path is a folder written by
``save_pretrained`` (LoRA adapters merged), which the transformers generator loads as ``generation.model``.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from naa.errors import ConfigError
from naa.rl.run_state import write_json

MANIFEST_NAME = "model_version.json"


class ModelVersionManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., description="Version name, unique per partner; the run's run_name.")
    kind: Literal["generator"] = Field(default="generator", description="What the model is used as.")
    path: Path = Field(..., description="Folder with the trained model (config.json, weights, tokenizer).")
    base_model: str = Field(..., description="The model the run started from.")
    variant: str = Field(..., description="vanilla, filtered or guide.")
    steps: int = Field(..., ge=0, description="Optimisation steps done.")
    metrics: dict[str, Any] = Field(default_factory=dict, description="Last step's metrics and evaluation.")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def write_manifest(run_dir: Path, manifest: ModelVersionManifest) -> Path:
    path = run_dir / MANIFEST_NAME
    write_json(path, manifest.model_dump(mode="json"))
    return path


def read_manifest(run_dir: Path) -> ModelVersionManifest:
    """Raises ConfigError when the run has not finished (no manifest) or the file is not a manifest."""
    path = run_dir / MANIFEST_NAME
    try:
        return ModelVersionManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{run_dir} has no {MANIFEST_NAME}: the run has not finished") from err
    except ValidationError as err:
        raise ConfigError(f"{path} is not a model-version manifest: {err}") from err
