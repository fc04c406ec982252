"""Default generator on CPU: conversion, load, time to first token and tokens per second.

Measures SmolLM2-135M-Instruct through the same path the assistant uses (``build_generator`` with the
default ``TransformersGeneratorConfig``) on a realistic grounded prompt (system prompt, four passages,
a question). The first streamed reply is a warm-up and is not counted; the table shows p50 of the rest.

    .venv/bin/python benchmarks/generation_benchmark.py [--repeats 5] [--max-new-tokens 64]
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from naa.config.partner import PromptConfig
from naa.generation import ChatMessage, Generator, SamplingParams, build_generator, build_messages
from naa.generation.config import DEFAULT_GENERATOR_MODEL, TransformersGeneratorConfig
from naa.generation.model_files import ensure_converted
from naa.retrieval.base import Passage

PASSAGES = [
    Passage(
        "refund-timing",
        "refund-timing#0",
        "Once your return reaches our warehouse we inspect it within 2 business days and then issue the "
        "refund. Card refunds appear on your statement 3 to 5 business days after that; PayPal refunds "
        "usually arrive within 24 hours. Store credit is added to your account immediately.",
        0.82,
        "Refund timing",
        "help-center",
        "https://help.example/articles/refund-timing",
    ),
    Passage(
        "return-policy",
        "return-policy#1",
        "Most items can be returned within 60 days of delivery if they are unused and in their original "
        "packaging. Final-sale items, gift cards and opened personal-care products cannot be returned.",
        0.74,
        "Return policy",
        "help-center",
        "https://help.example/articles/return-policy",
    ),
    Passage(
        "refund-methods",
        "refund-methods#0",
        "Refunds go back to the original payment method. If you paid with a gift card, the refund is "
        "issued as store credit. Orders paid in instalments are refunded to the instalment provider.",
        0.69,
        "Refund methods",
        "help-center",
        "https://help.example/articles/refund-methods",
    ),
    Passage(
        "restocking-fees",
        "restocking-fees#0",
        "Large items such as tents and kayaks returned after 30 days carry a 15% restocking fee. There is "
        "no fee for items that arrived damaged or for exchanges.",
        0.55,
        "Restocking fees",
        "help-center",
        "https://help.example/articles/restocking-fees",
    ),
]
QUESTION = "I sent my return back last week. When will I see the refund on my credit card?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="Timed replies after one warm-up reply.")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's choice). On a shared, busy machine 1 thread is faster.",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "generation.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="naa-bench-models-") as tmp:
        models_dir = Path(tmp)
        start = time.perf_counter()
        converted = ensure_converted(DEFAULT_GENERATOR_MODEL, models_dir)
        conversion_s = time.perf_counter() - start

        generator = build_generator(TransformersGeneratorConfig(), models_dir)
        start = time.perf_counter()
        generator.warm_up()
        load_s = time.perf_counter() - start

        tokenizer = AutoTokenizer.from_pretrained(converted)
        system = PromptConfig().system.format(company="Tamberlow")
        messages = build_messages(system, PASSAGES, [ChatMessage("user", QUESTION)])
        prompt_tokens = len(
            tokenizer.apply_chat_template(
                [vars(m) for m in messages], add_generation_prompt=True, return_dict=False
            )
        )
        params = SamplingParams(max_new_tokens=args.max_new_tokens)
        runs = [_timed_reply(generator, messages, params, tokenizer) for _ in range(args.repeats + 1)][1:]

    result = {
        "model": DEFAULT_GENERATOR_MODEL,
        "device": "cpu",
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        # Other jobs on the machine slow every figure here; the 1-minute load average says how busy it was.
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "conversion_s": round(conversion_s, 2),
        "load_converted_s": round(load_s, 2),
        "prompt_tokens": prompt_tokens,
        "max_new_tokens": args.max_new_tokens,
        "repeats": args.repeats,
        "ttft_p50_s": round(statistics.median(r["ttft_s"] for r in runs), 3),
        "decode_tokens_per_s_p50": round(statistics.median(r["decode_tokens_per_s"] for r in runs), 1),
        "reply_s_p50": round(statistics.median(r["reply_s"] for r in runs), 2),
        "completion_tokens_p50": statistics.median(r["completion_tokens"] for r in runs),
        "reply_cpu_s_p50": round(statistics.median(r["cpu_s"] for r in runs), 2),
        "runs": runs,
        "sample_reply": runs[0]["text"],
    }
    _print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


def _timed_reply(
    generator: Generator,
    messages: list[ChatMessage],
    params: SamplingParams,
    tokenizer: PreTrainedTokenizerBase,
) -> dict[str, Any]:
    cpu_start = time.process_time()
    start = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    for piece in generator.stream(messages, params):
        if first is None and piece.strip():
            first = time.perf_counter()
        pieces.append(piece)
    end = time.perf_counter()
    cpu_s = time.process_time() - cpu_start
    text = "".join(pieces)
    # The stream yields text, not tokens: re-tokenising the reply counts them (exact for this tokenizer
    # up to merges across piece boundaries, which greedy decoding reproduces).
    tokens = len(tokenizer(text, add_special_tokens=False)["input_ids"])
    first = first or end
    return {
        "ttft_s": round(first - start, 3),
        "reply_s": round(end - start, 3),
        "completion_tokens": tokens,
        "decode_tokens_per_s": round((tokens - 1) / (end - first), 1) if end > first else 0.0,
        # CPU time this process spent: with --threads 1 it is close to the wall time the reply would take
        # on an idle core, so it stays comparable when other jobs share the machine.
        "cpu_s": round(cpu_s, 3),
        "text": text,
    }


def _print_table(result: dict[str, Any]) -> None:
    rows = [
        ("conversion GGUF -> safetensors (first run)", f"{result['conversion_s']:.2f} s"),
        ("load converted model", f"{result['load_converted_s']:.2f} s"),
        ("prompt tokens (system + 4 passages + question)", str(result["prompt_tokens"])),
        ("time to first token, p50", f"{result['ttft_p50_s'] * 1000:.0f} ms"),
        ("decode tokens/s, p50 (greedy)", f"{result['decode_tokens_per_s_p50']:.1f}"),
        (
            f"whole reply, p50 ({result['completion_tokens_p50']:.0f} tokens)",
            f"{result['reply_s_p50']:.2f} s",
        ),
        ("CPU time of the whole reply, p50", f"{result['reply_cpu_s_p50']:.2f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print(
        f"{result['model']} on {result['cpu_count']} CPU cores, {result['torch_threads']} torch threads, "
        f"{result['repeats']} timed replies, load average {result['load_average_1min']}"
    )
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>10}")
    print(f"  sample reply: {result['sample_reply']!r}")


if __name__ == "__main__":
    main()
