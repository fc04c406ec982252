"""What only the openai backend does: server errors become NAA errors that name the URL or model."""

import socket
from pathlib import Path

import pytest

from naa.errors import ModelUnavailableError
from naa.generation import ChatMessage, build_generator
from naa.generation.config import OpenAIGeneratorConfig

QUESTION = [ChatMessage("user", "Can I change my delivery address?")]


def test_unknown_model_names_the_model(chat_server_url: str) -> None:
    config = OpenAIGeneratorConfig(base_url=chat_server_url, model="no-such-model", max_retries=0)
    with pytest.raises(ModelUnavailableError, match="no-such-model"):
        build_generator(config, Path("unused")).generate(QUESTION)


def test_unreachable_server_names_the_url() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = OpenAIGeneratorConfig(base_url=f"http://127.0.0.1:{port}/v1", model="tiny", max_retries=0)
    generator = build_generator(config, Path("unused"))
    generator.warm_up()  # creating the client does not contact the server
    with pytest.raises(ModelUnavailableError, match=f"127.0.0.1:{port}"):
        list(generator.stream(QUESTION))
