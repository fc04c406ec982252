"""Generators for the contract tests: the tiny model in process, and the same model behind a real HTTP
server speaking the OpenAI streaming protocol (the project's own /v1/chat/completions, which adds the
whole assistant chain, is tested against the openai backend in tests/api/test_completions_route.py)."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from naa.generation import ChatMessage, Generator, SamplingParams, build_generator
from naa.generation.config import TransformersGeneratorConfig


@pytest.fixture(scope="session")
def reply_budget() -> int:
    """The generators' configured max_new_tokens."""
    return 12


@pytest.fixture(scope="session")
def tiny_generator(
    tiny_lm_dir: Path, reply_budget: int, tmp_path_factory: pytest.TempPathFactory
) -> Generator:
    """The transformers backend on the tiny model."""
    config = TransformersGeneratorConfig(model=str(tiny_lm_dir), max_new_tokens=reply_budget)
    generator = build_generator(config, tmp_path_factory.mktemp("models"))
    generator.warm_up()
    return generator


@pytest.fixture(scope="session")
def chat_server_url(tiny_generator: Generator) -> Iterator[str]:
    """Base URL of a local server that answers for the model named "tiny"."""
    handler = type("Handler", (_ChatCompletionsHandler,), {"generator": tiny_generator})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    thread.join()


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
        chunks: list[dict[str, Any]] = [
            {"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
        ]
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
