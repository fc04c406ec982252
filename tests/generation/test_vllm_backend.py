"""The vLLM backend: a clear error where vLLM or a GPU is missing, the real engine where both exist."""

import importlib.util
from pathlib import Path

import pytest

from naa.errors import ModelUnavailableError
from naa.generation import ChatMessage, SamplingParams, build_generator
from naa.generation.config import VLLMGeneratorConfig

HAS_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed: the missing-package error cannot happen")
def test_without_vllm_warm_up_says_what_to_use_instead(tmp_path: Path) -> None:
    generator = build_generator(VLLMGeneratorConfig(), tmp_path)  # cheap: nothing is imported yet
    with pytest.raises(ModelUnavailableError, match=r"vllm.*generation\.backend"):
        generator.warm_up()


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_VLLM, reason="needs vllm")
def test_vllm_stream_matches_generate(tiny_lm_dir: Path, tmp_path: Path) -> None:
    config = VLLMGeneratorConfig(model=str(tiny_lm_dir), gpu_memory_utilization=0.3, max_model_len=512)
    generator = build_generator(config, tmp_path)
    generator.warm_up()
    question = [ChatMessage("user", "Where is my order?")]
    completion = generator.generate(question, SamplingParams(max_new_tokens=8))
    assert completion.completion_tokens == 8
    assert "".join(generator.stream(question, SamplingParams(max_new_tokens=8))) == completion.text
