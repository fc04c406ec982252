"""Generator settings: defaults flow into sampling, and typos fail at load time."""

import pytest
from pydantic import TypeAdapter, ValidationError

from naa.generation import SamplingParams
from naa.generation.config import GeneratorConfig, OpenAIGeneratorConfig, TransformersGeneratorConfig


def test_config_values_become_the_default_sampling() -> None:
    config = TransformersGeneratorConfig(
        max_new_tokens=64, temperature=0.7, top_p=0.9, stop=["\nUser:"], repeat_cutoff_chars=None
    )
    assert config.default_params() == SamplingParams(
        max_new_tokens=64, temperature=0.7, top_p=0.9, stop=("\nUser:",), repeat_cutoff_chars=None
    )
    assert TransformersGeneratorConfig().default_params().repeat_cutoff_chars == 60


def test_backend_tag_picks_the_config_class() -> None:
    config = TypeAdapter(GeneratorConfig).validate_python(
        {"backend": "openai", "base_url": "http://localhost:8000/v1", "model": "m"}
    )
    assert isinstance(config, OpenAIGeneratorConfig)


def test_more_than_four_stop_strings_are_refused() -> None:
    with pytest.raises(ValidationError, match="stop"):
        TransformersGeneratorConfig(stop=["a", "b", "c", "d", "e"])
