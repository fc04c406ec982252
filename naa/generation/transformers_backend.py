"""The embedded default generator: a transformers causal LM in this process.

Concurrency: chats that arrive while the model is busy wait, and then run together, up to
``max_batch_size`` of them with the same sampling settings, in one left-padded ``generate`` call. On CPU a
decode step is bound by per-token overhead and by reading the weights, both shared by the batch: on 2 cores
8 replies at once gave 3.6 times the tokens per second of one (2026-11-28, SmolLM2-135M). Each reply streams
and ends on its own; a batch that is running takes no newcomer (``generate`` has a fixed batch), so a chat
arriving mid-batch waits for it to end. The vLLM backends schedule per step instead.
"""

import functools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationMixin,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
    StopStringCriteria,
    TextIteratorStreamer,
)
from transformers.generation.streamers import BaseStreamer

from naa.errors import GenerationError, InputError, ModelUnavailableError
from naa.generation.base import ChatMessage, Completion, SamplingParams
from naa.generation.config import TransformersGeneratorConfig
from naa.generation.model_files import resolve_model_source
from naa.generation.streaming import ReplyStream, StreamUsage, complete_reply, stream_reply


@dataclass(eq=False)  # a request is itself, whatever its fields
class _Request:
    """One chat's reply: its prompt, settings, the text stream its caller reads, and how it ended."""

    prompt: list[int]
    params: SamplingParams
    text: TextIteratorStreamer
    usage: StreamUsage
    cancel: threading.Event = field(default_factory=threading.Event)  # the caller stopped reading
    done: threading.Event = field(default_factory=threading.Event)  # its row ended, usage filled in
    failure: list[BaseException] = field(default_factory=list)

    @property
    def batch_key(self) -> tuple[float, float, tuple[str, ...]]:
        """Requests run in one ``generate`` call only when it samples them alike."""
        return self.params.temperature, self.params.top_p, self.params.stop


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
        self._generate_lock = threading.Lock()  # one generate call at a time
        self._pending_lock = threading.Lock()
        self._pending: list[_Request] = []
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
        """Queue the chat for the next batch and yield its text as its row is decoded."""
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
        request = _Request(prompt, params, text, usage)
        with self._pending_lock:
            self._pending.append(request)
        # Every request brings a thread that runs one batch once the model is free: a batch takes the
        # waiting requests, so a thread may find its own already served, but none is left waiting.
        threading.Thread(target=self._serve, name="naa-generate", daemon=True).start()
        try:
            yield from text
        finally:
            # A consumer that stops early (stop string, client gone) ends its row; the others go on.
            request.cancel.set()
            with self._pending_lock:
                if request in self._pending:  # not started: nothing to wait for
                    self._pending.remove(request)
                    request.done.set()
            request.done.wait()
        if request.failure:
            err = request.failure[0]
            raise GenerationError(f"generator model {self._config.model} failed: {err}") from err

    def _serve(self) -> None:
        with self._generate_lock:
            batch = self._take_batch()
            if batch:
                self._generate(batch)

    def _take_batch(self) -> list[_Request]:
        """The oldest waiting request and the next ones sampled alike, as long as every row fits the model:
        left padding makes each row as long as the longest prompt, and each runs to the largest budget."""
        with self._pending_lock:
            if not self._pending:
                return []
            batch = [self._pending[0]]
            for request in self._pending[1:]:
                if len(batch) == self._config.max_batch_size:
                    break
                if request.batch_key == batch[0].batch_key and self._fits([*batch, request]):
                    batch.append(request)
            self._pending = [r for r in self._pending if r not in batch]
            return batch

    def _fits(self, batch: list[_Request]) -> bool:
        limit = self._positions()
        longest = max(len(r.prompt) for r in batch) + max(r.params.max_new_tokens for r in batch)
        return limit is None or longest <= limit

    def _generate(self, batch: list[_Request]) -> None:
        assert self._tokenizer is not None and self._model is not None
        tokenizer, model = self._tokenizer, self._model
        rows = _Rows(batch, self._eos_ids(), tokenizer)
        try:
            inputs = tokenizer.pad(
                {"input_ids": [r.prompt for r in batch]}, padding_side="left", return_tensors="pt"
            ).to(model.device)
            with torch.inference_mode():
                cast(GenerationMixin, model).generate(
                    **inputs,
                    streamer=rows,
                    stopping_criteria=StoppingCriteriaList([rows]),
                    **self._generation_kwargs(batch[0].params, max(r.params.max_new_tokens for r in batch)),
                )
        except Exception as err:
            rows.fail(err)
        finally:
            rows.end()  # no caller may wait for ever: rows still open used the batch's whole budget

    def _generation_kwargs(self, params: SamplingParams, max_new_tokens: int) -> dict[str, Any]:
        assert self._tokenizer is not None
        pad = self._tokenizer.pad_token_id
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new_tokens,
            "pad_token_id": self._tokenizer.eos_token_id if pad is None else pad,
        }
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

    def _positions(self) -> int | None:
        """How many tokens, prompt and reply, the model holds (None: no stated limit)."""
        assert self._model is not None
        limit: int | None = getattr(self._model.config, "max_position_embeddings", None)
        return limit

    def _check_fits(self, prompt_tokens: int, max_new_tokens: int) -> None:
        limit = self._positions()
        if limit is not None and prompt_tokens + max_new_tokens > limit:
            raise InputError(
                f"the prompt has {prompt_tokens} tokens and the reply may take {max_new_tokens}, more than "
                f"the {limit} that model {self._config.model} holds: shorten the conversation or lower "
                "max_new_tokens"
            )


class _Rows(BaseStreamer, StoppingCriteria):
    """A batch's rows in ``generate``: the streamer that sends each row's tokens to its own text stream, and
    the stopping criterion that ends a row at its end token, its own token budget, a stop string (whose
    exact cut is done by ``cut_at_stop``) or its caller's cancel, without stopping the others.

    A row's last token is streamed whether ``generate`` asks its criteria before streaming a step's tokens
    (transformers 5.24) or after: the criterion records the step a row stops at, and the row's stream ends
    once that step's tokens have been passed on.
    """

    def __init__(self, batch: list[_Request], eos_ids: set[int], tokenizer: PreTrainedTokenizerBase) -> None:
        self.batch = batch
        self.eos_ids = eos_ids
        self.prompt_width: int | None = None
        self.streamed = 0  # steps whose tokens were passed on
        self.stops: list[tuple[int, Literal["stop", "length"]] | None] = [None] * len(batch)
        self.closed = [False] * len(batch)
        self.tokenizer = tokenizer

    def put(self, value: torch.Tensor) -> None:
        if self.prompt_width is None:  # generate streams the prompt batch first
            self.prompt_width = value.shape[-1]
            return
        self.streamed += 1
        for row, token in enumerate(value.tolist()):
            stop = self.stops[row]
            if stop is None or self.streamed <= stop[0]:
                self.batch[row].text.put(torch.tensor([token]))
        self._close_stopped()

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any
    ) -> torch.BoolTensor:
        assert self.prompt_width is not None
        step = input_ids.shape[1] - self.prompt_width  # tokens generated per row so far
        last = input_ids[:, -1].tolist()
        stopped = self.stop_strings(input_ids, scores).tolist() if self.stop_strings else [False] * len(last)
        for row, request in enumerate(self.batch):
            if self.stops[row] is not None:
                continue
            if last[row] in self.eos_ids or stopped[row] or request.cancel.is_set():
                self.stops[row] = (step, "stop")
            elif step >= request.params.max_new_tokens:
                self.stops[row] = (step, "length")
        self._close_stopped()
        done = torch.tensor([stop is not None for stop in self.stops], device=input_ids.device)
        return done  # type: ignore[return-value]

    @functools.cached_property
    def stop_strings(self) -> StopStringCriteria | None:
        """Built on first use, inside ``generate``, so that an error building it fails the batch's callers
        rather than leaving them waiting; the stop strings are the same for the whole batch (its key)."""
        stops = self.batch[0].params.stop
        return StopStringCriteria(self.tokenizer, list(stops)) if stops else None

    def fail(self, err: BaseException) -> None:
        for row, request in enumerate(self.batch):
            if not self.closed[row]:
                request.failure.append(err)

    def end(self) -> None:
        """Close every row still open: at the end of ``generate``, or after it failed."""
        for row in range(len(self.batch)):
            stop = self.stops[row]
            self._close(
                row, stop[1] if stop else "length", min(stop[0] if stop else self.streamed, self.streamed)
            )

    def _close_stopped(self) -> None:
        for row, stop in enumerate(self.stops):
            if stop is not None and stop[0] <= self.streamed:
                self._close(row, stop[1], stop[0])

    def _close(self, row: int, reason: Literal["stop", "length"], tokens: int) -> None:
        if self.closed[row]:
            return
        self.closed[row] = True
        request = self.batch[row]
        request.usage.completion_tokens = tokens
        request.usage.finish_reason = reason
        request.text.end()
        request.done.set()
