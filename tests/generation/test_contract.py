"""Every generator backend that runs here passes the same checks (the Generator contract).

The openai backend talks to a real local HTTP server that serves the same tiny model, so both backends
must give the very same greedy reply.
"""

import threading
from pathlib import Path

import pytest

from naa.generation import ChatMessage, Generator, SamplingParams, build_generator
from naa.generation.config import OpenAIGeneratorConfig

QUESTION = [ChatMessage("system", "Be brief."), ChatMessage("user", "Where is my order?")]


@pytest.fixture(params=["transformers", "openai"])
def generator(request: pytest.FixtureRequest, tiny_generator: Generator, reply_budget: int) -> Generator:
    if request.param == "transformers":
        return tiny_generator
    url = request.getfixturevalue("chat_server_url")
    config = OpenAIGeneratorConfig(base_url=url, model="tiny", max_new_tokens=reply_budget, timeout_s=60)
    return build_generator(config, Path("unused"))


def test_generate_is_the_joined_stream(generator: Generator, tiny_generator: Generator) -> None:
    completion = generator.generate(QUESTION)
    pieces = list(generator.stream(QUESTION))
    assert len(pieces) > 1  # streamed piece by piece, not in one block
    assert "".join(pieces) == completion.text
    assert completion == tiny_generator.generate(QUESTION)  # same text, token counts and finish reason
    assert completion.prompt_tokens > 5


def test_config_max_new_tokens_is_the_default_and_params_override_it(
    generator: Generator, reply_budget: int
) -> None:
    default = generator.generate(QUESTION)
    assert default.completion_tokens == reply_budget
    assert default.finish_reason == "length"
    short = generator.generate(QUESTION, SamplingParams(max_new_tokens=3))
    assert short.completion_tokens == 3
    assert default.text.startswith(short.text)


def test_reply_ends_before_the_first_stop_string(generator: Generator, reply_budget: int) -> None:
    full = generator.generate(QUESTION).text
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    cut = generator.generate(QUESTION, SamplingParams(max_new_tokens=reply_budget, stop=(stop,)))
    assert cut.text == full[: full.index(stop)]
    assert cut.finish_reason == "stop"
    assert cut.completion_tokens < reply_budget  # generation itself stopped early, not only the text


def test_concurrent_callers_get_the_same_greedy_reply(generator: Generator) -> None:
    expected = generator.generate(QUESTION).text
    replies: list[str] = []

    def ask() -> None:
        replies.append("".join(generator.stream(QUESTION)))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert replies == [expected, expected]
