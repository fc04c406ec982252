"""The transformers backend on a tiny random-weight Llama, loaded by path like any user's model folder."""

import threading
from pathlib import Path

import pytest

from naa.errors import InputError, ModelUnavailableError
from naa.generation import ChatMessage, Generator, SamplingParams, build_generator
from naa.generation.config import TransformersGeneratorConfig

QUESTION = [ChatMessage("user", "Where is my order?")]


@pytest.fixture(scope="module")
def generator(tiny_lm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Generator:
    config = TransformersGeneratorConfig(model=str(tiny_lm_dir), max_new_tokens=12)
    generator = build_generator(config, tmp_path_factory.mktemp("models"))
    generator.warm_up()
    generator.warm_up()  # a second call must be a no-op, not a reload
    return generator


def test_generate_is_the_joined_stream(generator: Generator) -> None:
    completion = generator.generate(QUESTION)
    pieces = list(generator.stream(QUESTION))
    assert len(pieces) > 1  # streamed piece by piece, not in one block
    assert "".join(pieces) == completion.text
    assert completion.text.strip()
    assert completion.prompt_tokens > 5


def test_config_max_new_tokens_is_the_default_and_params_override_it(generator: Generator) -> None:
    default = generator.generate(QUESTION)
    assert default.completion_tokens == 12
    assert default.finish_reason == "length"
    short = generator.generate(QUESTION, SamplingParams(max_new_tokens=3))
    assert short.completion_tokens == 3
    assert default.text.startswith(short.text)


def test_reply_ends_before_the_first_stop_string(generator: Generator) -> None:
    full = generator.generate(QUESTION).text
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    cut = generator.generate(QUESTION, SamplingParams(max_new_tokens=12, stop=(stop,)))
    assert cut.text == full[: full.index(stop)]
    assert cut.finish_reason == "stop"
    assert cut.completion_tokens < 12  # generation itself stopped early, not only the text


def test_sampling_differs_from_greedy_at_high_temperature(generator: Generator) -> None:
    greedy = generator.generate(QUESTION).text
    sampled = {
        generator.generate(QUESTION, SamplingParams(max_new_tokens=12, temperature=1.5)).text
        for _ in range(3)
    }
    assert sampled != {greedy}


def test_concurrent_callers_get_the_same_greedy_reply(generator: Generator) -> None:
    expected = generator.generate(QUESTION).text
    replies: list[str] = []

    def ask() -> None:
        replies.append("".join(generator.stream(QUESTION)))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert replies == [expected, expected]


def test_abandoned_stream_releases_the_model(generator: Generator) -> None:
    stream = generator.stream(QUESTION, SamplingParams(max_new_tokens=200))
    next(stream)
    stream.close()  # e.g. the client disconnected after the first token
    assert generator.generate(QUESTION, SamplingParams(max_new_tokens=2)).completion_tokens == 2


def test_prompt_longer_than_the_context_is_refused(generator: Generator) -> None:
    huge = [ChatMessage("user", "refund " * 3000)]
    with pytest.raises(InputError, match="2048"):
        generator.generate(huge)


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
