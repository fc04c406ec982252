"""Loading the model an RL run trains or evaluates: a causal LM and its tokenizer, LoRA adapters optional."""

from typing import Any

import torch
from torch import nn

from naa.errors import ModelUnavailableError
from naa.rl.config import RLConfig


def load_causal_lm(source: str, dtype: str, device: torch.device | str = "cpu") -> tuple[nn.Module, Any]:
    """A model folder (``resolve_model_source`` output) as a model on ``device`` and its tokenizer.

    Raises:
        ModelUnavailableError: the folder holds no loadable model.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model: nn.Module = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype))
    except OSError as err:
        raise ModelUnavailableError(f"cannot load model from {source}: {err}") from err
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device), tokenizer


def lora_config(config: RLConfig) -> Any:
    """peft's ``LoraConfig`` for the run's LoRA fields (also what the TRL baseline of the benchmark gets)."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_rank,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
        task_type="CAUSAL_LM",
    )


def with_lora(model: nn.Module, config: RLConfig) -> nn.Module:
    """Wrap ``model`` with trainable LoRA adapters (peft); the base weights are frozen."""
    from peft import get_peft_model

    peft_model: nn.Module = get_peft_model(model, lora_config(config))
    return peft_model
