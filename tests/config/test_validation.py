"""Validation errors as users read them: the paths they wrote, one line."""

from typing import Any

import pytest
from pydantic import ValidationError

from naa.config.partner import PartnerConfig
from naa.config.validation import describe


def _described(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as err:
        PartnerConfig.model_validate({"id": "acme", "name": "Acme", **data})
    return describe(err.value, data={"id": "acme", "name": "Acme", **data})


def test_paths_are_the_keys_written_not_the_tags_of_backends() -> None:
    # They read retrieval.faiss.top_k and intent.embedding.threshold: no such keys are in the file.
    described = _described({"retrieval": {"top_k": "x"}, "intent": {"threshold": "y"}})
    assert described.startswith("intent.threshold: Input should be a valid number")
    assert "; retrieval.top_k: Input should be a valid integer" in described


def test_a_missing_field_keeps_its_name_and_an_unknown_backend_is_said_plainly() -> None:
    assert _described({"generation": {"backend": "openai"}}) == (
        "generation.base_url: Field required; generation.model: Field required"
    )
    # It read "Input tag 'ollama' found using backend() does not match any of the expected tags: ...".
    assert _described({"generation": {"backend": "ollama"}}) == (
        "generation: backend 'ollama' is not one of 'transformers', 'vllm', 'openai', 'plugin'"
    )
