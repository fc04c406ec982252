"""Any OpenAI-compatible chat server (``vllm serve``, NAA's own API, a hosted service) by base URL."""

import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, cast

from naa.errors import GenerationError, ModelUnavailableError
from naa.generation.base import ChatMessage, Completion, SamplingParams
from naa.generation.config import OpenAIGeneratorConfig
from naa.generation.streaming import ReplyStream, StreamUsage, complete_reply, stream_reply

if TYPE_CHECKING:
    from openai import OpenAI
    from openai.types.chat import ChatCompletionMessageParam


class OpenAIGenerator:
    """Streams chat completions from a server with the official ``openai`` client.

    Example:
        config = OpenAIGeneratorConfig(base_url="http://vllm:8000/v1", model="SmolLM2-135M-Instruct")
        reply = OpenAIGenerator(config).generate([ChatMessage("user", "Hello")]).text
    """

    def __init__(self, config: OpenAIGeneratorConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._client: OpenAI | None = None

    def warm_up(self) -> None:
        """Create the HTTP client. The server is not contacted: it may start after the API does."""
        with self._lock:
            if self._client is None:
                from openai import OpenAI

                self._client = OpenAI(
                    base_url=self._config.base_url,
                    api_key=self._config.api_key.get_secret_value(),
                    timeout=self._config.timeout_s,
                    max_retries=self._config.max_retries,
                )

    def generate(self, messages: Sequence[ChatMessage], params: SamplingParams | None = None) -> Completion:
        return complete_reply(self._pieces, messages, params or self._config.default_params())

    def stream(self, messages: Sequence[ChatMessage], params: SamplingParams | None = None) -> ReplyStream:
        return stream_reply(self._pieces, messages, params or self._config.default_params())

    def _pieces(
        self, messages: Sequence[ChatMessage], params: SamplingParams, usage: StreamUsage
    ) -> Iterator[str]:
        import openai

        self.warm_up()
        assert self._client is not None
        url, model = self._config.base_url, self._config.model
        try:
            chunks = self._client.chat.completions.create(
                model=model,
                messages=cast("list[ChatCompletionMessageParam]", [asdict(m) for m in messages]),
                stream=True,
                # Asks for a last chunk with token counts; without it the counts are estimated.
                stream_options={"include_usage": True},
                max_tokens=params.max_new_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                stop=list(params.stop) if params.stop else openai.omit,
            )
            with chunks:
                yield from _read_chunks(chunks, usage)
        except openai.APIConnectionError as err:  # also timeouts
            raise ModelUnavailableError(
                f"cannot reach the generator server at {url}: {err}; check generation.base_url and that "
                "the server is running"
            ) from err
        except openai.NotFoundError as err:
            raise ModelUnavailableError(
                f"the server at {url} does not serve model {model!r}: set generation.model to one it lists "
                "at /models"
            ) from err
        except openai.APIStatusError as err:
            problem = f"the generator server at {url} answered {err.status_code}: {err.message}"
            if err.status_code >= 500:
                raise ModelUnavailableError(problem) from err
            raise GenerationError(problem) from err


def _read_chunks(chunks: Any, usage: StreamUsage) -> Iterator[str]:
    """Yield the content deltas; take the counts from the usage chunk, else count content chunks."""
    counted = 0
    reported = False
    for chunk in chunks:
        if chunk.usage is not None:
            usage.prompt_tokens = chunk.usage.prompt_tokens
            usage.completion_tokens = chunk.usage.completion_tokens
            reported = True
        for choice in chunk.choices[:1]:
            if choice.delta.content:
                counted += 1
                yield choice.delta.content
            if choice.finish_reason is not None:
                usage.finish_reason = "length" if choice.finish_reason == "length" else "stop"
    if not reported:
        usage.completion_tokens = counted
