"""Knowledge-base retrieval on CPU: ingestion throughput, query embedding, FAISS search at 100,000 chunks.

- Ingestion: Banking77 training utterances grouped into one article per intent (paragraphs of six
  utterances), run through ``KnowledgeBase.add`` with the default config (chunk_size 800, MiniLM): the
  end-to-end rate, and the embedding and index-writing stages apart (the encoder is loaded first); then
  the same documents again with ``replace=True``, as a re-run indexing job does.
- Query embedding: one CLINC150 test utterance at a time, as in a conversation turn, on OpenVINO and
  on PyTorch.
- Search: 100,000 synthetic unit 384-d vectors in topic clusters (the index does not care where vectors
  come from; embedding 100k chunks here would take hours), exact (``IndexFlatIP``), HNSW and IVF, built
  and searched by the functions the knowledge base uses with its default efSearch and nprobe; one query
  at a time, each a noisy copy of a stored vector; HNSW and IVF recall@1 and recall@k against the exact
  result.

Prints a table and writes ``benchmarks/results/retrieval.json``. Data: ../shared/data (Banking77 CC BY 4.0,
CLINC150 CC BY 3.0).

    .venv/bin/python benchmarks/retrieval_benchmark.py [--ingest-chunks 400] [--index-size 100000]
        [--precision auto|float32|bfloat16] [--runtime auto|torch|openvino]
"""

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import describe  # noqa: E402

from naa.embeddings import Runtime, embed, load_encoder, resolved_precision  # noqa: E402
from naa.retrieval import Document, FaissRetrieverConfig, KnowledgeBase, chunk_documents  # noqa: E402
from naa.retrieval.faiss_index import IndexKind, build_index, ivf_lists, search_index  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "retrieval.json"
TARGETS = {"ingest_chunks_per_s": 200, "search_p50_ms": 5.0}
DIMENSION = 384  # all-MiniLM-L6-v2
APPROXIMATE: tuple[IndexKind, ...] = ("hnsw", "ivf")
RUNTIMES: tuple[Runtime, ...] = ("openvino", "torch")


def banking77_articles() -> list[Document]:
    """One article per Banking77 intent: its training utterances, six to a paragraph."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    with (DATA / "banking77" / "train.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_intent[row["category"]].append(row["text"].strip())
    return [
        Document(
            f"banking77/{intent}",
            f"# {intent.replace('_', ' ')}\n\n"
            + "\n\n".join(" ".join(texts[i : i + 6]) for i in range(0, len(texts), 6)),
            title=intent.replace("_", " "),
        )
        for intent, texts in sorted(by_intent.items())
    ]


def _percentiles(samples_s: list[float]) -> dict[str, float]:
    ms = np.array(samples_s) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def measure_ingestion(target_chunks: int, config: FaissRetrieverConfig) -> dict[str, Any]:
    documents: list[Document] = []
    for doc in banking77_articles():  # whole articles until the target chunk count is reached
        documents.append(doc)
        if len(chunk_documents(documents, config.chunk_size, config.chunk_overlap)) >= target_chunks:
            break
    started = time.perf_counter()
    chunks = chunk_documents(documents, config.chunk_size, config.chunk_overlap)
    chunking_s = time.perf_counter() - started
    # Warm-up: the first calls load the model and, on OpenVINO, convert and compile it (once for one
    # query, once more for many texts).
    embed(
        [c.text for c in chunks[: 2 * config.embedding_batch_size]],
        config.embedding_model,
        precision=config.embedding_precision,
        runtime=config.embedding_runtime,
    )
    tokenizer = load_encoder(config.embedding_model).tokenizer
    tokens = [len(ids) for ids in tokenizer([c.embedding_text() for c in chunks])["input_ids"]]
    runs = []  # (end to end, embedding) seconds of each run into a new knowledge base
    with tempfile.TemporaryDirectory() as folder:
        for run in range(3):  # the median of three: this machine's speed drifts within seconds
            marks: dict[str, float] = {}

            def progress(fraction: float, message: str, marks: dict[str, float] = marks) -> None:
                marks.setdefault(message.split()[0], time.perf_counter())

            kb = KnowledgeBase(Path(folder) / f"kb{run}", config)
            started = time.perf_counter()
            report = kb.add(documents, progress=progress)
            runs.append((time.perf_counter() - started, marks["writing"] - started))
        again = kb.add(documents, replace=True)  # a re-run job: unchanged chunks keep their vectors
    total_s, embedding_s = sorted(runs)[1]
    return {
        "documents": report.documents,
        "chunks": report.chunks,
        "mean_chars_per_chunk": statistics.mean(len(chunk.text) for chunk in chunks),
        "mean_tokens_per_chunk": statistics.mean(tokens),
        "chunk_size": config.chunk_size,
        "batch_size": config.embedding_batch_size,
        "precision": resolved_precision(config.embedding_precision),
        "runtime": config.embedding_runtime,
        "chunking_chunks_per_s": len(chunks) / chunking_s,
        "embedding_chunks_per_s": report.chunks / embedding_s,
        "embedding_tokens_per_s": sum(tokens) / embedding_s,
        "index_write_s": total_s - embedding_s,
        "end_to_end_chunks_per_s": report.chunks / total_s,
        "reingest_unchanged_chunks_per_s": again.chunks / again.seconds,
    }


def measure_query_embedding(count: int, config: FaissRetrieverConfig) -> dict[str, Any]:
    """One CLINC150 test utterance at a time, on each runtime (the configured one is what a turn pays)."""
    queries = [text for text, _ in json.loads((DATA / "clinc150" / "data_full.json").read_text())["test"]][
        :count
    ]
    results: dict[str, Any] = {
        "queries": len(queries),
        "precision": resolved_precision(config.embedding_precision),
        "runtime": config.embedding_runtime,
    }
    for runtime in RUNTIMES:
        embed(queries[:4], config.embedding_model, precision=config.embedding_precision, runtime=runtime)
        samples = []
        for query in queries:
            started = time.perf_counter()
            embed([query], config.embedding_model, precision=config.embedding_precision, runtime=runtime)
            samples.append(time.perf_counter() - started)
        results[runtime] = _percentiles(samples)
    return results


def measure_search(size: int, queries: int, top_k: int, ef_search: int, nprobe: int) -> dict[str, Any]:
    vectors, probes = _clustered_vectors(size, queries)
    results: dict[str, Any] = {"chunks": size, "dimension": DIMENSION, "queries": queries, "top_k": top_k}
    found: dict[str, np.ndarray] = {}
    for kind in ("flat", *APPROXIMATE):
        started = time.perf_counter()
        index = build_index(vectors, kind, ef_search, nprobe)
        build_s = time.perf_counter() - started
        search_index(index, probes[:10], top_k)
        samples, ids = [], []
        for probe in probes:
            started = time.perf_counter()
            _, row = search_index(index, probe[None, :], top_k)
            samples.append(time.perf_counter() - started)
            ids.append(row[0])
        found[kind] = np.array(ids)
        results["exact" if kind == "flat" else kind] = {"build_s": build_s, **_percentiles(samples)}
    results["hnsw"]["ef_search"] = ef_search
    results["ivf"] |= {"nlist": ivf_lists(size), "nprobe": nprobe}
    exact = found["flat"]
    for kind in APPROXIMATE:
        hits = [len(set(a) & set(b)) for a, b in zip(exact, found[kind], strict=True)]
        results[kind]["recall_at_1"] = float(np.mean(exact[:, 0] == found[kind][:, 0]))
        results[kind][f"recall_at_{top_k}"] = sum(hits) / (queries * top_k)
    return results


def _clustered_vectors(size: int, queries: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors in topic clusters (chunk embeddings are clustered too; uniform random vectors have no
    meaningful neighbours), and queries that paraphrase stored vectors (cosine about 0.9 to their source)."""
    rng = np.random.default_rng(0)
    centres = _unit(rng.standard_normal((max(size // 50, 1), DIMENSION), dtype=np.float32))
    noise = _unit(rng.standard_normal((size, DIMENSION), dtype=np.float32))
    vectors = _unit(centres[rng.integers(0, len(centres), size)] + noise)
    sources = vectors[rng.integers(0, size, queries)]
    probes = _unit(sources + 0.5 * _unit(rng.standard_normal((queries, DIMENSION), dtype=np.float32)))
    return vectors, probes


def _unit(matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(matrix / np.linalg.norm(matrix, axis=1, keepdims=True), dtype=np.float32)


def print_table(results: dict[str, Any]) -> None:
    ingest, query, search = results["ingestion"], results["query_embedding"], results["search"]
    rows = [
        ("ingestion end to end (chunks/s)", f"{ingest['end_to_end_chunks_per_s']:.1f}", ">= 200"),
        ("  embedding (chunks/s)", f"{ingest['embedding_chunks_per_s']:.1f}", ""),
        ("  embedding (tokens/s)", f"{ingest['embedding_tokens_per_s']:.0f}", ""),
        ("  mean tokens per chunk", f"{ingest['mean_tokens_per_chunk']:.0f}", ""),
        ("  chunking (chunks/s)", f"{ingest['chunking_chunks_per_s']:.0f}", ""),
        ("  index write (s)", f"{ingest['index_write_s']:.2f}", ""),
        (
            "re-ingest of unchanged documents (chunks/s)",
            f"{ingest['reingest_unchanged_chunks_per_s']:.0f}",
            "",
        ),
    ]
    for runtime in RUNTIMES:
        stats = query[runtime]
        label = f"query embedding, {runtime}, p50 / p99 (ms)"
        rows.append((label, f"{stats['p50_ms']:.1f} / {stats['p99_ms']:.1f}", ""))
    for name in ("exact", *APPROXIMATE):
        stats = search[name]
        rows.append(
            (
                f"{name} search, {search['chunks']:,} chunks, p50 / p99 (ms)",
                f"{stats['p50_ms']:.2f} / {stats['p99_ms']:.2f}",
                "p50 < 5",
            )
        )
        rows.append((f"  {name} build (s)", f"{stats['build_s']:.1f}", ""))
    rows.append(
        ("  ivf lists / probed per query", f"{search['ivf']['nlist']} / {search['ivf']['nprobe']}", "")
    )
    for name in APPROXIMATE:
        for key in ("recall_at_1", f"recall_at_{search['top_k']}"):
            rows.append((f"  {name} {key.replace('_', ' ')} vs exact", f"{search[name][key]:.3f}", ""))
    width = max(len(row[0]) for row in rows)
    print(f"{'measure':<{width}}  {'value':>14}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>14}  {target}")
    machine = results["machine"]
    print(f"machine: {machine['cpus']} x {machine['cpu']}, load average {machine['load_average']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingest-chunks", type=int, default=400, help="chunks to ingest (whole articles)")
    parser.add_argument("--queries", type=int, default=1000, help="single-query searches per index")
    parser.add_argument("--index-size", type=int, default=100_000, help="vectors in the search index")
    parser.add_argument("--top-k", type=int, default=FaissRetrieverConfig().top_k)
    parser.add_argument(
        "--precision", choices=["auto", "float32", "bfloat16"], default="auto", help="encoder arithmetic"
    )
    parser.add_argument(
        "--runtime", choices=["auto", "torch", "openvino"], default="auto", help="what runs the encoder"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]
    config = FaissRetrieverConfig(embedding_precision=args.precision, embedding_runtime=args.runtime)
    results: dict[str, Any] = {
        "ingestion": measure_ingestion(args.ingest_chunks, config),
        "query_embedding": measure_query_embedding(100, config),
        "search": measure_search(
            args.index_size, args.queries, args.top_k, config.hnsw_ef_search, config.ivf_nprobe
        ),
    }
    results["machine"] = {
        **describe(),
        "load_average": {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]},
    }
    results["targets"] = TARGETS
    results["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
