"""The embedded generator's decode loop: chats join and leave one running batch between decode steps.

``generate`` decodes a fixed batch, so a chat arriving while it runs would wait for the whole batch to end,
up to a reply's length (tens of seconds on CPU). Here every step feeds each row its newest token; between
steps, newcomers' prompts are read in one left-padded forward pass, their first tokens are drawn and sent at
once, and their KV cache joins the batch's (the shorter one padded on the left); rows that ended leave it.
Positions are counted per row, so padding costs compute but never a row's positions.

Only full-attention caches (``DynamicLayer``) are joined: a sliding-window layer keeps just its last
window of keys, which padding would shift. For such models newcomers wait until the batch has ended.

Sampling is what the request asks (temperature, top-p, drawn by ``naa.generation.sampling``); a model's
own ``generation_config`` extras (a repetition penalty, say) do not apply.
"""

import inspect
import threading
from dataclasses import dataclass, field
from typing import Literal, cast

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence
from transformers import (
    DynamicCache,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StopStringCriteria,
    TextIteratorStreamer,
)
from transformers.cache_utils import DynamicLayer

from naa.generation.base import SamplingParams
from naa.generation.sampling import draw_tokens
from naa.generation.streaming import StreamUsage


@dataclass(eq=False)  # a request is itself, whatever its fields
class Request:
    """One chat's reply: its prompt, settings, the text stream its caller reads, and how it ended."""

    prompt: list[int]
    params: SamplingParams
    text: TextIteratorStreamer
    usage: StreamUsage
    cancel: threading.Event = field(default_factory=threading.Event)  # the caller stopped reading
    ended: bool = False  # set by the decoding thread only
    failure: list[BaseException] = field(default_factory=list)

    def finish(self, reason: Literal["stop", "length"]) -> None:
        """End the caller's text stream; written before it ends, the end reason and a failure are there
        when the caller has read the whole stream."""
        if self.ended:
            return
        if not self.cancel.is_set():  # a caller that stopped reading has given its own reason (a stop string)
            self.usage.finish_reason = reason
        self.ended = True
        self.text.end()

    def fail(self, err: BaseException) -> None:
        if not self.ended:
            self.failure.append(err)
            self.finish("stop")


@dataclass(eq=False)
class _Row:
    request: Request
    tokens: list[int] = field(default_factory=list)  # drawn so far, the last not yet in the cache


class RunningBatch:
    """The rows being decoded: one KV cache, left-padded, the attention mask over it, each row's newest token.

    Example (one thread drives it; ``Request`` objects come from the callers):
        batch = RunningBatch(model, tokenizer, eos_ids)
        batch.admit(requests[: batch.room(8)])
        while batch.rows:
            batch.step()
    """

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, eos_ids: set[int]) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.eos_ids = eos_ids
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else 0)
        self.joinable = all(type(layer) is DynamicLayer for layer in DynamicCache(config=model.config).layers)
        self.keeps_last_logits = "logits_to_keep" in inspect.signature(model.forward).parameters
        self.cache_keyword = cache_keyword(model)
        self.rows: list[_Row] = []
        self._cache: DynamicCache | None = None
        self._mask: Tensor | None = None  # (B, T): 1 where the cache holds a row's token, 0 for padding
        self._stop_criteria: dict[tuple[str, ...], StopStringCriteria] = {}  # ~0.3 s to build one

    @property
    def requests(self) -> list[Request]:
        return [row.request for row in self.rows]

    def room(self, max_rows: int) -> int:
        """How many newcomers may join now."""
        if self.rows and not self.joinable:
            return 0
        return max(0, max_rows - len(self.rows))

    def admit(self, requests: list[Request]) -> None:
        """Read the newcomers' prompts, send their first tokens and add them to the batch."""
        device = self.model.device
        prompts = [torch.tensor(r.prompt) for r in requests]
        ids = pad_sequence(prompts, batch_first=True, padding_value=self.pad_id, padding_side="left")
        mask = pad_sequence([torch.ones_like(p) for p in prompts], batch_first=True, padding_side="left")
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)  # as generate counts them
        cache = DynamicCache(config=self.model.config)
        logits = self._forward(ids, mask, positions, cache)
        rows = [_Row(r) for r in requests]
        first = self._draw(logits, rows)
        start = len(self.rows)
        self._join(cache, mask, rows)
        self._record(first, start)

    def step(self) -> None:
        """One token for every row: rows whose caller left end first."""
        self._end({i: "stop" for i, row in enumerate(self.rows) if row.request.cancel.is_set()})
        if not self.rows:
            return
        assert self._cache is not None and self._mask is not None
        mask = F.pad(self._mask, (0, 1), value=1)
        positions = mask.sum(-1, keepdim=True) - 1
        newest = torch.tensor([row.tokens[-1] for row in self.rows], device=mask.device)[:, None]
        logits = self._forward(newest, mask, positions, self._cache)
        self._mask = mask
        self._record(self._draw(logits, self.rows), 0)

    def fail(self, err: BaseException) -> None:
        """End every row with ``err`` and start empty: a batch half-updated by a failed step is not reused."""
        for request in self.requests:
            request.fail(err)
        self._reset()

    def _forward(self, ids: Tensor, mask: Tensor, positions: Tensor, cache: DynamicCache) -> Tensor:
        extra: dict[str, object] = {self.cache_keyword: cache}
        if self.keeps_last_logits:
            extra["logits_to_keep"] = 1
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, **extra)
        logits: Tensor = out.logits[:, -1].float()
        return logits

    def _draw(self, logits: Tensor, rows: list[_Row]) -> list[int]:
        """Each row's next token: greedy rows the most likely, sampled rows drawn by their own settings."""
        tokens = logits.argmax(dim=-1)
        sampled: dict[tuple[float, float], list[int]] = {}
        for i, row in enumerate(rows):
            params = row.request.params
            if params.temperature > 0:
                sampled.setdefault((params.temperature, params.top_p), []).append(i)
        for (temperature, top_p), picked in sampled.items():
            index = torch.tensor(picked, device=logits.device)
            tokens[index] = draw_tokens(logits[index], temperature, top_p)
        drawn: list[int] = tokens.tolist()
        return drawn

    def _join(self, cache: DynamicCache, mask: Tensor, rows: list[_Row]) -> None:
        if self._cache is None or self._mask is None:
            self._cache, self._mask = cache, mask
        else:
            width = max(self._mask.shape[1], mask.shape[1])
            for (mine, keys, values), (_, new_keys, new_values) in zip(
                _filled(self._cache), _filled(cache), strict=True
            ):
                mine.keys = torch.cat([_pad_keys(keys, width), _pad_keys(new_keys, width)])
                mine.values = torch.cat([_pad_keys(values, width), _pad_keys(new_values, width)])
            self._mask = torch.cat([_pad_mask(self._mask, width), _pad_mask(mask, width)])
        self.rows += rows

    def _record(self, tokens: list[int], start: int) -> None:
        """Send the rows from ``start`` on their tokens, then end those that reached an end token, a stop
        string or their budget."""
        ended: dict[int, Literal["stop", "length"]] = {}
        for i, (row, token) in enumerate(zip(self.rows[start:], tokens, strict=True), start=start):
            row.tokens.append(token)
            row.request.usage.completion_tokens = len(row.tokens)  # also right for a caller that left
            row.request.text.put(torch.tensor([token]))
            if token in self.eos_ids or self._at_stop_string(row):
                ended[i] = "stop"
            elif len(row.tokens) >= row.request.params.max_new_tokens:
                ended[i] = "length"
        self._end(ended)

    def _at_stop_string(self, row: _Row) -> bool:
        """Ends generation at a stop string; the exact cut in the text is ``cut_at_stop``'s."""
        stop = row.request.params.stop
        if not stop:
            return False
        if stop not in self._stop_criteria:
            self._stop_criteria[stop] = StopStringCriteria(self.tokenizer, list(stop))
        return bool(self._stop_criteria[stop](torch.tensor([row.tokens]), None).item())

    def _end(self, ended: dict[int, Literal["stop", "length"]]) -> None:
        if not ended:
            return
        for i, reason in ended.items():
            self.rows[i].request.finish(reason)
        keep = [i for i in range(len(self.rows)) if i not in ended]
        if not keep:
            self._reset()
            return
        assert self._cache is not None and self._mask is not None
        self.rows = [self.rows[i] for i in keep]
        index = torch.tensor(keep, device=self._mask.device)
        self._cache.batch_select_indices(index)
        self._mask = self._mask[index]
        if self.joinable:  # columns that were padding for every row left are dropped
            start = int(self._mask.any(dim=0).int().argmax())
            if start:
                for layer, keys, values in _filled(self._cache):
                    layer.keys, layer.values = keys[..., start:, :], values[..., start:, :]
                self._mask = self._mask[:, start:]

    def _reset(self) -> None:
        self.rows, self._cache, self._mask = [], None, None


def cache_keyword(model: torch.nn.Module) -> str:
    """The forward argument that takes the KV cache: ``cache`` in transformers 5.24, ``past_key_values`` in
    earlier 5.x releases (5.17 on the GPU machine), still accepted by 5.24 with a deprecation warning."""
    return "cache" if "cache" in inspect.signature(type(model).forward).parameters else "past_key_values"


def _filled(cache: DynamicCache) -> list[tuple[DynamicLayer, Tensor, Tensor]]:
    """A joinable cache's layers with their keys and values; a layer that shares another's keys holds none."""
    filled = []
    for layer in cast(list[DynamicLayer], cache.layers):
        if layer.is_initialized:
            assert layer.keys is not None and layer.values is not None
            filled.append((layer, layer.keys, layer.values))
    return filled


def _pad_keys(keys: Tensor, width: int) -> Tensor:
    """``(B, heads, T, head_dim)`` padded on the left to ``width`` positions."""
    return F.pad(keys, (0, 0, width - keys.shape[-2], 0))


def _pad_mask(mask: Tensor, width: int) -> Tensor:
    return F.pad(mask, (width - mask.shape[-1], 0))
