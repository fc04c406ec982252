"""The Guide-GRPO loss as small pure functions of tensors (DESIGN.md "Guide-GRPO", steps 4-6).

Paper: "Adaptive Guidance Accelerates Reinforcement Learning of Reasoning Models", arXiv 2506.13923.
Shapes: B completions, T completion tokens (right-padded); ``mask`` is 1 on real tokens, 0 on padding.
No function here knows about models, devices or configs: the trainer computes log-probs and passes them in.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

Aggregation = Literal["seq_mean_token_mean", "token_mean", "seq_sum_norm"]
GammaMode = Literal["quantile", "constant"]


def importance_ratios(policy_logprobs: Tensor, sampling_logprobs: Tensor) -> Tensor:
    """Per-token ratio rho_t = pi_theta(o_t | q, o_<t) / pi_old(o_t | c, o_<t).

    The numerator is always the policy WITHOUT the hint; the denominator is the context the sample was
    drawn from (c = q, or q + h for a guided sample), so a guided token's ratio measures how far the
    unhinted policy is from the hinted one that wrote it (arXiv 2506.13923, section 3).

    Args:
        policy_logprobs: ``(B, T)`` log pi_theta on the unhinted prompt, with gradient.
        sampling_logprobs: ``(B, T)`` log pi_old on the sampling context, detached.

    Returns:
        ``(B, T)`` ratios.
    """
    return torch.exp(policy_logprobs - sampling_logprobs)  # (B, T)


def clipped_token_loss(ratios: Tensor, advantages: Tensor, eps: float) -> Tensor:
    """PPO clipped surrogate, -min(rho A, clip(rho, 1-eps, 1+eps) A), for on-policy tokens.

    PPO (arXiv 1707.06347, eq. 7).

    Args:
        ratios: ``(B, T)``.
        advantages: ``(B,)`` one advantage per completion, shared by its tokens.

    Returns:
        ``(B, T)`` per-token loss.
    """
    adv = advantages.unsqueeze(1)  # (B, 1)
    unclipped = ratios * adv  # (B, T)
    clipped = torch.clamp(ratios, 1.0 - eps, 1.0 + eps) * adv  # (B, T)
    return -torch.minimum(unclipped, clipped)  # (B, T)


def shaped_token_loss(ratios: Tensor, advantages: Tensor, gamma: Tensor | float) -> Tensor:
    """Policy shaping without clipping, -(rho / (rho + gamma)) A, for guided (hinted) tokens.

    Guide-GRPO (arXiv 2506.13923, eq. 6): a guided token's ratio can be far from 1 from the first step,
    so clipping would zero its gradient; rho/(rho+gamma) instead bounds the step smoothly.

    Args:
        ratios: ``(B, T)``.
        advantages: ``(B,)``.
        gamma: scalar, detached (see ``shaping_gamma``).

    Returns:
        ``(B, T)`` per-token loss.
    """
    return -(ratios / (ratios + gamma)) * advantages.unsqueeze(1)  # (B, T)


def guide_token_loss(
    ratios: Tensor, advantages: Tensor, guided: Tensor, eps: float, gamma: Tensor | float
) -> Tensor:
    """Per-token loss of a mixed batch: PPO clip on on-policy rows, shaping on guided rows.

    Args:
        ratios: ``(B, T)``.
        advantages: ``(B,)``.
        guided: ``(B,)`` bool, True where the completion was sampled with the hint.

    Returns:
        ``(B, T)`` per-token loss.
    """
    on_policy = clipped_token_loss(ratios, advantages, eps)  # (B, T)
    shaped = shaped_token_loss(ratios, advantages, gamma)  # (B, T)
    return torch.where(guided.unsqueeze(1), shaped, on_policy)  # (B, T)


def shaping_gamma(
    ratios: Tensor,
    mask: Tensor,
    guided: Tensor,
    mode: GammaMode,
    constant: float,
    quantile: float = 0.9,
    floor: float = 1e-4,
) -> Tensor:
    """Gamma of policy shaping: the 0.9-quantile of the batch's guided ratios, or a constant.

    arXiv 2506.13923, section 3: gamma tracks the scale of the guided ratios so rho/(rho+gamma) stays
    informative; it is detached (no gradient through gamma) and floored so it never reaches 0.

    Args:
        ratios: ``(B, T)`` ratios of the whole batch (gather across processes before calling).
        mask: ``(B, T)``.
        guided: ``(B,)`` bool.

    Returns:
        0-d tensor.
    """
    if mode == "constant":
        return torch.tensor(constant, dtype=ratios.dtype, device=ratios.device)
    selected = ratios.detach()[guided.unsqueeze(1) & mask.bool()]  # (n_guided_tokens,)
    if selected.numel() == 0:
        return torch.tensor(floor, dtype=ratios.dtype, device=ratios.device)
    return torch.quantile(selected.float(), quantile).to(ratios.dtype).clamp_min(floor)


@dataclass(frozen=True)
class BatchSize:
    """Normalisers of an aggregation, taken from the whole batch so micro-batch losses add up to it.

    ``sequences`` and ``tokens`` count the batch's completions and real tokens, over every process when
    several train; ``max_len`` is the constant of Dr. GRPO (the generation budget, max_new_tokens).
    """

    sequences: int
    tokens: int
    max_len: int

    @classmethod
    def of(cls, mask: Tensor, max_len: int) -> "BatchSize":
        return cls(sequences=mask.shape[0], tokens=int(mask.sum().item()), max_len=max_len)


def seq_mean_token_mean(loss: Tensor, mask: Tensor, size: BatchSize) -> Tensor:
    """Mean over a sequence's tokens, then mean over sequences: GRPO as published (arXiv 2402.03300)."""
    per_seq = (loss * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1)  # (B,)
    return per_seq.sum() / size.sequences


def token_mean(loss: Tensor, mask: Tensor, size: BatchSize) -> Tensor:
    """Mean over every token of the batch, so long replies weigh more: DAPO (arXiv 2503.14476, eq. 8)."""
    return (loss * mask).sum() / max(size.tokens, 1)


def seq_sum_norm(loss: Tensor, mask: Tensor, size: BatchSize) -> Tensor:
    """Token sums divided by a constant (sequences x max_len), no length bias: Dr. GRPO (arXiv 2503.20783)."""
    return (loss * mask).sum() / (size.sequences * size.max_len)


AggregateFn = Callable[[Tensor, Tensor, BatchSize], Tensor]

AGGREGATIONS: dict[Aggregation, AggregateFn] = {
    "seq_mean_token_mean": seq_mean_token_mean,
    "token_mean": token_mean,
    "seq_sum_norm": seq_sum_norm,
}


def k3_kl(policy_logprobs: Tensor, reference_logprobs: Tensor) -> Tensor:
    """Per-token KL(pi_theta || pi_ref) estimate k3 = exp(d) - d - 1 with d = log pi_ref - log pi_theta.

    Unbiased and always >= 0 (J. Schulman, "Approximating KL divergence", http://joschu.net/blog/kl-approx.html);
    the estimator GRPO uses (arXiv 2402.03300, eq. 4). ``(B, T)`` -> ``(B, T)``.
    """
    diff = reference_logprobs - policy_logprobs  # (B, T)
    return torch.exp(diff) - diff - 1.0  # (B, T)


def token_entropy(logits: Tensor) -> Tensor:
    """Entropy of the next-token distribution, H = -sum_v p_v log p_v. ``(B, T, V)`` -> ``(B, T)``."""
    logp = torch.log_softmax(logits.float(), dim=-1)  # (B, T, V)
    return -(logp.exp() * logp).sum(dim=-1)  # (B, T)


def regularised_token_loss(
    policy_loss: Tensor,
    kl: Tensor | None = None,
    kl_coef: float = 0.0,
    entropy: Tensor | None = None,
    entropy_coef: float = 0.0,
) -> Tensor:
    """Per-token loss plus optional penalties (step 6): l + beta * KL - alpha * H, all ``(B, T)``."""
    total = policy_loss
    if kl is not None and kl_coef:
        total = total + kl_coef * kl
    if entropy is not None and entropy_coef:
        total = total - entropy_coef * entropy
    return total
