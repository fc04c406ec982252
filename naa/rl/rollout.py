"""Sampling G completions per prompt: transformers ``generate``, a vLLM engine when installed, or the
static-cache decode loop of ``static_rollout.py``.

All return token ids (what the loss scores) and text (what the verifier reads). A completion keeps its
end-of-sequence token, so the policy is also trained on when to stop; one that ran out of budget has none.
"""

import contextlib
import copy
import importlib.util
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import nn

from naa.errors import ConfigError


@dataclass(frozen=True)
class Sample:
    completion_ids: tuple[int, ...]
    text: str
    finished: bool  # ended with the end-of-sequence token inside the budget


class Sampler(Protocol):
    def sample(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[Sample]]:
        """``n`` samples for each prompt, in prompt order."""
        ...

    def sync_weights(self, model: nn.Module) -> None:
        """Make the next samples come from ``model``'s current weights."""
        ...


@dataclass(frozen=True)
class SamplingSettings:
    max_new_tokens: int
    temperature: float
    top_p: float
    batch_size: int  # sequences per generate call (prompts x n)


def _cut(ids: Sequence[int], eos_ids: set[int]) -> tuple[tuple[int, ...], bool]:
    for i, token in enumerate(ids):
        if token in eos_ids:
            return tuple(ids[: i + 1]), True
    return tuple(ids), False


def stop_and_pad_ids(model: nn.Module, tokenizer: Any) -> tuple[set[int], int]:
    """End-of-sequence ids (the tokenizer's and the model's generation config's: chat models have both) and
    the id that fills left padding and the tail of finished sequences."""
    eos = tokenizer.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos])
    generation_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if generation_eos is not None:
        ids |= set(generation_eos if isinstance(generation_eos, list) else [generation_eos])
    return ids, tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(ids)


def left_pad(
    prompts: Sequence[Sequence[int]], pad_id: int, device: torch.device, width: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompts right-aligned in one ``(B, width)`` batch and its 0/1 attention mask, so all continue from
    the same column; ``width`` defaults to the longest prompt."""
    width = width or max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long, device=device)
    attention = torch.zeros(len(prompts), width, dtype=torch.long, device=device)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt) :] = torch.tensor(list(prompt), dtype=torch.long)
        attention[row, width - len(prompt) :] = 1
    return input_ids, attention


def to_groups(
    new_tokens: Sequence[Sequence[int]], n: int, eos_ids: set[int], tokenizer: Any
) -> list[list[Sample]]:
    """Prompt-major generated ids (``n`` per prompt) as groups of Samples, cut at the first end token."""
    samples = []
    for ids in new_tokens:
        completion, finished = _cut(ids, eos_ids)
        samples.append(Sample(completion, tokenizer.decode(completion, skip_special_tokens=True), finished))
    return [samples[i * n : (i + 1) * n] for i in range(len(new_tokens) // n)]


def in_chunks(
    prompts: Sequence[Sequence[int]],
    n: int,
    batch_size: int,
    generate: Callable[[Sequence[Sequence[int]], int], list[list[Sample]]],
) -> list[list[Sample]]:
    """``generate`` over as many prompts at a time as fit ``batch_size`` sequences (at least one)."""
    per_call = max(1, batch_size // n)
    groups: list[list[Sample]] = []
    for start in range(0, len(prompts), per_call):
        groups.extend(generate(prompts[start : start + per_call], n))
    return groups


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Sample with dropout off, then give the trainer its model back in the mode it was in."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


class SamplingModel:
    """The model a sampler runs: a LoRA policy's (peft) merged copy, refreshed by ``sync``, else the model.

    peft runs each adapter as extra small matmuls beside each of its layers, which on a GPU made ``generate``
    launch several times the kernels per token (the H200 run of
    benchmarks/results/rl_benchmark_nvidia_h200.json: generation 83% of a step), and gives a compiled decode
    step a second graph beside the plain model's. The copy costs the model's memory once more; ``sync``
    loads the new weights into it in place, so a CUDA graph recorded on it stays valid.
    """

    def __init__(self, model: nn.Module) -> None:
        self.merged_copy = hasattr(model, "peft_config")
        if self.merged_copy:
            model = copy.deepcopy(model).merge_and_unload().requires_grad_(False)  # type: ignore[operator]
        self.model = model

    def sync(self, model: nn.Module) -> None:
        if not self.merged_copy:
            self.model = model  # sampling runs the training model itself: nothing to copy
            return
        from naa.rl.policy import merged_state_dict  # here: rollout_benchmark loads this module alone

        self.model.load_state_dict(merged_state_dict(model))


class TransformersSampler:
    """Batched ``generate`` with sampling; prompts are left-padded so all continue from the same column.

    sampler = TransformersSampler(model, tokenizer, SamplingSettings(128, 1.0, 1.0, 256))
    groups = sampler.sample([prompt_ids], n=8)      # one list of 8 Samples
    """

    def __init__(self, model: nn.Module, tokenizer: Any, settings: SamplingSettings) -> None:
        self.sampling = SamplingModel(model)
        self.tokenizer = tokenizer
        self.settings = settings
        self.eos_ids, self.pad_id = stop_and_pad_ids(model, tokenizer)

    @property
    def model(self) -> nn.Module:
        return self.sampling.model

    def sync_weights(self, model: nn.Module) -> None:
        self.sampling.sync(model)

    @torch.no_grad()
    def sample(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[Sample]]:
        return in_chunks(prompts, n, self.settings.batch_size, self._generate)

    def _generate(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[Sample]]:
        input_ids, attention = left_pad(prompts, self.pad_id, next(self.model.parameters()).device)
        with eval_mode(self.model):
            output = self.model.generate(  # type: ignore[operator]
                input_ids=input_ids,
                attention_mask=attention,
                do_sample=True,
                temperature=self.settings.temperature,
                top_p=self.settings.top_p,
                top_k=0,
                max_new_tokens=self.settings.max_new_tokens,
                num_return_sequences=n,
                pad_token_id=self.pad_id,
                eos_token_id=sorted(self.eos_ids),
            )
        # (len(prompts) * n, <= max_new_tokens), prompt-major
        return to_groups(output[:, input_ids.shape[1] :].tolist(), n, self.eos_ids, self.tokenizer)


def require_vllm() -> None:
    """Raises ConfigError where the vllm package is missing; a run checks it before its warm-up."""
    if importlib.util.find_spec("vllm") is None:
        raise ConfigError(
            "rollout_backend vllm needs the vllm package: pip install vllm, or use transformers"
        )


class VLLMSampler:
    """Rollouts on an in-process vLLM engine; the trained weights are loaded into it after every step.

    The engine is built as TRL 1.16's colocate mode builds it (trl/generation/vllm_generation.py): with
    ``distributed_executor_backend="external_launcher"`` its model runs in this process, one engine per
    training process, so ``sync_weights`` can reach it. vLLM's default runs the engine in a child process,
    where ``llm_engine.model_executor.driver_worker`` does not exist. Not exercised by the test suite (vLLM
    needs a GPU and is not installable on the lent GPU machine).
    """

    def __init__(
        self,
        model_path: str,
        tokenizer: Any,
        settings: SamplingSettings,
        seed: int,
        rank: int = 0,
        local_rank: int = 0,
        world_size: int = 1,
    ) -> None:
        require_vllm()
        from vllm import LLM

        # The external launcher reads the process group from the environment; accelerate launch sets it,
        # a single process has none.
        os.environ.update(RANK=str(rank), LOCAL_RANK=str(local_rank), WORLD_SIZE=str(world_size))
        os.environ.setdefault("MASTER_ADDR", "localhost")
        if not os.environ.get("MASTER_PORT"):
            os.environ["MASTER_PORT"] = str(_free_port())
        self.llm = LLM(
            model=model_path,
            seed=seed + rank,  # as the trainer seeds each process
            gpu_memory_utilization=0.3,
            enable_prefix_caching=True,
            distributed_executor_backend="external_launcher",
        )
        self.tokenizer = tokenizer
        self.settings = settings

    def sync_weights(self, model: nn.Module) -> None:
        from naa.rl.policy import merged_state_dict  # here: rollout_benchmark loads this module alone

        merged = merged_state_dict(model)
        engine_model = self.llm.llm_engine.model_executor.driver_worker.model_runner.model
        engine_model.load_weights(merged.items())
        self.llm.reset_prefix_cache()

    def sample(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[Sample]]:
        from vllm import SamplingParams, TokensPrompt

        params = SamplingParams(
            n=n,
            temperature=self.settings.temperature,
            top_p=self.settings.top_p,
            max_tokens=self.settings.max_new_tokens,
        )
        outputs = self.llm.generate([TokensPrompt(prompt_token_ids=list(p)) for p in prompts], params)
        eos = self.tokenizer.eos_token_id
        return [
            [
                Sample(tuple(o.token_ids), o.text, bool(o.token_ids) and o.token_ids[-1] == eos)
                for o in out.outputs
            ]
            for out in outputs
        ]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("localhost", 0))
        port: int = probe.getsockname()[1]
        return port
