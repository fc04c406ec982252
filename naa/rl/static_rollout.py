"""Rollouts from a static KV cache: one prefill, then one fixed-shape decode step per token.

``generate`` rebuilds masks, positions and the sampling chain from Python for every token, each op its own
kernel launch; for a small model the launches cost more than the math (MODELS.md "On a GPU"). Here the
cache, the mask and every per-sequence state are tensors allocated once per batch shape, and one step
(forward one token per sequence, temperature, top-p, the draw, end-of-sequence bookkeeping) only mutates
them, so on CUDA it can be captured as one CUDA graph (``torch.compile(mode="reduce-overhead")``) and
replayed. The host asks "all finished?" only every ``check_every`` steps: a sync per step would cost
what the graph saves.

    sampler = StaticCacheSampler(model, tokenizer, SamplingSettings(128, 1.0, 1.0, 512), compile=True)
    groups = sampler.sample([prompt_ids], n=8)      # one list of 8 Samples, as TransformersSampler
    sampler.stats                                   # prefill and decode seconds, decode steps
"""

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from naa.errors import ConfigError
from naa.generation.running_batch import cache_keyword
from naa.generation.sampling import draw_tokens
from naa.rl.rollout import (
    Sample,
    SamplingModel,
    SamplingSettings,
    eval_mode,
    in_chunks,
    left_pad,
    stop_and_pad_ids,
    to_groups,
)

_ATTENTION = ("sdpa", "eager")  # implementations that take a prepared 4-D mask as it is
_GROUPED = "naa_grouped_decode"  # its name in transformers' AttentionInterface


def grouped_decode_attention(
    module: nn.Module,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attention_mask: Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[Tensor, None]:
    """SDPA for one query token per sequence that reads each key/value head once (transformers' attention
    function signature).

    Under torch.compile, transformers' sdpa path copies every key/value head once per query head sharing it
    (``repeat_kv``: the whole cache, every layer, every step). Here the query heads of a group become that
    key/value head's query rows, ``(B, H, 1, D) -> (B, KVH, H / KVH, D)``, as transformers' ``pack_gqa``
    does outside compile. Anything else (prefill, no grouping) goes to transformers' sdpa.
    """
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    batch, heads, length, dim = query.shape
    kv_heads = key.shape[1]
    if length != 1 or heads == kv_heads:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    grouped = query.reshape(batch, kv_heads, heads // kv_heads, dim)  # head h reads kv head h // groups
    out = torch.nn.functional.scaled_dot_product_attention(
        grouped, key, value, attn_mask=attention_mask, scale=scaling
    )  # (B, KVH, H / KVH, D); the (B, 1, 1, L) mask is shared by every head
    return out.reshape(batch, heads, 1, dim).transpose(1, 2), None  # (B, 1, H, D) as the layer expects


@contextlib.contextmanager
def _decode_attention(config: Any, grouped: bool) -> Iterator[None]:
    """With ``grouped``, the model attends with ``grouped_decode_attention`` inside the block; its own
    implementation is back for everything else (the prefill, the trainer's forward passes)."""
    if not grouped:
        yield
        return
    from transformers import AttentionInterface

    AttentionInterface.register(_GROUPED, grouped_decode_attention)  # global and idempotent
    before = config._attn_implementation
    config._attn_implementation = _GROUPED
    try:
        yield
    finally:
        config._attn_implementation = before


@dataclass
class RolloutStats:
    """Where the last ``sample`` call spent its time, summed over its batches (GPU work included)."""

    prefill_s: float = 0.0
    decode_s: float = 0.0
    decode_steps: int = 0  # forward passes after the prefill; < max_new_tokens - 1 when all stopped early
    sequences: int = 0  # rows run, padding rows included


@dataclass
class _Buffers:
    """Device state of one batch shape, kept while the shape repeats so a CUDA graph keeps its addresses."""

    cache: Any  # transformers StaticCache, (B, L) per layer
    key_valid: Tensor  # (B, L) bool: prompt columns holding a real token; the step adds generated ones
    prompt_lens: Tensor  # (B,) real prompt tokens per row
    tokens: Tensor  # (B,) last drawn token: the next step's input
    finished: Tensor  # (B,) bool: drew an end token (or is a padding row)
    column: Tensor  # () cache column the next step writes
    generated: Tensor  # (B, T) drawn tokens, pad after a row finished

    @property
    def shape(self) -> tuple[int, int, int]:
        rows, total = self.key_valid.shape
        return rows, total - self.generated.shape[1], self.generated.shape[1]


def _attention_bias(allowed: Tensor, float_dtype: torch.dtype | None) -> Tensor:
    """A ``(B, 1, Q, L)`` mask as the attention implementation takes it: bool for sdpa, additive for eager."""
    if float_dtype is None:
        return allowed
    return torch.zeros(allowed.shape, dtype=float_dtype, device=allowed.device).masked_fill(
        ~allowed, torch.finfo(float_dtype).min
    )


def _decode_step(
    net: nn.Module,
    cache: Any,
    cache_keyword: str,
    b: tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor],
    eos: Tensor,
    settings: tuple[float, float, int],
    float_mask: torch.dtype | None,
) -> None:
    """Feed each row's last token, draw the next one, record it; every shape is fixed, every state tensor
    is updated in place (nothing comes back, nothing is synced), so the step replays as one CUDA graph."""
    key_valid, prompt_lens, tokens, finished, column, generated = b
    temperature, top_p, pad_id = settings
    width = key_valid.shape[1] - generated.shape[1]  # prompt columns: a constant of the shape
    columns = torch.arange(key_valid.shape[1], device=key_valid.device)
    allowed = key_valid | ((columns >= width) & (columns <= column))  # (B, L) prompt + generated so far
    out = net(
        input_ids=tokens[:, None],
        attention_mask=_attention_bias(allowed[:, None, None, :], float_mask),
        position_ids=(prompt_lens + (column - width))[:, None],  # left padding: positions count real tokens
        use_cache=True,
        **{cache_keyword: cache},
    )
    drawn = torch.where(finished, pad_id, draw_tokens(out.logits[:, -1], temperature, top_p))  # (B,)
    generated.index_copy_(1, (column - width + 1).view(1), drawn[:, None])
    finished.logical_or_((drawn[:, None] == eos[None, :]).any(dim=-1))
    tokens.copy_(drawn)
    column.add_(1)


class StaticCacheSampler:
    """Sampling with a static KV cache and one fixed-shape decode step, compiled to CUDA graphs on request.

    A LoRA policy samples from a merged copy of itself (``SamplingModel``), as ``TransformersSampler`` does.

    sampler = StaticCacheSampler(model, tokenizer, SamplingSettings(128, 1.0, 0.9, 512), compile=True)
    groups = sampler.sample([prompt_ids], n=8)      # n Samples per prompt, in prompt order
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any,
        settings: SamplingSettings,
        *,
        compile: bool | None = None,
        bucket_shapes: bool | None = None,
        prompt_width: int = 0,
        check_every: int = 8,
        grouped_attention: bool = True,
    ) -> None:
        """
        Args:
            compile: wrap the decode step in ``torch.compile(mode="reduce-overhead", fullgraph=True)``
                (CUDA graphs on a GPU); None compiles when the model is on a CUDA device. The first call
                compiles (about a minute on an H200); the first other batch shape compiles again, for
                dynamic shapes, and every shape records its own CUDA graph: hence ``bucket_shapes``.
            bucket_shapes: lay every batch out at ``settings.batch_size`` rows (padding rows are finished
                from the start) and a width rounded up to a multiple of 64, so varying batches reuse one or
                a few compiled shapes; on by default when compiling.
            prompt_width: with ``bucket_shapes``, the narrowest width to lay out: the longest prompt a run
                will pass, so that all its batches share one shape (a trainer knows it from its tasks).
            check_every: decode steps between the host's "all finished?" checks.
            grouped_attention: decode with ``grouped_decode_attention`` where the model uses sdpa; False
                keeps transformers' sdpa (the baseline the benchmark compares against).
        """
        if check_every < 1:
            raise ValueError("check_every must be at least 1")
        self.sampling = SamplingModel(model)
        self.tokenizer = tokenizer
        self.settings = settings
        on_gpu = next(model.parameters()).device.type == "cuda"
        self.compile = on_gpu if compile is None else compile
        self.bucket_shapes = self.compile if bucket_shapes is None else bucket_shapes
        self.prompt_width = prompt_width
        self.check_every = check_every
        self.grouped_attention = grouped_attention
        self.stats = RolloutStats()
        self._step: Callable[..., None] = (
            torch.compile(_decode_step, mode="reduce-overhead", fullgraph=True)
            if self.compile
            else _decode_step
        )
        self._bind(self.sampling.model)
        self.eos_ids, self.pad_id = stop_and_pad_ids(model, tokenizer)

    def sync_weights(self, model: nn.Module) -> None:
        """A merged copy takes the new weights in place; a model without adapters is run as it is."""
        self.sampling.sync(model)
        if self.sampling.model is not self.model:
            self._bind(self.sampling.model)

    def _bind(self, model: nn.Module) -> None:
        config: Any = model.config  # the transformers config: sizes the cache
        attention = getattr(config, "_attn_implementation", "sdpa")
        if attention not in _ATTENTION:
            raise ConfigError(
                f"rollout_backend static needs attn_implementation sdpa or eager, not {attention}; "
                "load the model with one of those or use rollout_backend transformers"
            )
        self.model, self._config = model, config
        self._float_mask = model.get_input_embeddings().weight.dtype if attention == "eager" else None  # type: ignore[operator]
        self._grouped = attention == "sdpa" and self.grouped_attention
        self._cache_keyword = cache_keyword(model)
        self._buffers: _Buffers | None = None

    @torch.no_grad()
    def sample(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[Sample]]:
        self.stats = RolloutStats()
        return in_chunks(prompts, n, self.settings.batch_size, self._generate)

    @torch.no_grad()
    def generate_ids(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[int]]:
        """The drawn ids of every row (``n`` per prompt, prompt-major, ``max_new_tokens`` each, pad after an
        end token) without cutting or decoding: what a benchmark times against ``generate``."""
        self.stats = RolloutStats()
        rows = [list(p) for p in prompts for _ in range(n)]
        with eval_mode(self.model):
            return self._run(rows)

    def _generate(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[Sample]]:
        rows = [list(p) for p in prompts for _ in range(n)]  # prompt-major, as num_return_sequences
        with eval_mode(self.model):
            return to_groups(self._run(rows), n, self.eos_ids, self.tokenizer)

    def _run(self, rows: list[list[int]]) -> list[list[int]]:
        device = next(self.model.parameters()).device
        width, padded = max(len(r) for r in rows), len(rows)
        if self.bucket_shapes:
            width = -(-max(width, self.prompt_width) // 64) * 64
            padded = max(padded, self.settings.batch_size)
        input_ids, attention = left_pad(rows + rows[:1] * (padded - len(rows)), self.pad_id, device, width)
        b = self._buffers_for(padded, width, device)
        eos = torch.tensor(sorted(self.eos_ids) or [-1], device=device)  # -1: no end token, run to the end
        start = time.perf_counter()
        self._prefill(b, input_ids, attention.bool(), len(rows), eos)
        _sync(device)
        decode_start = time.perf_counter()
        self.stats.prefill_s += decode_start - start
        self.stats.decode_steps += self._decode(b, eos, device)
        generated = b.generated[: len(rows)].tolist()  # the one copy to the host (and the sync)
        self.stats.decode_s += time.perf_counter() - decode_start
        self.stats.sequences += padded
        return generated

    def _buffers_for(self, rows: int, width: int, device: torch.device) -> _Buffers:
        new_tokens = self.settings.max_new_tokens
        if self._buffers is not None and self._buffers.shape == (rows, width, new_tokens):
            self._buffers.cache.reset()
            return self._buffers
        from transformers import StaticCache

        self._buffers = None  # free the old cache before allocating the new one
        b = _Buffers(
            cache=StaticCache(config=self._config, max_cache_len=width + new_tokens),
            key_valid=torch.zeros(rows, width + new_tokens, dtype=torch.bool, device=device),
            prompt_lens=torch.zeros(rows, dtype=torch.long, device=device),
            tokens=torch.zeros(rows, dtype=torch.long, device=device),
            finished=torch.zeros(rows, dtype=torch.bool, device=device),
            column=torch.zeros((), dtype=torch.long, device=device),
            generated=torch.zeros(rows, new_tokens, dtype=torch.long, device=device),
        )
        if self.compile:  # mutated inside the graph: their addresses must stay what the graph recorded
            for tensor in (b.key_valid, b.prompt_lens, b.tokens, b.finished, b.column, b.generated):
                torch._dynamo.mark_static_address(tensor)
        self._buffers = b
        return b

    def _prefill(self, b: _Buffers, input_ids: Tensor, valid: Tensor, real_rows: int, eos: Tensor) -> None:
        """Run the prompts into the cache and draw each row's first token (eager: one call per batch)."""
        rows, width = input_ids.shape
        b.key_valid.zero_()
        b.key_valid[:, :width] = valid
        b.prompt_lens.copy_(valid.sum(dim=-1))
        query = torch.arange(width, device=valid.device)[:, None]  # (W, 1)
        key = torch.arange(b.key_valid.shape[1], device=valid.device)[None, :]  # (1, L)
        # Causal over real tokens; a padding query also sees itself, so no row is all masked (NaN in sdpa).
        allowed = (b.key_valid[:, None, :] & (key <= query)) | (key == query)  # (B, W, L)
        out = self.model(
            input_ids=input_ids,
            attention_mask=_attention_bias(allowed[:, None], self._float_mask),
            position_ids=(valid.long().cumsum(dim=-1) - 1).clamp(min=0),
            use_cache=True,
            logits_to_keep=1,  # (B, 1, V): the full (B, W, V) logits would cost gigabytes at 512 rows
            **{self._cache_keyword: b.cache},
        )
        padding_row = torch.arange(rows, device=valid.device) >= real_rows
        first = draw_tokens(out.logits[:, -1], self.settings.temperature, self.settings.top_p)
        first = torch.where(padding_row, self.pad_id, first)
        b.finished.copy_(padding_row | (first[:, None] == eos[None, :]).any(dim=-1))
        b.tokens.copy_(first)
        b.generated.fill_(self.pad_id)
        b.generated[:, 0] = first
        b.column.fill_(width)

    def _decode(self, b: _Buffers, eos: Tensor, device: torch.device) -> int:
        s = self.settings
        state = (b.key_valid, b.prompt_lens, b.tokens, b.finished, b.column, b.generated)
        graphs = self.compile and device.type == "cuda"
        steps = 0
        with _decode_attention(self._config, self._grouped):
            for step in range(1, s.max_new_tokens):
                if (step - 1) % self.check_every == 0 and bool(b.finished.all()):
                    break
                if graphs:
                    torch.compiler.cudagraph_mark_step_begin()  # the last replay's memory may be reused
                self._step(
                    self.model,
                    b.cache,
                    self._cache_keyword,
                    state,
                    eos,
                    (s.temperature, s.top_p, self.pad_id),
                    self._float_mask,
                )
                steps += 1
        return steps


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
