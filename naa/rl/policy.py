"""Loading the model an RL run trains or evaluates: a causal LM and its tokenizer, LoRA adapters optional."""

import warnings
from typing import Any

import torch
from torch import nn

from naa.errors import ModelUnavailableError
from naa.rl.config import RLConfig


def load_causal_lm(source: str, dtype: str, device: torch.device | str = "cpu") -> tuple[nn.Module, Any]:
    """A model folder (``resolve_model_source`` output) as a model on ``device`` and its tokenizer.

    Raises:
        ModelUnavailableError: the folder holds no loadable model, or one with NaN or infinite weights.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model: nn.Module = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype))
    except OSError as err:
        raise ModelUnavailableError(
            f"cannot load model from {source}: {err}. Use a packaged model, a folder written by "
            "save_pretrained, or a hub id already in the local cache (NAA never downloads)"
        ) from err
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = model.to(device)
    # Sampling from NaN or infinite weights fails only later, and on a GPU as a device-side assert that ends
    # the process's CUDA context (a diverged warm-up's model did on an H200): name the cause at load. Checked
    # on the device, where a large model's check is fast.
    broken = non_finite_weights(model)
    if broken:
        raise ModelUnavailableError(
            f"model {source} has NaN or infinite weights in {len(broken)} tensors (first: {broken[0]}): "
            "it was saved from a diverged run; train again from an earlier model with a lower learning rate"
        )
    return model, tokenizer


def non_finite_weights(model: nn.Module, trainable_only: bool = False) -> list[str]:
    """Names of the parameters holding a NaN or an infinity (trainable ones only, if asked)."""
    return [
        name
        for name, weight in model.named_parameters()
        if (weight.requires_grad or not trainable_only) and not torch.isfinite(weight).all()
    ]


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

    # peft reads transformers' deprecated is_gradient_checkpointing: a FutureWarning on every run that is
    # peft's to act on and tells a user nothing.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
        peft_model: nn.Module = get_peft_model(model, lora_config(config))
    return peft_model


def merged_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The policy's whole weights under the base model's names, LoRA adapters folded in (what an
    inference engine such as vLLM loads); a model without adapters gives its own state dict.

    The sums are new tensors: peft's ``merge_adapter`` / ``unmerge_adapter`` would add each delta into the
    frozen weights and subtract it again, and in bfloat16 the two roundings move those weights a little
    at every sync.
    """
    from peft.tuners.lora import LoraLayer

    deltas = {
        # Each LoRA layer kind (Linear, Embedding, Conv) defines get_delta_weight; their base class does not.
        f"{name}.base_layer.weight": sum(module.get_delta_weight(a) for a in module.active_adapters)  # type: ignore[attr-defined]
        for name, module in model.named_modules()
        if isinstance(module, LoraLayer)
    }
    return {
        # Adapters are float32 (peft's default): the sum is rounded once, to the weight's dtype, as in peft.
        name.removeprefix("base_model.model.").replace(".base_layer", ""): (
            (value + deltas[name]).to(value.dtype) if name in deltas else value
        ).detach()
        for name, value in model.state_dict().items()
        if "lora_" not in name
    }
