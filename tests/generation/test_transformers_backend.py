"""What only the in-process transformers backend does: sampling, cancelling, limits, model folders."""

from pathlib import Path

import pytest
import torch

from naa.errors import InputError, ModelUnavailableError
from naa.generation import ChatMessage, Generator, SamplingParams, build_generator
from naa.generation.config import TransformersGeneratorConfig

QUESTION = [ChatMessage("user", "Where is my order?")]


def test_warm_up_twice_keeps_the_loaded_model(tiny_generator: Generator) -> None:
    before = tiny_generator.generate(QUESTION, SamplingParams(max_new_tokens=4))
    tiny_generator.warm_up()
    assert tiny_generator.generate(QUESTION, SamplingParams(max_new_tokens=4)) == before


def test_sampling_differs_from_greedy_at_high_temperature(tiny_generator: Generator) -> None:
    params = SamplingParams(max_new_tokens=6, temperature=1.5)
    greedy = tiny_generator.generate(QUESTION, SamplingParams(max_new_tokens=6)).text
    assert {tiny_generator.generate(QUESTION, params).text for _ in range(2)} != {greedy}


def test_abandoned_stream_releases_the_model(tiny_generator: Generator) -> None:
    stream = tiny_generator.stream(QUESTION, SamplingParams(max_new_tokens=200))
    next(stream)
    stream.close()  # e.g. the client disconnected after the first words
    assert tiny_generator.generate(QUESTION, SamplingParams(max_new_tokens=2)).completion_tokens == 2


def test_prompt_longer_than_the_context_is_refused(tiny_generator: Generator) -> None:
    huge = [ChatMessage("user", "refund " * 3000)]
    with pytest.raises(InputError, match="2048"):
        tiny_generator.generate(huge)


def test_missing_model_folder_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    generator = build_generator(TransformersGeneratorConfig(model=str(missing)), tmp_path)
    with pytest.raises(ModelUnavailableError, match=r"no-such-model.*generation\.model"):
        generator.warm_up()


def test_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    generator = build_generator(TransformersGeneratorConfig(model=str(tmp_path)), tmp_path)
    with pytest.raises(ModelUnavailableError, match=r"config\.json"):
        generator.warm_up()


def test_unknown_hub_id_offline_says_what_to_set(tmp_path: Path) -> None:
    generator = build_generator(TransformersGeneratorConfig(model="no-such-org/no-such-model"), tmp_path)
    with pytest.raises(ModelUnavailableError, match=r"generation\.model"):
        generator.warm_up()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_unavailable_device_says_what_to_set(tiny_lm_dir: Path, tmp_path: Path) -> None:
    generator = build_generator(
        TransformersGeneratorConfig(model=str(tiny_lm_dir), device="cuda:0"), tmp_path
    )
    with pytest.raises(ModelUnavailableError, match=r"generation\.device"):
        generator.warm_up()
