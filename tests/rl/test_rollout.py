"""Sampling groups with transformers generate on a tiny real model."""

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

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
