"""Drawing the next token: temperature, the top-p nucleus and the draw, shared by the embedded generator
and the RL samplers so that a reply and a rollout are sampled by one rule."""

import torch
from torch import Tensor

# The nucleus search: each pass tries 15 thresholds, so it narrows the range 16-fold; 8 passes cover the
# 2**30 + 1 float32 bit patterns of [0, 1] (16**8 = 2**32).
_PROBES = 15
_PASSES = 8


def nucleus(probs: Tensor, top_p: float) -> Tensor:
    """Mask ``(B, V)`` of the top-p nucleus of ``probs`` (Holtzman et al. 2019, arXiv 1904.09751).

    A token stays when the probability mass of the tokens ranked above it is below ``top_p``: the smallest
    set whose mass reaches ``top_p``, the most likely token always kept (transformers' TopPLogitsWarper rule).
    Compiled, the nucleus is searched for (``_nucleus_by_search``): on an H200 the vocabulary sort, its
    scatter back and the prefix sum took 2.3 ms of a 6.4 ms decode step (benchmarks/results/). Eager, a sort
    is faster: there each of the search's 120 masked sums is its own pass over the vocabulary, where
    Inductor fuses a pass's 15 into one read.
    """
    if torch.compiler.is_compiling():
        return _nucleus_by_search(probs, top_p)
    return nucleus_by_sort(probs, top_p)


def nucleus_by_sort(probs: Tensor, top_p: float) -> Tensor:
    """The nucleus by a vocabulary sort and a prefix sum, as transformers' TopPLogitsWarper finds it."""
    ranked, order = probs.sort(dim=-1, descending=True)  # (B, V)
    mass_above = ranked.cumsum(dim=-1) - ranked  # (B, V) mass of the higher-ranked tokens
    return torch.zeros_like(mass_above, dtype=torch.bool).scatter(-1, order, mass_above < top_p)


def _nucleus_by_search(probs: Tensor, top_p: float) -> Tensor:
    """The nucleus without a sort: the same rule, ties at its edge all kept rather than cut by sort order.

    The mass of the tokens more likely than x, f(x) = sum(p[p > x]), only falls as x grows, so the nucleus
    is {p >= x*} for the smallest x with f(x) < top_p, which is some token's probability. Non-negative
    float32 values order as their int32 bit patterns do, so x* is found exactly by an integer search:
    each pass evaluates f at ``_PROBES`` thresholds between the last bounds. Fixed passes, fixed shapes
    and no host sync: it stays inside the CUDA graph. Its masked sums in vocabulary order are also closer
    to exact than a float32 prefix sum over 49k sorted values, which drifts by about 2e-6.
    """
    bits = probs.view(torch.int32)  # (B, V)
    lo = torch.full_like(bits[:, :1], -1, dtype=torch.int64)  # f(-1) = 1: never below top_p
    hi = bits.amax(dim=-1, keepdim=True).to(torch.int64)  # f(max p) = 0: always below
    steps = torch.arange(1, _PROBES + 1, device=probs.device)
    for _ in range(_PASSES):
        probes = (lo + ((hi - lo) * steps + _PROBES) // (_PROBES + 1)).to(torch.int32)  # (B, K), rising
        mass = torch.stack(
            [probs.masked_fill(bits <= probes[:, k : k + 1], 0.0).sum(dim=-1) for k in range(_PROBES)], dim=-1
        )
        below = mass < top_p  # (B, K): False up to x*, True from it
        hi = torch.where(below, probes, hi).amin(dim=-1, keepdim=True)
        lo = torch.where(below, lo, probes).amax(dim=-1, keepdim=True)
    return bits >= hi


def draw_tokens(logits: Tensor, temperature: float, top_p: float) -> Tensor:
    """One token id per row of ``logits`` ``(B, V)``, drawn from softmax(logits / temperature) cut to top-p.

    The draw is argmax(p / E) with E ~ Exponential(1) per token (the exponential race, equivalent to the
    Gumbel-max trick; gpt-fast and vLLM sample this way): it has fixed shapes and no host sync, so it can
    live inside a CUDA graph, unlike ``torch.multinomial``. The argmax needs no renormalising after the cut.
    """
    probs = (logits.float() / temperature).softmax(dim=-1)  # (B, V)
    if top_p < 1.0:  # a Python constant: top-p 1 skips the nucleus entirely
        probs = probs.masked_fill(~nucleus(probs, top_p), 0.0)
    race = torch.empty_like(probs).exponential_(1.0)  # (B, V)
    race.clamp_min_(torch.finfo(probs.dtype).tiny)  # CPU's exponential_ can return 0: no p / 0
    return (probs / race).argmax(dim=-1)  # (B,)
