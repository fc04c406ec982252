"""Completion log-probs on a tiny real model: padding does not change them, the prompt does."""

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from naa.rl.logprobs import completion_logprobs


@pytest.fixture(scope="module")
def model(tiny_lm_dir: Path) -> torch.nn.Module:
    return AutoModelForCausalLM.from_pretrained(tiny_lm_dir).eval()


@torch.no_grad()
def test_batched_left_padded_scores_equal_one_row_forward_passes(model: torch.nn.Module) -> None:
    prompts = [(1, 20, 30, 40, 50), (1, 21)]
    completions = [(60, 61, 62), (70, 71)]
    scored = completion_logprobs(model, prompts, completions)
    assert scored.mask.tolist() == [[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]]
    for row, (prompt, completion) in enumerate(zip(prompts, completions, strict=True)):
        ids = torch.tensor([[*prompt, *completion]])
        logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)  # (L, V)
        # token t of the completion sits at len(prompt) + t and is predicted at len(prompt) + t - 1
        expected = [logp[len(prompt) + t - 1, token].item() for t, token in enumerate(completion)]
        assert scored.logprobs[row, : len(completion)].tolist() == pytest.approx(expected, abs=1e-4)
    assert scored.logprobs[1, 2].item() == 0.0  # padding


@torch.no_grad()
def test_hinted_and_plain_contexts_give_different_denominators(model: torch.nn.Module) -> None:
    completion = [(60, 61, 62)]
    plain = completion_logprobs(model, [(1, 20, 30)], completion).logprobs
    hinted = completion_logprobs(model, [(1, 20, 99, 98, 30)], completion).logprobs
    assert not torch.allclose(plain, hinted)
    # the same context twice gives ratio exp(0) = 1 exactly: the on-policy case of a single pass
    again = completion_logprobs(model, [(1, 20, 30)], completion).logprobs
    assert torch.equal(torch.exp(again - plain), torch.ones_like(plain))


@torch.no_grad()
def test_temperature_scales_logits_before_the_softmax(model: torch.nn.Module) -> None:
    prompts, completions = [(1, 20, 30)], [(60,)]
    hot = completion_logprobs(model, prompts, completions, temperature=2.0).logprobs[0, 0].item()
    logits = model(input_ids=torch.tensor([[1, 20, 30]])).logits[0, -1].float()
    assert hot == pytest.approx(torch.log_softmax(logits / 2.0, dim=-1)[60].item(), abs=1e-4)
