"""LoRA weights folded in for an inference engine, without touching the policy's own weights."""

import copy
from pathlib import Path

import torch
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM

from naa.rl.config import RLConfig
from naa.rl.policy import merged_state_dict, with_lora


def test_merged_weights_equal_peft_merge_and_leave_the_bfloat16_base_weights_bit_for_bit() -> None:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, tie_word_embeddings=True,
    )  # fmt: skip
    policy = with_lora(
        LlamaForCausalLM(config).to(torch.bfloat16), RLConfig(tasks=Path("t.jsonl"), lora_rank=4)
    )
    for name, param in policy.named_parameters():
        if "lora_B" in name:  # peft starts B at zero, where merging would change nothing
            nn.init.normal_(param, std=0.5)
    base_before = {k: v.clone() for k, v in policy.state_dict().items() if "lora_" not in k}

    merged = merged_state_dict(policy)

    expected = copy.deepcopy(policy).merge_and_unload().state_dict()  # type: ignore[operator]
    assert merged.keys() == expected.keys()
    assert all(torch.equal(merged[k], expected[k]) for k in expected)
    changed = [k for k in expected if not torch.equal(merged[k], base_before[_peft_name(k, base_before)])]
    assert changed and all(k.endswith("proj.weight") for k in changed)  # adapters moved the targets only
    assert all(torch.equal(v, policy.state_dict()[k]) for k, v in base_before.items())  # policy untouched


def _peft_name(name: str, peft_names: dict[str, torch.Tensor]) -> str:
    wrapped = f"base_model.model.{name}"
    adapted = wrapped.replace(".weight", ".base_layer.weight")
    return adapted if adapted in peft_names else wrapped
