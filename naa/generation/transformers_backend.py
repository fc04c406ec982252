"""The embedded default generator: a transformers causal LM in this process.

Concurrency: chats are decoded together, up to ``max_batch_size`` of them; one arriving while others are
being written joins them at the next decode step (``RunningBatch``). On CPU a decode step is bound by
per-token overhead and by reading the weights, both shared by the batch: on 2 cores 8 replies at once gave
3.6 times the tokens per second of one (2026-11-28, SmolLM2-135M). Each reply streams and ends on its own.
"""

import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TextIteratorStreamer,
)

from naa.errors import GenerationError, ModelUnavailableError, PromptTooLongError
from naa.generation.base import ChatMessage, Completion, SamplingParams
from naa.generation.config import TransformersGeneratorConfig
from naa.generation.model_files import resolve_model_source
from naa.generation.running_batch import Request, RunningBatch
from naa.generation.streaming import ReplyStream, StreamUsage, complete_reply, stream_reply


class TransformersGenerator:
    """Generates replies with ``AutoModelForCausalLM`` and the tokenizer's chat template.

    Example:
        generator = TransformersGenerator(TransformersGeneratorConfig(), workspace.models_dir)
        for piece in generator.stream([ChatMessage("user", "Where is my order?")]):
            print(piece, end="")
    """

    def __init__(self, config: TransformersGeneratorConfig, models_dir: Path) -> None:
        self._config = config
        self._models_dir = models_dir
        self._load_lock = threading.Lock()
        self._decode_lock = threading.Lock()  # one thread drives the batch at a time
        self._pending_lock = threading.Lock()
        self._pending: list[Request] = []
        self._model: PreTrainedModel | None = None
        self._tokenizer: PreTrainedTokenizerBase | None = None
        self._batch: RunningBatch | None = None

    def warm_up(self) -> None:
        """Load the tokenizer and weights (converting a packaged model on first use); a no-op once loaded."""
        with self._load_lock:
            if self._model is None:
                self._tokenizer, self._model = self._load()
                self._batch = RunningBatch(self._model, self._tokenizer, self._eos_ids())

    def generate(self, messages: Sequence[ChatMessage], params: SamplingParams | None = None) -> Completion:
        return complete_reply(self._pieces, messages, params or self._config.default_params())

    def stream(self, messages: Sequence[ChatMessage], params: SamplingParams | None = None) -> ReplyStream:
        return stream_reply(self._pieces, messages, params or self._config.default_params())

    def _load(self) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
        config = self._config
        if config.device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelUnavailableError(
                f"device {config.device} is not available here: set generation.device to cpu"
            )
        source = resolve_model_source(config.model, self._models_dir)
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForCausalLM.from_pretrained(
                source, dtype=getattr(torch, config.dtype), device_map=config.device
            )
        except (OSError, ValueError) as err:
            raise ModelUnavailableError(
                f"cannot load generator model {source!r}: {err}. Set generation.model to a local model "
                "folder or a packaged model; hub ids need a network or a filled cache"
            ) from err
        if tokenizer.pad_token_id is None:  # a batch of prompts is left-padded
            tokenizer.pad_token = tokenizer.eos_token
        if tokenizer.chat_template is None:
            raise ModelUnavailableError(
                f"generator model {source!r} has no chat template: use an instruct model whose tokenizer "
                "has one"
            )
        return tokenizer, model.eval()

    def _pieces(
        self, messages: Sequence[ChatMessage], params: SamplingParams, usage: StreamUsage
    ) -> Iterator[str]:
        """Queue the chat to join the batch and yield its text as its row is decoded."""
        self.warm_up()
        assert self._tokenizer is not None
        tokenizer = self._tokenizer
        encoded = tokenizer.apply_chat_template(
            [asdict(m) for m in messages], add_generation_prompt=True, return_dict=True
        )
        prompt = list(cast(dict[str, Any], encoded)["input_ids"])
        usage.prompt_tokens = len(prompt)
        self._check_fits(usage.prompt_tokens, params.max_new_tokens)
        text = TextIteratorStreamer(tokenizer, skip_special_tokens=True)
        request = Request(prompt, params, text, usage)
        with self._pending_lock:
            self._pending.append(request)
        # Every request brings a thread that drives the batch while it has rows or newcomers; a thread that
        # finds another driving it waits, then may find its request already served, but none is left waiting.
        # Not a daemon: Python waits for it at exit. A daemon thread still inside torch when the reply had
        # been read and the process ended (`naa ask`) aborted the process ("terminate called without an
        # active exception", exit 134) in about one run in six. It ends once its rows have.
        threading.Thread(target=self._serve, name="naa-generate").start()
        try:
            yield from text
        finally:
            # A consumer that stops early (stop string, client gone) ends its row at the next step, or drops
            # the request before it starts; the others go on. Nothing here waits or takes a lock: a stream
            # its client dropped is closed by the garbage collector, on any thread, the decoding one too.
            request.cancel.set()
        if request.failure:
            err = request.failure[0]
            raise GenerationError(f"generator model {self._config.model} failed: {err}") from err

    def _serve(self) -> None:
        assert self._batch is not None
        batch = self._batch
        with self._decode_lock, torch.inference_mode():
            while True:
                newcomers = self._take(batch.room(self._config.max_batch_size))
                if not newcomers and not batch.rows:
                    return
                try:
                    if newcomers:
                        batch.admit(newcomers)
                    if batch.rows:
                        batch.step()
                except Exception as err:
                    for request in newcomers:  # those that did not join yet
                        request.fail(err)
                    batch.fail(err)

    def _take(self, room: int) -> list[Request]:
        """The oldest waiting requests, as many as may join the batch now; those whose caller left are
        dropped."""
        with self._pending_lock:
            gone = [r for r in self._pending if r.cancel.is_set()]
            waiting = [r for r in self._pending if not r.cancel.is_set()]
            taken, self._pending = waiting[:room], waiting[room:]
        for request in gone:
            request.finish("stop")
        return taken

    def _eos_ids(self) -> set[int]:
        assert self._model is not None
        eos = self._model.generation_config.eos_token_id
        if eos is None:
            return set()
        return {eos} if isinstance(eos, int) else set(eos)

    def _check_fits(self, prompt_tokens: int, max_new_tokens: int) -> None:
        """Each row's positions are its own (padding takes none), so a request fits alone or not at all."""
        assert self._model is not None
        limit: int | None = getattr(self._model.config, "max_position_embeddings", None)
        if limit is not None and prompt_tokens + max_new_tokens > limit:
            raise PromptTooLongError(
                f"the prompt has {prompt_tokens} tokens and the reply may take {max_new_tokens}, more than "
                f"the {limit} that model {self._config.model} holds: shorten the conversation or allow fewer "
                "new tokens (max_tokens of a chat completion; generation.max_new_tokens of the partner)"
            )
