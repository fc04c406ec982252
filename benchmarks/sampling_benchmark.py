"""The cost of one draw of the static sampler's decode step: softmax, the top-p nucleus and the exponential
race over a SmolLM2-sized vocabulary, at the rollout benchmark's row counts.

Three ways, each timed warm (mean of ``--calls`` after one warm-up call, whose time includes the compile):
``draw_tokens`` eager (its nucleus by sort), ``draw_tokens`` compiled (its nucleus by search over float bit
patterns, as in the CUDA-graph decode step), and a compiled sort-based draw, the nucleus as the step had it
before (sort, prefix sum, scatter back), as the baseline. A failure (Inductor's split-scan codegen on CUDA,
out of memory) is recorded in its row.

    python benchmarks/sampling_benchmark.py --device cuda            # seconds on a GPU
    .venv/bin/python benchmarks/sampling_benchmark.py --device cpu --rows 64
"""

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from naa.generation.sampling import draw_tokens, nucleus_by_sort  # noqa: E402

VOCAB = 49152  # SmolLM2's


def sorted_draw(logits: Tensor, temperature: float, top_p: float) -> Tensor:
    """The baseline: draw_tokens with the nucleus by sort even when compiled, as the step had it before."""
    probs = (logits.float() / temperature).softmax(dim=-1)
    if top_p < 1.0:
        probs = probs.masked_fill(~nucleus_by_sort(probs, top_p), 0.0)
    race = torch.empty_like(probs).exponential_(1.0).clamp_min_(torch.finfo(probs.dtype).tiny)
    return (probs / race).argmax(dim=-1)


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def time_draw(draw: Callable[..., Tensor], logits: Tensor, top_p: float, calls: int) -> dict[str, Any]:
    def once() -> float:
        if logits.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        draw(logits, 1.0, top_p)
        if logits.is_cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start

    first = once()
    warm = [once() for _ in range(calls)]
    return {"first_call_s": round(first, 3), "ms": round(1000 * sum(warm) / calls, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--rows", type=int, nargs="+", default=[64, 512])
    parser.add_argument("--top-p", type=float, nargs="+", default=[1.0, 0.9])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None, help="default: results/sampling_<device>.json")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: use --device cpu")
    ways: dict[str, Callable[..., Tensor]] = {
        "eager (sort)": draw_tokens,
        "compiled (search)": torch.compile(draw_tokens, dynamic=False),
        "compiled sort (before)": torch.compile(sorted_draw, dynamic=False),
    }
    torch.manual_seed(0)
    rows_out = []
    print(f"{'rows':>5} {'top-p':>5}  {'way':<24} {'ms/draw':>9} {'first s':>8}")
    for rows in args.rows:
        logits = torch.randn(rows, VOCAB, device=args.device) * 3
        for top_p in args.top_p:
            for way, draw in ways.items():
                try:
                    row = {
                        "rows": rows,
                        "top_p": top_p,
                        "way": way,
                        **time_draw(draw, logits, top_p, args.calls),
                    }
                    print(f"{rows:>5} {top_p:>5}  {way:<24} {row['ms']:>9.3f} {row['first_call_s']:>8.1f}")
                except Exception as err:
                    row = {
                        "rows": rows,
                        "top_p": top_p,
                        "way": way,
                        "error": f"{type(err).__name__}: {err}"[:500],
                    }
                    print(f"{rows:>5} {top_p:>5}  {way:<24} failed: {row['error'][:80]}")
                rows_out.append(row)
    slug = "cpu" if args.device == "cpu" else device_name("cuda").lower().replace(" ", "_")
    out = args.out or ROOT / "benchmarks" / "results" / f"sampling_{slug}.json"
    report = {
        "device": device_name(args.device),
        "torch": torch.__version__,
        "vocab": VOCAB,
        "results": rows_out,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
