"""Why NAA embeds with OpenVINO: the same MiniLM on the CPU runtimes that could run it.

Embeds the same knowledge-base chunks (Banking77 articles, chunked as ingestion does) with each runtime,
one after the other in one process, and reports chunks/s, tokens/s, the cosine similarity of each
runtime's vectors to float32 PyTorch's (a retrieval index must not mix vectors that disagree), and the
p50 time to embed one short query (CLINC150 test utterances, one at a time, as in a conversation turn):

- OpenVINO float32 and bfloat16 through ``naa.embeddings.embed`` (the default, ``embedding_runtime:
  auto``; bfloat16 where the CPU has bfloat16 instructions); the first call converts the model;
- PyTorch float32, PyTorch bfloat16 autocast (``embedding_runtime: torch``), the same compiled by
  ``torch.compile``, PyTorch dynamic int8 (per-tensor);
- ONNX Runtime float32 and int8 (dynamic quantisation, per-channel weights), when ``onnxruntime`` is
  installed (``pip install onnxruntime``; not a dependency of NAA): the model is exported with
  ``torch.onnx.export`` into a temporary folder.

Prints a table and writes ``benchmarks/results/embedding_runtimes.json``.

    .venv/bin/python benchmarks/embedding_runtime_benchmark.py [--chunks 400] [--batch-size 32]
"""

import argparse
import copy
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import describe  # noqa: E402
from retrieval_benchmark import banking77_articles  # noqa: E402

from naa.embeddings import embed, load_encoder  # noqa: E402
from naa.retrieval import FaissRetrieverConfig, chunk_documents  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "embedding_runtimes.json"
DATA = ROOT.parent / "shared" / "data"
Encode = Callable[[list[str]], np.ndarray]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument(
        "--batch-size", type=int, default=FaissRetrieverConfig().embedding_batch_size, help="as ingestion's"
    )
    parser.add_argument("--queries", type=int, default=50, help="one-query calls timed per runtime")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    config = FaissRetrieverConfig()
    chunks = [c.text for c in chunk_documents(banking77_articles(), config.chunk_size, config.chunk_overlap)]
    chunks = chunks[: args.chunks]
    model = load_encoder(config.embedding_model)
    tokens = sum(len(ids) for ids in model.tokenizer(chunks, truncation=True)["input_ids"])
    runtimes = openvino_runtimes(args.batch_size) | torch_runtimes(model, args.batch_size)
    with tempfile.TemporaryDirectory(prefix="naa-onnx-") as scratch:
        if importlib.util.find_spec("onnxruntime") is not None:
            runtimes.update(onnx_runtimes(model, Path(scratch), args.batch_size))
        else:
            print("onnxruntime is not installed: ONNX rows skipped (pip install onnxruntime)")
        rows = measure(runtimes, chunks, tokens, clinc150_queries(args.queries))
    print(f"{len(chunks)} chunks, {tokens / len(chunks):.0f} tokens each on average, batch {args.batch_size}")
    print(
        f"{'runtime':<26} {'first s':>8} {'chunks/s':>9} {'tokens/s':>9} {'cos min':>8} {'cos mean':>9} "
        f"{'query p50 ms':>13}"
    )
    for row in rows:
        print(
            f"{row['runtime']:<26} {row['first_call_s']:8.1f} {row['chunks_per_s']:9.1f} "
            f"{row['tokens_per_s']:9.0f} {row['cosine_min']:8.4f} {row['cosine_mean']:9.4f} "
            f"{row['query_p50_ms']:13.1f}"
        )
    result = {
        "chunks": len(chunks),
        "mean_tokens": tokens / len(chunks),
        "batch_size": args.batch_size,
        "rows": rows,
        "machine": describe(),
        "load_average_after": os.getloadavg(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")


def clinc150_queries(count: int) -> list[str]:
    return [text for text, _ in json.loads((DATA / "clinc150" / "data_full.json").read_text())["test"]][
        :count
    ]


def openvino_runtimes(batch_size: int) -> dict[str, Encode]:
    def encode_with(precision: Any) -> Encode:
        return lambda texts: embed(texts, batch_size=batch_size, precision=precision, runtime="openvino")

    return {"openvino float32": encode_with("float32"), "openvino bfloat16": encode_with("bfloat16")}


def torch_runtimes(model: Any, batch_size: int) -> dict[str, Encode]:
    def encode_with(encoder: Any) -> Encode:
        return lambda texts: encoder.encode(texts, batch_size=batch_size, normalize_embeddings=True)

    def bfloat16(texts: list[str]) -> np.ndarray:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return np.asarray(encode_with(model)(texts), dtype=np.float32)

    quantized = copy.deepcopy(model)
    torch.ao.quantization.quantize_dynamic(
        quantized[0].auto_model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
    )
    # Inductor with freezing (weights folded in as constants, prepacked for oneDNN), the CPU inference
    # setting PyTorch recommends; dynamic shapes, as batches differ in length. It compiles on first call.
    torch._inductor.config.freezing = True
    compiled = copy.deepcopy(model)
    transformer = compiled[0].auto_model.eval()
    transformer.forward = torch.compile(transformer.forward, dynamic=True)

    def bfloat16_compiled(texts: list[str]) -> np.ndarray:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            return np.asarray(encode_with(compiled)(texts), dtype=np.float32)

    return {
        "pytorch float32": encode_with(model),
        "pytorch bfloat16": bfloat16,
        "pytorch bfloat16 compiled": bfloat16_compiled,
        "pytorch int8 dynamic": encode_with(quantized),
    }


def onnx_runtimes(model: Any, folder: Path, batch_size: int) -> dict[str, Encode]:
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = ["input_ids", "attention_mask", "token_type_ids"]
    transformer = model[0].auto_model.eval()

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer  # a submodule, so the exporter sees its weights as parameters

        def forward(self, *inputs: torch.Tensor) -> Any:
            return self.transformer(**dict(zip(names, inputs, strict=True))).last_hidden_state

    example = model.tokenizer(["an example", "another example"], padding=True, return_tensors="pt")
    float_path, int8_path = folder / "model.onnx", folder / "model.int8.onnx"
    torch.onnx.export(
        LastHidden(),
        tuple(example[name] for name in names),
        str(float_path),
        input_names=names,
        output_names=["hidden"],
        dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "hidden"]},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(float_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=True)

    def encode_with(path: Path) -> Encode:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        def encode(texts: list[str]) -> np.ndarray:
            # Length-sorted batches, as sentence-transformers makes them.
            order = np.argsort([len(text) for text in texts])
            out = np.zeros((len(texts), transformer.config.hidden_size), dtype=np.float32)
            for start in range(0, len(texts), batch_size):
                ids = order[start : start + batch_size]
                batch = model.tokenizer(
                    [texts[i] for i in ids], padding=True, truncation=True, return_tensors="np"
                )
                hidden = session.run(None, {name: batch[name].astype(np.int64) for name in names})[0]
                mask = batch["attention_mask"][..., None]
                pooled = (hidden * mask).sum(axis=1) / mask.sum(axis=1)  # mean pooling, as MiniLM's config
                out[ids] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
            return out

        return encode

    return {"onnxruntime float32": encode_with(float_path), "onnxruntime int8": encode_with(int8_path)}


def measure(
    runtimes: dict[str, Encode], chunks: list[str], tokens: int, queries: list[str]
) -> list[dict[str, Any]]:
    reference = runtimes["pytorch float32"](chunks)
    rows = []
    for name, encode in runtimes.items():
        started = time.perf_counter()
        encode(chunks[:64])  # warm-up: first calls allocate, pick kernels, or compile
        first_call_s = time.perf_counter() - started
        encode(chunks[64:128])  # other shapes, which some compiled graphs specialise on once more
        calls = []
        for _ in range(3):  # the median of three: this machine's speed drifts within seconds
            started = time.perf_counter()
            vectors = encode(chunks)
            calls.append(time.perf_counter() - started)
        seconds = statistics.median(calls)
        cosine = (vectors * reference).sum(axis=1)
        query_s = []
        for query in queries:
            started = time.perf_counter()
            encode([query])
            query_s.append(time.perf_counter() - started)
        rows.append(
            {
                "runtime": name,
                "first_call_s": first_call_s,
                "chunks_per_s": len(chunks) / seconds,
                "tokens_per_s": tokens / seconds,
                "cosine_min": float(cosine.min()),
                "cosine_mean": float(cosine.mean()),
                "query_p50_ms": float(np.median(query_s) * 1000),
            }
        )
    return rows


if __name__ == "__main__":
    main()
