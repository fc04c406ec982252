"""The OpenAI-compatible backend against a small real HTTP server that streams the tiny model's replies.

The server here is only the wire protocol (SSE chunks, a usage chunk, [DONE]) around the transformers
backend; the project's own /v1/chat/completions is tested against this backend in tests/api.
"""

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from naa.errors import ModelUnavailableError
from naa.generation import ChatMessage, Generator, SamplingParams, build_generator
from naa.generation.config import OpenAIGeneratorConfig, TransformersGeneratorConfig

QUESTION = [ChatMessage("system", "Be brief."), ChatMessage("user", "Can I change my delivery address?")]


@pytest.fixture(scope="module")
def local_generator(tiny_lm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Generator:
    config = TransformersGeneratorConfig(model=str(tiny_lm_dir), max_new_tokens=10)
    return build_generator(config, tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def server_url(local_generator: Generator) -> Iterator[str]:
    handler = type("Handler", (_ChatCompletionsHandler,), {"generator": local_generator})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    thread.join()


def _remote(url: str, **overrides: Any) -> Generator:
    config = OpenAIGeneratorConfig(base_url=url, model="tiny", max_new_tokens=10, timeout_s=30, **overrides)
    return build_generator(config, Path("unused"))


def test_remote_reply_matches_the_local_model(server_url: str, local_generator: Generator) -> None:
    remote = _remote(server_url)
    expected = local_generator.generate(QUESTION)
    assert remote.generate(QUESTION) == expected  # text, token counts from the usage chunk, finish reason
    pieces = list(remote.stream(QUESTION))
    assert len(pieces) > 1
    assert "".join(pieces) == expected.text


def test_sampling_params_reach_the_server(server_url: str, local_generator: Generator) -> None:
    full = local_generator.generate(QUESTION).text
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    params = SamplingParams(max_new_tokens=10, stop=(stop,))
    reply = _remote(server_url).generate(QUESTION, params)
    assert reply.text == full[: full.index(stop)]
    assert reply.finish_reason == "stop"
    assert _remote(server_url).generate(QUESTION, SamplingParams(max_new_tokens=2)).completion_tokens == 2


def test_unknown_model_names_the_model(server_url: str) -> None:
    config = OpenAIGeneratorConfig(base_url=server_url, model="no-such-model", max_retries=0)
    with pytest.raises(ModelUnavailableError, match="no-such-model"):
        build_generator(config, Path("unused")).generate(QUESTION)


def test_unreachable_server_names_the_url() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    generator = _remote(url, max_retries=0)
    generator.warm_up()  # creating the client does not contact the server
    with pytest.raises(ModelUnavailableError, match=f"127.0.0.1:{port}"):
        list(generator.stream(QUESTION))


class _ChatCompletionsHandler(BaseHTTPRequestHandler):
    """POST /v1/chat/completions with stream=true, as vLLM answers it: content chunks, usage, [DONE]."""

    generator: Generator

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if request["model"] != "tiny":
            self._send(404, "application/json", json.dumps({"error": {"message": "model not found"}}))
            return
        params = SamplingParams(
            max_new_tokens=request["max_tokens"],
            temperature=request["temperature"],
            top_p=request["top_p"],
            stop=tuple(request.get("stop") or ()),
        )
        messages = [ChatMessage(m["role"], m["content"]) for m in request["messages"]]
        reply = self.generator.generate(messages, params)
        words = reply.text.split(" ")
        deltas = [{"content": w if i == 0 else " " + w} for i, w in enumerate(words)]
        chunks = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]})
        usage = {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens}
        chunks.append({"choices": [], "usage": {**usage, "total_tokens": sum(usage.values())}})
        common = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": "tiny"}
        body = "".join(f"data: {json.dumps({**common, **c})}\n\n" for c in chunks) + "data: [DONE]\n\n"
        self._send(200, "text/event-stream", body)

    def _send(self, status: int, content_type: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""
