"""Per-token log-probabilities of completions under a model, given the prompt they are scored against.

The same completion is scored against different prompts: the hinted prompt q + h (what sampled it, the
ratio's denominator) and the plain prompt q (the policy, the numerator). Prompts are left-padded and
completions right-padded, so every completion starts at the same column and only the last T + 1 positions
need logits (``logits_to_keep``): the prompt's logits, most of a long prompt, are never materialised.
Position ids follow the attention mask, as in ``generate``.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from naa.rl.losses import token_entropy


@dataclass(frozen=True)
class Scored:
    logprobs: Tensor  # (B, T) log pi(o_t | prompt, o_<t); 0 on padding
    mask: Tensor  # (B, T) 1.0 on completion tokens
    entropy: Tensor | None  # (B, T) next-token entropy, when asked for


def pad_completions(completions: Sequence[Sequence[int]], device: torch.device) -> tuple[Tensor, Tensor]:
    """Completions right-padded to the longest: ids ``(B, T)`` (pad 0) and mask ``(B, T)`` float."""
    width = max(len(c) for c in completions)
    ids = torch.zeros(len(completions), width, dtype=torch.long, device=device)
    mask = torch.zeros(len(completions), width, dtype=torch.float32, device=device)
    for row, completion in enumerate(completions):
        ids[row, : len(completion)] = torch.tensor(list(completion), dtype=torch.long)
        mask[row, : len(completion)] = 1.0
    return ids, mask


def completion_logprobs(
    model: nn.Module,
    prompts: Sequence[Sequence[int]],
    completions: Sequence[Sequence[int]],
    temperature: float = 1.0,
    with_entropy: bool = False,
) -> Scored:
    """Score ``completions[b]`` after ``prompts[b]`` in one forward pass (gradients flow if enabled).

    Logits are divided by the sampling temperature, so the log-probs are those of the distribution the
    rollouts were drawn from (top-p truncation aside), as in TRL's GRPOTrainer.
    """
    device = next(model.parameters()).device
    prompt_width = max(len(p) for p in prompts)
    targets, mask = pad_completions(completions, device)  # (B, T), (B, T)
    width = targets.shape[1]
    input_ids = torch.zeros(len(prompts), prompt_width + width, dtype=torch.long, device=device)
    attention = torch.zeros_like(input_ids)
    for row, prompt in enumerate(prompts):
        input_ids[row, prompt_width - len(prompt) : prompt_width] = torch.tensor(
            list(prompt), dtype=torch.long
        )
        attention[row, prompt_width - len(prompt) : prompt_width] = 1
    input_ids[:, prompt_width:] = targets
    attention[:, prompt_width:] = mask.long()
    positions = (attention.cumsum(dim=1) - 1).clamp(min=0)  # (B, P + T)
    logits = model(
        input_ids=input_ids, attention_mask=attention, position_ids=positions, logits_to_keep=width + 1
    ).logits  # (B, T + 1, V): position P - 1 + t predicts completion token t
    picked = logits[:, :width].float() / temperature  # (B, T, V)
    logp = torch.log_softmax(picked, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (B, T)
    entropy = None
    if with_entropy:
        entropy = token_entropy(picked) * mask  # (B, T)
    return Scored(logprobs=logp * mask, mask=mask, entropy=entropy)
