"""The Guide-GRPO math on 2-3 row tensors whose answers are worked out by hand in the comments."""

import math

import pytest
import torch

from naa.rl.advantages import correct_counts, failed_groups, group_advantages, informative_groups
from naa.rl.losses import (
    AGGREGATIONS,
    BatchSize,
    clipped_token_loss,
    guide_token_loss,
    importance_ratios,
    k3_kl,
    regularised_token_loss,
    shaped_token_loss,
    shaping_gamma,
    token_entropy,
)


def test_group_advantages_normalise_each_group_against_itself() -> None:
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.5, 0.0, 1.0, 0.5]])
    # row 0: mean 0.5, population std 0.5 -> (r - 0.5) / 0.5 = [1, -1, -1, 1]
    # row 1: all equal, std 0 -> 0 / eps = 0 everywhere
    # row 2: mean 0.5, deviations [0, -0.5, 0.5, 0], variance 0.5/4 = 0.125, std = 0.35355
    #        -> [0, -1.41421, 1.41421, 0]
    expected = torch.tensor([[1.0, -1.0, -1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.0, -1.41421, 1.41421, 0.0]])
    torch.testing.assert_close(group_advantages(rewards), expected, atol=1e-4, rtol=0)


def test_filtering_drops_only_all_equal_groups() -> None:
    rewards = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.2, 0.2, 0.3]])
    # all right and all wrong carry no signal; any difference keeps the group
    assert informative_groups(rewards).tolist() == [False, False, True, True]


def test_hint_path_triggers_only_when_every_completion_is_wrong() -> None:
    rewards = torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.9, 0.0]])
    # threshold 1: row 0 all wrong; row 1 has a correct one; row 2 has only partial credit -> all wrong
    assert failed_groups(rewards, success_threshold=1.0).tolist() == [True, False, True]
    assert correct_counts(rewards, success_threshold=1.0).tolist() == [0, 1, 0]
    # with a threshold of 0.5, row 2 has two correct completions and needs no hint
    assert failed_groups(rewards, success_threshold=0.5).tolist() == [True, False, False]


def test_guided_ratio_has_the_unhinted_numerator_and_the_hinted_denominator() -> None:
    # the unhinted policy gives the token 0.2, the hinted context that sampled it gave 0.8:
    # rho = 0.2 / 0.8 = 0.25 (swapping them would give 4)
    unhinted = torch.log(torch.tensor([[0.2, 0.5]]))
    hinted = torch.log(torch.tensor([[0.8, 0.5]]))
    torch.testing.assert_close(importance_ratios(unhinted, hinted), torch.tensor([[0.25, 1.0]]))


def test_ppo_clip_bounds_on_policy_tokens() -> None:
    ratios = torch.tensor([[1.5, 0.5], [1.5, 0.5]])
    advantages = torch.tensor([1.0, -1.0])
    # A=+1: -min(1.5, 1.2) = -1.2 and -min(0.5, 0.8) = -0.5
    # A=-1: -min(-1.5, -1.2) = 1.5 and -min(-0.5, -0.8) = 0.8
    expected = torch.tensor([[-1.2, -0.5], [1.5, 0.8]])
    torch.testing.assert_close(clipped_token_loss(ratios, advantages, eps=0.2), expected)


def test_policy_shaping_uses_gamma_and_no_clip() -> None:
    ratios = torch.tensor([[1.5, 0.5, 4.0]])
    # gamma 0.5, A=+1: -(1.5/2.0) = -0.75, -(0.5/1.0) = -0.5, -(4.0/4.5) = -0.88889 (no clip at 1.2)
    expected = torch.tensor([[-0.75, -0.5, -0.888889]])
    torch.testing.assert_close(shaped_token_loss(ratios, torch.tensor([1.0]), gamma=0.5), expected)


def test_clipping_applies_only_to_on_policy_rows_and_gradients_follow() -> None:
    logp_ratio = torch.log(torch.tensor([[1.5, 0.5], [1.5, 0.5]])).requires_grad_(True)
    ratios = torch.exp(logp_ratio)
    advantages = torch.tensor([1.0, 1.0])
    guided = torch.tensor([False, True])
    loss = guide_token_loss(ratios, advantages, guided, eps=0.2, gamma=0.5)
    # row 0 on-policy (clipped): [-1.2, -0.5]; row 1 guided (shaped, gamma 0.5): [-0.75, -0.5]
    torch.testing.assert_close(loss.detach(), torch.tensor([[-1.2, -0.5], [-0.75, -0.5]]))
    loss.sum().backward()
    assert logp_ratio.grad is not None
    # d/dlog(rho): on-policy, rho=1.5 clipped at 1.2 with A>0 -> 0; rho=0.5 unclipped -> -rho*A = -0.5
    # guided: -A * gamma * rho / (rho + gamma)^2 = -(0.5*1.5/4) = -0.1875 and -(0.5*0.5/1) = -0.25
    torch.testing.assert_close(logp_ratio.grad, torch.tensor([[0.0, -0.5], [-0.1875, -0.25]]))


def test_gamma_is_the_detached_quantile_of_guided_ratios_only() -> None:
    ratios = torch.tensor([[1.0, 2.0, 3.0, 100.0], [4.0, 5.0, 100.0, 100.0], [50.0, 60.0, 70.0, 80.0]])
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]])
    guided = torch.tensor([True, True, False])
    # guided real tokens: [1, 2, 3, 4, 5]; 0.9-quantile at position 0.9*4 = 3.6 -> 4 + 0.6 = 4.6;
    # the padded 100s and the on-policy row do not count
    gamma = shaping_gamma(ratios, mask, guided, mode="quantile", constant=1.0)
    assert gamma.item() == pytest.approx(4.6)
    assert not gamma.requires_grad
    tiny = shaping_gamma(torch.full((1, 2), 1e-6), torch.ones(1, 2), torch.tensor([True]), "quantile", 1.0)
    assert tiny.item() == pytest.approx(1e-4)  # floored
    assert shaping_gamma(ratios, mask, guided, mode="constant", constant=0.7).item() == pytest.approx(0.7)


def test_aggregations_match_hand_values_and_add_up_over_micro_batches() -> None:
    loss = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    size = BatchSize.of(mask, max_len=4)
    # seq_mean_token_mean: (mean(1,2,3) + mean(4)) / 2 = (2 + 4) / 2 = 3
    # token_mean: (1+2+3+4) / 4 tokens = 2.5
    # seq_sum_norm: (6 + 4) / (2 sequences * 4) = 1.25
    expected = {"seq_mean_token_mean": 3.0, "token_mean": 2.5, "seq_sum_norm": 1.25}
    for name, value in expected.items():
        fn = AGGREGATIONS[name]  # type: ignore[index]
        assert fn(loss, mask, size).item() == pytest.approx(value)
        split = fn(loss[:1], mask[:1], size) + fn(loss[1:], mask[1:], size)
        assert split.item() == pytest.approx(value)


def test_k3_kl_estimator() -> None:
    policy = torch.log(torch.tensor([[0.5, 0.3]]))
    reference = torch.log(torch.tensor([[0.25, 0.3]]))
    # d = log(0.25/0.5) = -0.693147; exp(d) - d - 1 = 0.5 + 0.693147 - 1 = 0.193147; equal -> 0
    torch.testing.assert_close(k3_kl(policy, reference), torch.tensor([[0.193147, 0.0]]))


def test_token_entropy() -> None:
    logits = torch.tensor([[[0.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0]]])
    # uniform over 4 -> log 4 = 1.386294; nearly one-hot -> about 0
    torch.testing.assert_close(token_entropy(logits), torch.tensor([[math.log(4), 0.0]]), atol=1e-5, rtol=0)


def test_regularised_token_loss_adds_kl_and_subtracts_entropy() -> None:
    pg = torch.tensor([[1.0]])
    # 1 + 0.5 * 0.2 - 0.1 * 2 = 0.9; coefficients of 0 leave the loss alone
    total = regularised_token_loss(pg, torch.tensor([[0.2]]), 0.5, torch.tensor([[2.0]]), 0.1)
    assert total.item() == pytest.approx(0.9)
    assert regularised_token_loss(pg, torch.tensor([[0.2]]), 0.0).item() == pytest.approx(1.0)
