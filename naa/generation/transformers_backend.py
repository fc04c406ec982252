"""The embedded default generator: a transformers causal LM in this process.

Concurrency: one lock serialises ``model.generate`` calls. On CPU two generations at once would only
share the same cores, and a lock keeps the streamer-thread bookkeeping simple; batching concurrent
requests is what the vLLM backends are for.
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
    BatchEncoding,
    GenerationMixin,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
    TextIteratorStreamer,
)

from naa.errors import GenerationError, InputError, ModelUnavailableError
from naa.generation.base import ChatMessage, Completion, SamplingParams
from naa.generation.config import TransformersGeneratorConfig
from naa.generation.model_files import resolve_model_source
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
        self._generate_lock = threading.Lock()
        self._model: PreTrainedModel | None = None
        self._tokenizer: PreTrainedTokenizerBase | None = None

    def warm_up(self) -> None:
        """Load the tokenizer and weights (converting a packaged model on first use); a no-op once loaded."""
        with self._load_lock:
            if self._model is None:
                self._tokenizer, self._model = self._load()

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
        if tokenizer.chat_template is None:
            raise ModelUnavailableError(
                f"generator model {source!r} has no chat template: use an instruct model whose tokenizer "
                "has one"
            )
        return tokenizer, model.eval()

    def _pieces(
        self, messages: Sequence[ChatMessage], params: SamplingParams, usage: StreamUsage
    ) -> Iterator[str]:
        """Run ``model.generate`` in a thread and yield its text as the streamer decodes it."""
        self.warm_up()
        assert self._tokenizer is not None and self._model is not None
        tokenizer, model = self._tokenizer, self._model
        encoded = tokenizer.apply_chat_template(
            [asdict(m) for m in messages], add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        inputs = cast(BatchEncoding, encoded).to(model.device)
        usage.prompt_tokens = int(inputs["input_ids"].shape[1])
        self._check_fits(usage.prompt_tokens, params.max_new_tokens)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancel = threading.Event()
        failure: list[BaseException] = []
        worker = threading.Thread(
            target=self._generate_into,
            args=(inputs, params, streamer, cancel, usage, failure),
            name="naa-generate",
            daemon=True,
        )
        worker.start()
        try:
            yield from streamer
        finally:
            # A consumer that stops early (stop string, client gone) must not leave the model generating.
            cancel.set()
            worker.join()
        if failure:
            err = failure[0]
            raise GenerationError(f"generator model {self._config.model} failed: {err}") from err

    def _generate_into(
        self,
        inputs: Any,
        params: SamplingParams,
        streamer: TextIteratorStreamer,
        cancel: threading.Event,
        usage: StreamUsage,
        failure: list[BaseException],
    ) -> None:
        assert self._tokenizer is not None and self._model is not None
        try:
            with self._generate_lock, torch.inference_mode():
                output = cast(GenerationMixin, self._model).generate(
                    **inputs,
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([_Cancelled(cancel)]),
                    **self._generation_kwargs(params),
                )
        except Exception as err:
            failure.append(err)
            streamer.end()  # unblocks the consumer; generate only ends the stream when it succeeds
            return
        new_tokens = output[0, usage.prompt_tokens :].tolist()
        usage.completion_tokens = len(new_tokens)
        hit_eos = bool(new_tokens) and new_tokens[-1] in self._eos_ids()
        usage.finish_reason = "length" if len(new_tokens) >= params.max_new_tokens and not hit_eos else "stop"

    def _generation_kwargs(self, params: SamplingParams) -> dict[str, Any]:
        assert self._tokenizer is not None
        pad = self._tokenizer.pad_token_id
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "pad_token_id": self._tokenizer.eos_token_id if pad is None else pad,
        }
        if params.stop:
            # Ends generation early; the exact cut of the text is done by cut_at_stop.
            kwargs.update(stop_strings=list(params.stop), tokenizer=self._tokenizer)
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            # None overrides sampling values a model's generation_config may carry, which greedy ignores.
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def _eos_ids(self) -> set[int]:
        assert self._model is not None
        eos = self._model.generation_config.eos_token_id
        if eos is None:
            return set()
        return {eos} if isinstance(eos, int) else set(eos)

    def _check_fits(self, prompt_tokens: int, max_new_tokens: int) -> None:
        assert self._model is not None
        limit = getattr(self._model.config, "max_position_embeddings", None)
        if limit is not None and prompt_tokens + max_new_tokens > limit:
            raise InputError(
                f"the prompt has {prompt_tokens} tokens and the reply may take {max_new_tokens}, more than "
                f"the {limit} that model {self._config.model} holds: shorten the conversation or lower "
                "max_new_tokens"
            )


class _Cancelled(StoppingCriteria):
    """Stops ``generate`` at the next token once the stream's consumer has gone away."""

    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any
    ) -> torch.BoolTensor:
        done = torch.full((input_ids.shape[0],), self._event.is_set(), device=input_ids.device)
        return done  # type: ignore[return-value]
