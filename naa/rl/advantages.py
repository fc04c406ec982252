"""Group statistics of Guide-GRPO: which groups carry signal, which need a hint, and their advantages.

Pure functions of reward tensors (DESIGN.md "Guide-GRPO", steps 1-3; arXiv 2506.13923). A group is the
G rewards of one prompt's completions, one row of a ``(N, G)`` tensor.
"""

import torch
from torch import Tensor


def group_advantages(rewards: Tensor, eps: float = 1e-6) -> Tensor:
    """Group-normalised advantages, A_i = (r_i - mean(r)) / (std(r) + eps), within each row.

    GRPO (DeepSeekMath, arXiv 2402.03300, eq. 3). ``std`` is the population standard deviation
    (divide by G), so a group [1, 0] gives A = [+1, -1] up to eps. A hinted group is normalised
    against itself only.

    Args:
        rewards: ``(N, G)`` rewards, one row per prompt.
        eps: keeps an all-equal group (std 0) finite; such groups get A = 0.

    Returns:
        ``(N, G)`` advantages.
    """
    mean = rewards.mean(dim=1, keepdim=True)  # (N, 1)
    std = rewards.std(dim=1, keepdim=True, correction=0)  # (N, 1)
    return (rewards - mean) / (std + eps)  # (N, G)


def informative_groups(rewards: Tensor) -> Tensor:
    """Which groups have rewards that are not all equal (DESIGN.md step 2, "filtering").

    An all-equal group has zero advantage everywhere, so its gradient is zero: dropping it and drawing
    another prompt keeps the batch full of signal (DAPO's dynamic sampling, arXiv 2503.14476).

    Args:
        rewards: ``(N, G)``.

    Returns:
        ``(N,)`` bool, True where the group is kept.
    """
    return (rewards != rewards[:, :1]).any(dim=1)  # (N,)


def failed_groups(rewards: Tensor, success_threshold: float) -> Tensor:
    """Which groups have no correct completion, so Guide-GRPO resamples them with the hint (step 2).

    A completion is correct when its reward reaches ``success_threshold`` (1.0 for 0/1 verifiers; a
    graded verifier's partial credit below it counts as wrong).

    Args:
        rewards: ``(N, G)``.

    Returns:
        ``(N,)`` bool, True where every completion is wrong.
    """
    return (rewards < success_threshold).all(dim=1)  # (N,)


def correct_counts(rewards: Tensor, success_threshold: float) -> Tensor:
    """Correct completions per group: the ``c`` of the pass@k estimator. ``(N, G)`` -> ``(N,)`` int."""
    return (rewards >= success_threshold).sum(dim=1)  # (N,)


def as_rewards(values: list[list[float]]) -> Tensor:
    """Rewards of N groups of G completions as a float tensor ``(N, G)``."""
    return torch.tensor(values, dtype=torch.float32)
