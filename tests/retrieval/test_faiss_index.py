"""FAISS index building and loading with real FAISS on random unit vectors."""

from pathlib import Path

import faiss
import numpy as np

from naa.retrieval.chunking import Chunk
from naa.retrieval.faiss_index import (
    IndexKind,
    IndexState,
    IndexStore,
    Manifest,
    build_index,
    ivf_lists,
    needs_retraining,
    search_index,
)

DIMENSION = 384


def _unit(matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(matrix / np.linalg.norm(matrix, axis=1, keepdims=True), dtype=np.float32)


def _vectors(count: int) -> np.ndarray:
    return _unit(np.random.default_rng(0).standard_normal((count, DIMENSION), dtype=np.float32))


def test_ivf_lists_are_four_sqrt_n_with_at_least_39_points_each() -> None:
    # 4*sqrt(N): 4*sqrt(100,000) = 1,264.9; N/39 caps small sizes: 2,000 // 39 = 51 (not 4*sqrt = 179).
    assert [ivf_lists(n) for n in (2, 100, 2_000, 100_000)] == [1, 2, 51, 1_265]


def test_ivf_search_agrees_with_exact_search() -> None:
    vectors = _vectors(2_000)
    rng = np.random.default_rng(1)
    # Paraphrase-like queries: a stored vector plus noise of the same length (cosine about 0.7 to it).
    queries = _unit(
        vectors[rng.integers(0, len(vectors), 200)] + _unit(rng.standard_normal((200, DIMENSION)))
    )
    _, exact = search_index(build_index(vectors, "flat", ef_search=64, nprobe=16), queries, 1)
    index = build_index(vectors, "ivf", ef_search=64, nprobe=16)
    _, approximate = search_index(index, queries, 1)
    assert faiss.downcast_index(index.index).nlist == 51
    assert np.mean(exact[:, 0] == approximate[:, 0]) >= 0.9


def test_loaded_indexes_take_their_search_knobs_from_the_caller(tmp_path: Path) -> None:
    vectors = _vectors(200)
    chunks = [Chunk(f"doc-{i}", f"doc-{i}#0", f"text {i}") for i in range(len(vectors))]
    kinds: tuple[IndexKind, ...] = ("ivf", "hnsw")
    for kind in kinds:
        index = build_index(vectors, kind, ef_search=16, nprobe=1)
        manifest = Manifest("all-MiniLM-L6-v2", DIMENSION, kind)
        IndexStore(tmp_path / kind).save(IndexState(manifest, index, vectors, chunks))
    # Keep the loaded states: the inner index is freed with the IndexIDMap that owns it.
    ivf_state, hnsw_state = (IndexStore(tmp_path / kind).load(ef_search=128, nprobe=4) for kind in kinds)
    ivf, hnsw = (faiss.downcast_index(state.index.index) for state in (ivf_state, hnsw_state))
    assert (ivf.nprobe, hnsw.hnsw.efSearch) == (4, 128)


def test_ivf_index_is_retrained_once_the_size_calls_for_twice_its_lists() -> None:
    ivf = build_index(_vectors(400), "ivf", ef_search=64, nprobe=16)  # 400 // 39 = 10 lists
    # 700 vectors want 700 // 39 = 17 lists (< 20); 800 want 20.
    assert [needs_retraining(ivf, n) for n in (400, 700, 800)] == [False, False, True]
    assert not needs_retraining(build_index(_vectors(400), "flat", ef_search=64, nprobe=16), 100_000)
