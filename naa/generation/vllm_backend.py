"""An in-process vLLM engine on a GPU, for partners who serve many conversations from one host.

vLLM's engine is asynchronous (``AsyncLLM``, exported as ``AsyncLLMEngine``); the ``Generator`` protocol is
synchronous, so the engine lives on its own event loop in a background thread and each request's deltas
cross to the caller through a queue. Concurrent callers are batched by vLLM itself: no lock.
"""

import asyncio
import queue
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from naa.errors import GenerationError, ModelUnavailableError
from naa.generation.base import ChatMessage, Completion, SamplingParams
from naa.generation.config import VLLMGeneratorConfig
from naa.generation.model_files import resolve_model_source
from naa.generation.streaming import ReplyStream, StreamUsage, complete_reply, stream_reply

_END = object()


class VLLMGenerator:
    """Streams replies from a vLLM ``AsyncLLMEngine`` running in this process.

    Example:
        generator = VLLMGenerator(VLLMGeneratorConfig(model="/models/my-instruct"), workspace.models_dir)
        generator.warm_up()  # allocates the GPU memory share and loads the weights
        print(generator.generate([ChatMessage("user", "Hello")]).text)
    """

    def __init__(self, config: VLLMGeneratorConfig, models_dir: Path) -> None:
        self._config = config
        self._models_dir = models_dir
        self._lock = threading.Lock()
        self._engine: Any = None
        self._tokenizer: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def warm_up(self) -> None:
        """Start the event loop and the engine; a no-op once started."""
        with self._lock:
            if self._engine is None:
                self._start()

    def generate(self, messages: Sequence[ChatMessage], params: SamplingParams | None = None) -> Completion:
        return complete_reply(self._pieces, messages, params or self._config.default_params())

    def stream(self, messages: Sequence[ChatMessage], params: SamplingParams | None = None) -> ReplyStream:
        return stream_reply(self._pieces, messages, params or self._config.default_params())

    def _start(self) -> None:
        try:
            import torch
            from transformers import AutoTokenizer
            from vllm import AsyncEngineArgs, AsyncLLMEngine
        except ImportError as err:
            raise ModelUnavailableError(
                "the vllm generator backend needs the vllm package on a CUDA host: install vllm there, or "
                "set generation.backend to transformers or openai"
            ) from err
        if not torch.cuda.is_available():
            raise ModelUnavailableError(
                "the vllm generator backend needs a CUDA GPU and none is visible: set generation.backend "
                "to transformers, or to openai with the URL of a vLLM server"
            )
        source = resolve_model_source(self._config.model, self._models_dir)
        args = AsyncEngineArgs(
            model=source,
            gpu_memory_utilization=self._config.gpu_memory_utilization,
            tensor_parallel_size=self._config.tensor_parallel_size,
            max_model_len=self._config.max_model_len,
        )
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="naa-vllm-loop", daemon=True).start()

        async def make_engine() -> Any:
            # Built on the loop it will serve: the engine binds its output-handler task to the running loop.
            return AsyncLLMEngine.from_engine_args(args)

        try:
            self._engine = asyncio.run_coroutine_threadsafe(make_engine(), loop).result()
        except Exception as err:
            loop.call_soon_threadsafe(loop.stop)
            raise ModelUnavailableError(f"vLLM cannot load generator model {source!r}: {err}") from err
        self._tokenizer = AutoTokenizer.from_pretrained(source)
        self._loop = loop

    def _pieces(
        self, messages: Sequence[ChatMessage], params: SamplingParams, usage: StreamUsage
    ) -> Iterator[str]:
        from vllm import SamplingParams as VLLMSamplingParams
        from vllm.sampling_params import RequestOutputKind

        self.warm_up()
        assert self._loop is not None
        prompt = self._tokenizer.apply_chat_template(
            [asdict(m) for m in messages], add_generation_prompt=True, tokenize=False
        )
        sampling = VLLMSamplingParams(
            max_tokens=params.max_new_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            stop=list(params.stop) or None,
            output_kind=RequestOutputKind.DELTA,  # each output carries only the new text
        )
        deltas: queue.Queue[Any] = queue.Queue()
        task = asyncio.run_coroutine_threadsafe(self._pump(prompt, sampling, deltas, usage), self._loop)
        try:
            while (item := deltas.get()) is not _END:
                if isinstance(item, BaseException):
                    raise GenerationError(f"vLLM failed on model {self._config.model}: {item}") from item
                yield item
        finally:
            task.cancel()  # cancelling the consuming task makes vLLM abort the request

    async def _pump(self, prompt: str, sampling: Any, deltas: "queue.Queue[Any]", usage: StreamUsage) -> None:
        try:
            async for output in self._engine.generate(
                prompt=prompt, sampling_params=sampling, request_id=uuid.uuid4().hex
            ):
                completion = output.outputs[0]
                usage.completion_tokens += len(completion.token_ids)
                if output.prompt_token_ids:  # in DELTA mode only some outputs repeat the prompt
                    usage.prompt_tokens = len(output.prompt_token_ids)
                if completion.text:
                    deltas.put(completion.text)
                if output.finished:
                    usage.finish_reason = "length" if completion.finish_reason == "length" else "stop"
        except Exception as err:
            deltas.put(err)
        finally:
            deltas.put(_END)
