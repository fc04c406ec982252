"""The static-cache sampler on a tiny real model: greedy equals ``generate``, finished rows stop, draws follow
the distribution. The compiled step is checked on CPU (slow) and with CUDA graphs (gpu)."""

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch._dynamo.utils import counters
from transformers import AutoModelForCausalLM, AutoTokenizer

from naa.rl.config import RLConfig
from naa.rl.policy import with_lora
from naa.rl.rollout import SamplingSettings, _cut, left_pad
from naa.rl.static_rollout import StaticCacheSampler

PROMPTS = [(1, 20, 30), (1, 21, 31, 41, 51), (5, 6, 7, 8, 9, 10, 11)]  # three widths: left padding
GREEDY = 1e-6  # top-p this small keeps only the most likely token: the draw is an argmax


@pytest.fixture(scope="module")
def tokenizer(tiny_lm_dir: Path) -> Any:
    return AutoTokenizer.from_pretrained(tiny_lm_dir)


@pytest.fixture
def model(tiny_lm_dir: Path) -> nn.Module:
    model: nn.Module = AutoModelForCausalLM.from_pretrained(tiny_lm_dir)
    return model


def greedy_generate(
    model: nn.Module, prompts: list[tuple[int, ...]], n: int, new: int, eos: list[int] | None, pad: int
) -> list[list[int]]:
    """``generate(do_sample=False)`` on each prompt repeated n times (greedy takes no num_return_sequences),
    rows that stopped early filled up with padding as the static sampler leaves them."""
    rows = [p for p in prompts for _ in range(n)]
    input_ids, attention = left_pad(rows, pad, next(model.parameters()).device)
    out = model.generate(  # type: ignore[operator]
        input_ids=input_ids, attention_mask=attention, do_sample=False, max_new_tokens=new,
        pad_token_id=pad, eos_token_id=eos,
    )  # fmt: skip
    return [row + [pad] * (new - len(row)) for row in out[:, input_ids.shape[1] :].tolist()]


@pytest.mark.parametrize(
    ("bucket_shapes", "prompt_width", "attention", "grouped"),
    [
        (False, 0, "sdpa", True),
        (True, 0, "sdpa", True),
        (True, 100, "sdpa", True),
        (False, 0, "sdpa", False),
        (True, 0, "eager", False),
    ],
    ids=["exact-grouped", "bucketed-grouped", "wide-layout-grouped", "exact-sdpa", "bucketed-eager"],
)
def test_greedy_equals_generate_token_for_token(
    tiny_lm_dir: Path, tokenizer: Any, bucket_shapes: bool, prompt_width: int, attention: str, grouped: bool
) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_lm_dir, attn_implementation=attention)
    # bucketed: width rounded up to 64 (128 with prompt_width 100) and 6 rows to the batch size, 8, the two
    # padding rows finished from the start; grouped: the decode attention reads each key/value head once;
    # eager takes an additive float mask
    settings = SamplingSettings(10, 1.0, GREEDY, 8)
    sampler = StaticCacheSampler(
        model, tokenizer, settings, bucket_shapes=bucket_shapes, prompt_width=prompt_width,
        grouped_attention=grouped,
    )  # fmt: skip
    sampler.eos_ids = set()  # run every row to the budget: all 10 tokens are compared
    assert sampler.generate_ids(PROMPTS, 2) == greedy_generate(
        model, PROMPTS, 2, 10, eos=None, pad=sampler.pad_id
    )
    assert sampler.stats.decode_steps == 9 and sampler.stats.sequences == (8 if bucket_shapes else 6)
    assert model.config._attn_implementation == attention  # the decode-only switch is undone


def test_rows_stop_at_an_end_token_and_the_loop_stops_early(model: nn.Module, tokenizer: Any) -> None:
    sampler = StaticCacheSampler(model, tokenizer, SamplingSettings(12, 1.0, GREEDY, 64), check_every=2)
    free = greedy_generate(model, PROMPTS, 1, 12, eos=None, pad=sampler.pad_id)
    # every row's third greedy token becomes an end token: each row finishes by its third token
    stops = {row[2] for row in free}
    sampler.eos_ids = stops
    groups = sampler.sample(PROMPTS, 2)
    expected = greedy_generate(model, PROMPTS, 2, 12, eos=sorted(stops), pad=sampler.pad_id)
    for got, row in zip([s for g in groups for s in g], expected, strict=True):
        completion, finished = _cut(row, stops)
        assert got.completion_ids == completion and len(completion) <= 3
        assert got.finished and finished and got.completion_ids[-1] in stops
        assert got.text == tokenizer.decode(completion, skip_special_tokens=True)
    # all finished within 3 tokens (2 steps); the host looks every 2 steps: after step 2, stop
    assert sampler.stats.decode_steps == 2 < 12 - 1
    ids = sampler.generate_ids(PROMPTS, 1)
    for row in ids:  # after its end token a row only emits padding
        end = next(i for i, t in enumerate(row) if t in stops)
        assert row[end + 1 :] == [sampler.pad_id] * (len(row) - end - 1)


def test_sampled_groups_differ_and_stay_in_the_vocabulary(model: nn.Module, tokenizer: Any) -> None:
    model.train()  # the trainer samples from the model it trains
    torch.manual_seed(0)
    sampler = StaticCacheSampler(model, tokenizer, SamplingSettings(6, 1.0, 1.0, batch_size=4))
    groups = sampler.sample(PROMPTS, 4)  # one prompt per batch of 4 rows: three batches
    assert [len(g) for g in groups] == [4, 4, 4]
    assert any(len({s.completion_ids for s in g}) > 1 for g in groups)
    vocabulary = model.get_output_embeddings().weight.shape[0]  # type: ignore[operator]
    for sample in (s for g in groups for s in g):
        assert 1 <= len(sample.completion_ids) <= 6
        assert all(0 <= t < vocabulary for t in sample.completion_ids)
        assert sample.finished == (sample.completion_ids[-1] in sampler.eos_ids)
    assert model.training  # sampling switched to eval mode and back


def test_lora_adapters_are_applied(model: nn.Module, tokenizer: Any) -> None:
    torch.manual_seed(0)
    config = RLConfig(
        tasks=Path("tasks.jsonl"),
        lora_rank=4,
        lora_alpha=8,
        lora_target_modules=("q_proj", "v_proj", "down_proj"),
    )
    peft_model = with_lora(model, config)  # as the trainer wraps its policy
    for name, param in peft_model.named_parameters():
        if "lora_B" in name:  # peft starts B at zero (adapters off); move it so they change the output
            nn.init.normal_(param, std=0.5)
    sampler = StaticCacheSampler(peft_model, tokenizer, SamplingSettings(8, 1.0, GREEDY, 64))
    sampler.eos_ids = set()
    with_adapters = greedy_generate(peft_model, PROMPTS, 1, 8, eos=None, pad=sampler.pad_id)
    assert sampler.generate_ids(PROMPTS, 1) == with_adapters
    with peft_model.disable_adapter():  # type: ignore[operator]
        assert greedy_generate(peft_model, PROMPTS, 1, 8, eos=None, pad=sampler.pad_id) != with_adapters


def _compiled_matches_eager(model: nn.Module, tokenizer: Any, device: str) -> None:
    counters.clear()
    model.to(device)
    settings = SamplingSettings(6, 1.0, GREEDY, 8)
    longer = [tuple(range(2, 60)), tuple(range(3, 40))]  # wider prompts and fewer rows than PROMPTS x 2
    width = max(len(p) for p in PROMPTS + longer)  # what a trainer computes from its tasks
    eager = StaticCacheSampler(model, tokenizer, settings, bucket_shapes=True)
    compiled = StaticCacheSampler(model, tokenizer, settings, compile=True, prompt_width=width)
    for sampler in (eager, compiled):
        sampler.eos_ids = set()
    for _ in range(2):  # the second call replays what the first compiled
        assert compiled.generate_ids(PROMPTS, 2) == eager.generate_ids(PROMPTS, 2)
    with torch.no_grad():  # an optimiser step changes weights in place: the compiled step must see it
        for param in model.parameters():
            param.mul_(1.5)
    assert compiled.generate_ids(PROMPTS, 2) == eager.generate_ids(PROMPTS, 2)
    assert compiled.generate_ids(longer, 1) == eager.generate_ids(longer, 1)
    # one compile: later calls, new weights and other prompts in the same layout reuse it
    assert counters["stats"]["unique_graphs"] == 1


@pytest.mark.slow
def test_compiled_step_matches_eager_on_cpu(model: nn.Module, tokenizer: Any) -> None:
    _compiled_matches_eager(model, tokenizer, "cpu")  # inductor on CPU: about a minute of compiling


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_compiled_step_replays_cuda_graphs(model: nn.Module, tokenizer: Any) -> None:
    _compiled_matches_eager(model, tokenizer, "cuda")
    assert counters["inductor"]["cudagraph_skips"] == 0  # the step really runs as a CUDA graph
