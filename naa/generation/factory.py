"""Picks the generator backend a partner's config names."""

from pathlib import Path

from naa.generation.base import Generator
from naa.generation.config import (
    GeneratorConfig,
    OpenAIGeneratorConfig,
    TransformersGeneratorConfig,
    VLLMGeneratorConfig,
)


def build_generator(config: GeneratorConfig, models_dir: Path) -> Generator:
    """Make the configured generator; nothing loads until ``warm_up`` or the first reply.

    Args:
        config: the partner's ``generation`` settings.
        models_dir: where packaged models are converted to safetensors (``Workspace.models_dir``).
    """
    # Backends are imported on demand: torch, vllm and openai are heavy, and a partner uses one of them.
    if isinstance(config, TransformersGeneratorConfig):
        from naa.generation.transformers_backend import TransformersGenerator

        return TransformersGenerator(config, models_dir)
    if isinstance(config, VLLMGeneratorConfig):
        from naa.generation.vllm_backend import VLLMGenerator

        return VLLMGenerator(config, models_dir)
    if isinstance(config, OpenAIGeneratorConfig):
        from naa.generation.openai_compat import OpenAIGenerator

        return OpenAIGenerator(config)
    raise TypeError(f"unknown generator config {type(config).__name__}")
