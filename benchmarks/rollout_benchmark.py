"""Rollout speed on one device in one run: ``generate`` (dynamic cache), ``generate`` with a static cache, and
the static-cache sampler (naa/rl/static_rollout.py, compiled to CUDA graphs on a GPU).

Every path gets one untimed warm-up call, reported as its first-call (compile) time, then ``--timed-calls``
warm calls. The workload defaults to the rollout issue's (MODELS.md "On a GPU"): a random-weight
SmolLM2-135M-shaped Llama in bfloat16, 512 sequences (64 prompts x 8 samples) of 72 prompt tokens and 128
new tokens, temperature 1, top-p 1.0 and 0.9, end-of-sequence off so every sequence runs to the end.
``--check`` first proves on the device that the compiled sampler draws what the eager one and ``generate``
draw (greedy, tiny model, plain and LoRA); ``--profile`` writes the top-ops tables of one compiled and one
eager static call; ``--paths ... static_repeat_kv`` adds the sampler with transformers' own sdpa decode
attention (it copies the cache per query head under compile), to see what the grouped attention saves.
The JSON is rewritten after every path, so a run cut short keeps what it measured.

GPU (about 5 minutes, most of it compiling; on the lent machine the results land in $OUT):

    python benchmarks/rollout_benchmark.py --device cuda --check --profile --out-dir "$OUT"

CPU smoke check (a tiny random Llama; proves the script runs, says nothing about GPU speed):

    .venv/bin/python benchmarks/rollout_benchmark.py --device cpu --tiny --check --profile

Needs only torch, transformers and peft (for --check): where naa's own dependencies (pydantic, ...) are
missing, as on the lent GPU machine, the two rollout modules are loaded without the ``naa`` package's
``__init__``. ``--model`` takes a saved model folder instead of random weights. The default output is
benchmarks/results/rollout_<device>.json (rollout_<device>_tiny.json with --tiny).
"""

import argparse
import functools
import gc
import json
import os
import platform
import re
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
try:
    import naa  # noqa: F401
except Exception:  # naa/__init__ imports the whole assistant (pydantic, ...); the rollout modules need none
    for loaded in [m for m in sys.modules if m == "naa" or m.startswith("naa.")]:
        del sys.modules[loaded]
    package = types.ModuleType("naa")
    package.__path__ = [str(ROOT / "naa")]
    sys.modules["naa"] = package

import torch  # noqa: E402
import transformers  # noqa: E402
from torch import nn  # noqa: E402
from torch._dynamo.utils import counters  # noqa: E402

from naa.rl.rollout import SamplingSettings, left_pad, to_groups  # noqa: E402
from naa.rl.static_rollout import StaticCacheSampler  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PATHS = ("generate_dynamic", "generate_static", "static", "static_repeat_kv")
DEFAULT_PATHS = PATHS[:3]  # static_repeat_kv on request: one more compile
SMOLLM2_135M = {  # the shape of HuggingFaceTB/SmolLM2-135M(-Instruct)
    "vocab_size": 49152, "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30,
    "num_attention_heads": 9, "num_key_value_heads": 3, "max_position_embeddings": 8192,
    "rope_theta": 100000.0, "tie_word_embeddings": True,
}  # fmt: skip
TINY = {
    "vocab_size": 49152, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 2048,
    "tie_word_embeddings": True,
}  # fmt: skip


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def build_model(args: argparse.Namespace) -> tuple[nn.Module, Any, str]:
    """The model, its tokenizer, and a description. Random weights get a word-level tokenizer over the same
    vocabulary (ids only matter; decoding is timed apart)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    dtype = getattr(torch, args.dtype)
    if args.model:
        model = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(args.model)
        if not args.keep_eos:
            model.generation_config.eos_token_id = None
        return model.to(args.device).eval(), tokenizer, str(args.model)
    shape = TINY if args.tiny else SMOLLM2_135M
    config = LlamaConfig(**shape, bos_token_id=1, eos_token_id=2, pad_token_id=2)
    torch.manual_seed(args.seed)
    model = LlamaForCausalLM(config).to(dtype=dtype, device=args.device).eval()
    model.generation_config.eos_token_id = 2 if args.keep_eos else None  # generate runs to the end too
    name = "tiny random Llama" if args.tiny else "random-weight SmolLM2-135M-shaped Llama"
    return model, word_tokenizer(shape["vocab_size"]), name


def word_tokenizer(vocab_size: int) -> Any:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    vocab = {f"t{i}": i for i in range(vocab_size)}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="t0"))
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="t1", eos_token="t2", pad_token="t2")


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(call: Callable[[], Any], device: str) -> tuple[float, Any]:
    sync(device)
    start = time.perf_counter()
    out = call()
    sync(device)
    return time.perf_counter() - start, out


def generate_call(
    model: nn.Module, prompts: list[list[int]], args: argparse.Namespace, top_p: float, static: bool
) -> Callable[[], Any]:
    input_ids, attention = left_pad(prompts, 2, torch.device(args.device))
    extra = {"cache_implementation": "static"} if static else {}

    def call() -> Any:
        with torch.no_grad():
            out = model.generate(  # type: ignore[operator]
                input_ids=input_ids, attention_mask=attention, do_sample=True, temperature=args.temperature,
                top_p=top_p, top_k=0, max_new_tokens=args.new_tokens, num_return_sequences=args.group_size,
                pad_token_id=2, eos_token_id=2 if args.keep_eos else None, **extra,
            )  # fmt: skip
        return out[:, input_ids.shape[1] :]

    return call


def run_path(
    path: str,
    model: nn.Module,
    tokenizer: Any,
    prompts: list[list[int]],
    args: argparse.Namespace,
    top_p: float,
) -> dict[str, Any]:
    """First call, then timed calls of one path at one top-p; the static sampler adds its own stats."""
    counters.clear()
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sampler = None
    if path.startswith("generate"):
        call = generate_call(model, prompts, args, top_p, static=path == "generate_static")
    else:
        compile_step = args.device == "cuda" and not args.no_compile
        settings = SamplingSettings(args.new_tokens, args.temperature, top_p, args.sequences)
        sampler = StaticCacheSampler(
            model, tokenizer, settings, compile=compile_step, grouped_attention=path == "static"
        )
        if not args.keep_eos:
            sampler.eos_ids = set()
        call = functools.partial(sampler.generate_ids, prompts, args.group_size)

    first_s, out = timed(call, args.device)
    warm = [timed(call, args.device)[0] for _ in range(args.timed_calls)]
    tokens = args.sequences * args.new_tokens if not args.keep_eos else None
    warm_s = statistics.median(warm)
    row: dict[str, Any] = {
        "path": path,
        "top_p": top_p,
        "first_call_s": round(first_s, 3),
        "warm_s": [round(w, 4) for w in warm],
        "tokens_per_s": round(tokens / warm_s, 1) if tokens else None,
        "ms_per_token_step": round(1000 * warm_s / args.new_tokens, 3),  # prefill included
        "new_tokens_per_sequence": len(out[0]),
        "compile": {
            "graphs": counters["stats"]["unique_graphs"],
            "cudagraph_skips": counters["inductor"]["cudagraph_skips"],
        },
    }
    if sampler is not None:
        stats = sampler.stats  # of the last timed call
        row["prefill_s"] = round(stats.prefill_s, 4)
        row["decode_s"] = round(stats.decode_s, 4)
        row["decode_steps"] = stats.decode_steps
        row["ms_per_decode_step"] = round(1000 * stats.decode_s / max(stats.decode_steps, 1), 3)
        row["compiled"] = sampler.compile
        start = time.perf_counter()
        to_groups(out, args.group_size, sampler.eos_ids, tokenizer)
        row["decode_text_s"] = round(time.perf_counter() - start, 4)  # Sample text, CPU only
        if args.profile and path == "static" and top_p == args.top_p[0]:
            row["profiles"] = profile_static(model, tokenizer, prompts, args, top_p)
    if args.device == "cuda":
        row["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return row


def profile_static(
    model: nn.Module, tokenizer: Any, prompts: list[list[int]], args: argparse.Namespace, top_p: float
) -> list[str]:
    """Top ops of one warm static call, compiled (what runs) and eager (the per-kernel breakdown, which a
    CUDA graph replay may hide), written next to the results."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if args.device == "cuda" else [])
    sort = "self_cuda_time_total" if args.device == "cuda" else "self_cpu_time_total"
    written = []
    for compiled in (True, False) if args.device == "cuda" and not args.no_compile else (False,):
        settings = SamplingSettings(args.new_tokens, args.temperature, top_p, args.sequences)
        sampler = StaticCacheSampler(model, tokenizer, settings, compile=compiled)
        if not args.keep_eos:
            sampler.eos_ids = set()
        sampler.generate_ids(prompts, args.group_size)  # warm: compiled already, but a new graph to record
        with profile(activities=activities) as prof:
            sampler.generate_ids(prompts, args.group_size)
            sync(args.device)
        mode = "compiled" if compiled else "eager"
        path = args.out.with_name(f"{args.out.stem}_profile_{mode}.txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        header = (
            f"static sampler, {mode}, top-p {top_p}, {args.sequences} sequences x {args.new_tokens} new "
            f"tokens, {sampler.stats.decode_steps} decode steps, "
            f"prefill {sampler.stats.prefill_s:.4f} s, decode {sampler.stats.decode_s:.4f} s\n"
        )
        path.write_text(header + prof.key_averages().table(sort_by=sort, row_limit=30), encoding="utf-8")
        written.append(str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path))
    return written


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    report: dict[str, Any] = {
        "device": device_name(args.device),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "results": [],
    }
    if args.check:
        try:
            report["check"] = check_compiled(args)
        except Exception as err:  # recorded; the speed figures are still worth having
            report["check"] = {"error": f"{type(err).__name__}: {err}"[:2000]}
        print(json.dumps({"check": report["check"]}), flush=True)
    if any(path.startswith("static") for path in args.paths) and min(args.top_p) < 1.0:
        try:
            report["nucleus_check"] = check_nucleus(args.device)
        except Exception as err:
            report["nucleus_check"] = {"error": f"{type(err).__name__}: {err}"[:2000]}
        print(json.dumps({"nucleus_check": report["nucleus_check"]}), flush=True)
    model, tokenizer, name = build_model(args)
    report["label"] = f"rollout speed, {name}, {args.dtype}" + (
        " (CPU smoke run: checks the script, not GPU speed)" if args.device == "cpu" else ""
    )
    generator = torch.Generator().manual_seed(args.seed)
    vocab = model.get_output_embeddings().weight.shape[0]  # type: ignore[operator]
    prompts = [
        torch.randint(3, vocab, (args.prompt_tokens,), generator=generator).tolist()
        for _ in range(args.sequences // args.group_size)
    ]
    torch.manual_seed(args.seed)
    for path in args.paths:
        for top_p in args.top_p:
            if path == "static_repeat_kv" and top_p != args.top_p[0]:
                continue  # a diagnostic of the attention, not of the sampling: one top-p is enough
            if path.startswith("static"):
                # Compile from scratch, as a fresh process would: after a call with other shapes (--check,
                # another path) dynamo would compile this one with dynamic shapes instead.
                torch._dynamo.reset()
            # one failing path (a compile error, out of memory) must not lose the others' figures
            try:
                row = run_path(path, model, tokenizer, prompts, args, top_p)
            except Exception as err:
                row = {"path": path, "top_p": top_p, "error": f"{type(err).__name__}: {err}"[:2000]}
            gc.collect()  # the path's caches and sampler go before the next one is measured
            if args.device == "cuda":
                torch.cuda.empty_cache()
            report["results"].append(row)
            print(json.dumps(row), flush=True)
            report["wall_s"] = round(time.perf_counter() - started, 1)
            save(report, args.out)  # a run cut short by a time limit keeps what it measured
    return report


def save(report: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")


def check_nucleus(device: str, top_p: float = 0.9) -> dict[str, Any]:
    """On this device, the compiled top-p nucleus (static_rollout's search, no sort) against float64
    arithmetic, over the full SmolLM2 vocabulary: no token may differ but within float noise of the edge."""
    from naa.generation.sampling import nucleus

    torch.manual_seed(0)
    probs = (torch.randn(64, SMOLLM2_135M["vocab_size"], device=device) * 3).softmax(dim=-1)
    start = time.perf_counter()
    found = torch.compile(nucleus)(probs, top_p)
    sync(device)
    compile_s = time.perf_counter() - start
    exact = probs.double()
    ranked, order = exact.sort(dim=-1, descending=True)
    mass_above = torch.zeros_like(exact).scatter(-1, order, ranked.cumsum(dim=-1) - ranked)
    wrong, edge = found != (mass_above < top_p), (mass_above - top_p).abs() < 1e-5
    return {
        "top_p": top_p,
        "kept_per_row": round(found.sum(dim=-1).float().mean().item(), 1),
        "wrong_off_edge": int((wrong & ~edge).sum()),  # must be 0
        "wrong_at_edge": int((wrong & edge).sum()),
        "compile_s": round(compile_s, 1),
    }


def check_compiled(args: argparse.Namespace) -> dict[str, Any]:
    """On this device, greedy draws of the compiled static sampler (CUDA graphs on a GPU) equal the eager
    sampler's, for a plain and a LoRA model, also after an in-place weight change (as an optimiser step
    makes); the eager sampler's equal ``generate``'s. A tiny float32 Llama with spread-out logits, so
    float noise flips no argmax."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(args.seed)
    config = LlamaConfig(**TINY, initializer_range=0.3, bos_token_id=1, eos_token_id=2, pad_token_id=2)
    model: nn.Module = LlamaForCausalLM(config).to(args.device).eval()
    tokenizer = word_tokenizer(TINY["vocab_size"])
    prompts = [list(range(5, 5 + length)) for length in (3, 9, 17, 30)]  # widths 3..30: left padding
    settings = SamplingSettings(16, 1.0, 1e-6, 64)  # top-p 1e-6 keeps one token: greedy

    def greedy(sampler: StaticCacheSampler) -> list[list[int]]:
        sampler.eos_ids = set()  # every row runs all 16 tokens
        return sampler.generate_ids(prompts, 2)

    input_ids, attention = left_pad([p for p in prompts for _ in range(2)], 2, torch.device(args.device))
    with torch.no_grad():
        reference = model.generate(  # type: ignore[operator]
            input_ids=input_ids, attention_mask=attention, do_sample=False, max_new_tokens=16,
            pad_token_id=2, eos_token_id=None,
        )[:, input_ids.shape[1] :].tolist()  # fmt: skip
    out: dict[str, Any] = {
        "eager_equals_generate": greedy(StaticCacheSampler(model, tokenizer, settings)) == reference
    }
    counters.clear()
    for kind in ("plain", "lora"):
        if kind == "lora":
            from peft import LoraConfig, get_peft_model

            lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
            model = get_peft_model(model, lora)
            for param_name, param in model.named_parameters():
                if "lora_B" in param_name:  # peft starts B at zero: adapters would change nothing
                    nn.init.normal_(param, std=0.5)
        eager = StaticCacheSampler(model, tokenizer, settings, bucket_shapes=True)
        compiled = StaticCacheSampler(model, tokenizer, settings, compile=True)
        same = [greedy(compiled) == greedy(eager) for _ in range(2)]  # compile + record, then replay
        with torch.no_grad():
            for param in model.parameters():
                param.mul_(1.1)
        same.append(greedy(compiled) == greedy(eager))
        out[f"{kind}_compiled_equals_eager"] = same
    out["graphs"] = counters["stats"]["unique_graphs"]
    out["cudagraph_skips"] = counters["inductor"]["cudagraph_skips"]
    return out


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{report['label']}\ndevice: {report['device']}  versions: {report['versions']}")
    print(
        f"{'path':<18} {'top-p':>5} {'first s':>8} {'warm s':>8} {'tok/s':>10} {'ms/step':>8} "
        f"{'prefill s':>9} {'GiB':>6}"
    )
    for r in report["results"]:
        if "error" in r:
            print(f"{r['path']:<18} {r['top_p']:>5} error: {r['error'][:80]}")
            continue
        step = r.get("ms_per_decode_step", r["ms_per_token_step"])
        tokens = f"{r['tokens_per_s']:.0f}" if r["tokens_per_s"] else "-"
        warm = statistics.median(r["warm_s"])
        print(
            f"{r['path']:<18} {r['top_p']:>5} {r['first_call_s']:>8.2f} {warm:>8.3f} {tokens:>10} "
            f"{step:>8.2f} {r.get('prefill_s', '-'):>9} {r.get('peak_gib', '-'):>6}"
        )
    print("ms/step: decode steps only for the static sampler; whole call / new tokens for generate")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--model", default=None, help="a saved model folder; default: random weights")
    parser.add_argument("--tiny", action="store_true", help="tiny random model and sizes (CPU smoke check)")
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(DEFAULT_PATHS))
    parser.add_argument("--sequences", type=int, default=512, help="rows per call (prompts x group size)")
    parser.add_argument("--group-size", type=int, default=8, help="samples per prompt")
    parser.add_argument("--prompt-tokens", type=int, default=72)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, nargs="+", default=[1.0, 0.9])
    parser.add_argument(
        "--keep-eos", action="store_true", help="stop at the end token (default: run to the end)"
    )
    parser.add_argument("--timed-calls", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true", help="static sampler eager on CUDA too")
    parser.add_argument("--profile", action="store_true", help="torch.profiler top ops of the static sampler")
    parser.add_argument(
        "--check", action="store_true", help="first check compiled == eager == generate on a tiny model"
    )
    parser.add_argument("--dtype", choices=("bfloat16", "float32"), default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="where rollout_<device>.json goes")
    parser.add_argument("--out", type=Path, default=None, help="JSON path instead (profiles go beside it)")
    args = parser.parse_args(argv)
    if args.tiny:
        defaults = parser.parse_args([])
        for name, small in (("sequences", 8), ("group_size", 2), ("prompt_tokens", 16), ("new_tokens", 8)):
            if getattr(args, name) == getattr(defaults, name):
                setattr(args, name, small)
    if args.sequences % args.group_size:
        parser.error("--sequences must be a multiple of --group-size")
    args.dtype = args.dtype or ("bfloat16" if args.device == "cuda" else "float32")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: use --device cpu --tiny for a smoke check")
    if args.out is None:  # rollout_nvidia_h200.json, rollout_cpu_tiny.json
        slug = re.sub(r"[^a-z0-9]+", "_", device_name(args.device).lower().split(" (")[0]).strip("_")
        args.out = args.out_dir / f"rollout_{slug}{'_tiny' if args.tiny else ''}.json"
    report = run(args)
    print_table(report)
    save(report, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
