"""Sampling groups with transformers generate on a tiny real model."""

import copy
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from naa.rl.config import RLConfig
from naa.rl.policy import with_lora
from naa.rl.rollout import SamplingSettings, TransformersSampler


def test_groups_come_back_in_prompt_order_cut_at_the_end_token(tiny_lm_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_lm_dir)
    model.train()  # the trainer samples from the model it trains
    torch.manual_seed(0)
    # batch_size 4 with n=3: one prompt per generate call, so two calls
    sampler = TransformersSampler(model, tokenizer, SamplingSettings(6, 1.0, 1.0, batch_size=4))
    groups = sampler.sample([(1, 20, 30), (1, 21, 31, 41, 51)], n=3)
    assert [len(g) for g in groups] == [3, 3]
    for sample in (s for g in groups for s in g):
        assert 1 <= len(sample.completion_ids) <= 6
        assert sample.finished == (sample.completion_ids[-1] in sampler.eos_ids)
        assert not any(t in sampler.eos_ids for t in sample.completion_ids[:-1])
        assert sample.text == tokenizer.decode(sample.completion_ids, skip_special_tokens=True)
    assert model.training  # sampling switched to eval mode and back


def _draws(sampler: TransformersSampler) -> list[tuple[int, ...]]:
    torch.manual_seed(0)
    return [s.completion_ids for g in sampler.sample([(1, 20, 30), (1, 21, 31)], 3) for s in g]


def test_a_lora_policy_samples_from_its_merged_copy_kept_in_step_by_sync_weights(tiny_lm_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm_dir)
    policy = with_lora(AutoModelForCausalLM.from_pretrained(tiny_lm_dir), RLConfig(tasks=Path("t.jsonl")))
    settings = SamplingSettings(6, 1.0, 1.0, batch_size=8)
    sampler = TransformersSampler(policy, tokenizer, settings)
    assert not hasattr(sampler.model, "peft_config")  # a plain model, not the wrapped policy

    def merged_draws() -> list[tuple[int, ...]]:
        return _draws(TransformersSampler(copy.deepcopy(policy).merge_and_unload(), tokenizer, settings))

    assert _draws(sampler) == merged_draws()  # adapters start at zero
    with torch.no_grad():  # as an optimiser step, in place
        for name, param in policy.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.5)
    stale = _draws(sampler)
    sampler.sync_weights(policy)
    fresh = _draws(sampler)
    assert fresh != stale and fresh == merged_draws()
