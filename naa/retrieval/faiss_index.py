"""The on-disk form of one knowledge base: FAISS index, vectors and chunk metadata, written atomically.

Layout of a knowledge-base folder::

    manifest.json        embedding model, dimension, index kind, and which generation is current
    gen-000007/          index.faiss, vectors.npy (float32, row i = FAISS id i), metadata.json
    .lock                taken with flock by writers, so two ingests never interleave

A write builds a whole new generation folder under a temporary name, renames it into place, and only then
replaces ``manifest.json`` (``os.replace`` is atomic): a crash or an error at any point leaves the
manifest pointing at the previous, complete generation. The previous generation is kept one write longer
so a reader that has just read the old manifest can still open its files.
"""

import contextlib
import fcntl
import json
import math
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from naa.atomic_files import fsync_path, replace_file
from naa.errors import RetrievalError
from naa.retrieval.chunking import Chunk

FORMAT_VERSION = 1
IndexKind = Literal["flat", "hnsw", "ivf"]
_PARALLEL_FROM = 20  # queries per call from which FAISS's own BLAS/OpenMP path pays off
_HNSW_NEIGHBOURS = 32  # M: FAISS's recommended range is 16-64; 32 gives >0.95 recall@10 at efSearch 64 here
_IVF_POINTS_PER_LIST = 39  # FAISS's k-means warns below 39 training points per centroid


@dataclass(frozen=True)
class Manifest:
    embedding_model: str
    dimension: int
    kind: IndexKind
    generation: int = 0
    format: int = FORMAT_VERSION


@dataclass
class IndexState:
    """Everything a search or a write needs; row ``i`` of ``vectors`` and ``chunks`` is FAISS id ``i``."""

    manifest: Manifest
    index: Any  # faiss.IndexIDMap
    vectors: np.ndarray  # (N, dimension) float32, L2-normalised
    chunks: list[Chunk]
    documents: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # doc_id -> title, source, url, metadata


def build_index(vectors: np.ndarray, kind: IndexKind, ef_search: int, nprobe: int) -> Any:
    """An inner-product index over ``vectors`` with ids 0..N-1; on unit vectors inner product is cosine.

    "ivf" learns its lists from ``vectors`` (k-means), so it needs at least one vector.
    """
    import faiss

    dimension = vectors.shape[1]
    inner: Any
    if kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dimension, _HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    elif kind == "ivf":
        lists = ivf_lists(len(vectors))
        inner = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
        inner.train(vectors)
    else:
        inner = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIDMap(inner)
    set_search_params(index, ef_search, nprobe)
    if len(vectors):
        index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    return index


def search_index(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the ``k`` best rows per query; ids are -1 where fewer than ``k`` rows exist.

    A conversation turn searches one query: OpenMP threads cannot split that work, and on a busy machine
    their spin-waiting costs more than the search (measured on 2 shared cores, 100k exact: p50 88 ms with
    2 threads, 15 ms with 1). So small batches run on one thread; OpenMP's thread count is per calling
    thread, so concurrent index builds elsewhere keep theirs.
    """
    import faiss

    if len(queries) >= _PARALLEL_FROM:
        return index.search(queries, k)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(queries, k)
    finally:
        faiss.omp_set_num_threads(threads)


def ivf_lists(count: int) -> int:
    """IVF lists for ``count`` vectors: FAISS's guideline of about 4*sqrt(N), at least one.

    Capped at N/39 so k-means gets the ~39 training points per centroid it needs: with fewer, the
    centroids fit noise and neighbours land in lists the search does not probe.
    """
    return max(1, min(round(4 * math.sqrt(count)), count // _IVF_POINTS_PER_LIST))


def needs_retraining(index: Any, count: int) -> bool:
    """Whether ``index`` should be rebuilt, not appended to, to hold ``count`` vectors.

    An IVF index keeps the centroids learnt from the vectors it was built on; appended vectors only
    lengthen its lists, so each probe scans more. Retraining once the size calls for twice the lists
    (about four times the vectors) bounds that, at one rebuild per fourfold growth.
    """
    import faiss

    inner = faiss.downcast_index(index.index)
    return isinstance(inner, faiss.IndexIVF) and ivf_lists(count) >= 2 * inner.nlist


def set_search_params(index: Any, ef_search: int, nprobe: int) -> None:
    """efSearch (HNSW) and nprobe (IVF) are query-time knobs: the config's values win over the saved ones."""
    import faiss

    inner = faiss.downcast_index(index.index)
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = ef_search
    elif isinstance(inner, faiss.IndexIVF):
        inner.nprobe = nprobe


class IndexStore:
    """Reads and atomically writes the files of one knowledge-base folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.manifest_path = directory / "manifest.json"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def signature(self) -> tuple[int, int] | None:
        """Changes whenever a writer (maybe another process) replaces the manifest."""
        try:
            stat = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def read_manifest(self) -> Manifest:
        try:
            raw = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            manifest = Manifest(**raw)
        except (OSError, ValueError, TypeError) as err:
            raise self._corrupt(f"unreadable manifest ({err})") from err
        if manifest.format != FORMAT_VERSION:
            raise self._corrupt(f"index format {manifest.format}, this NAA reads {FORMAT_VERSION}")
        return manifest

    def load(self, ef_search: int, nprobe: int) -> IndexState:
        import faiss

        manifest = self.read_manifest()
        folder = self._generation_dir(manifest.generation)
        try:
            index = faiss.read_index(str(folder / "index.faiss"))
            vectors = np.load(folder / "vectors.npy", mmap_mode="r")
            meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
            chunks = [Chunk(**chunk) for chunk in meta["chunks"]]
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as err:
            raise self._corrupt(f"generation {manifest.generation} is unreadable ({err})") from err
        if not (index.ntotal == len(vectors) == len(chunks)):
            raise self._corrupt(f"{index.ntotal} vectors in the index but {len(chunks)} chunks of metadata")
        set_search_params(index, ef_search, nprobe)
        return IndexState(manifest, index, vectors, chunks, meta["documents"])

    def save(self, state: IndexState) -> Manifest:
        """Write ``state`` as the next generation and make it current; returns the new manifest."""
        import faiss

        self.directory.mkdir(parents=True, exist_ok=True)
        generation = (self.read_manifest().generation if self.exists() else 0) + 1
        manifest = Manifest(
            state.manifest.embedding_model, state.manifest.dimension, state.manifest.kind, generation
        )
        temporary = self.directory / f".gen-{generation:06d}.tmp-{os.getpid()}"
        final = self._generation_dir(generation)
        try:
            temporary.mkdir()
            faiss.write_index(state.index, str(temporary / "index.faiss"))
            with (temporary / "vectors.npy").open("wb") as handle:
                np.save(handle, np.ascontiguousarray(state.vectors, dtype=np.float32))
            meta = {"documents": state.documents, "chunks": [chunk.__dict__ for chunk in state.chunks]}
            (temporary / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            for name in ("index.faiss", "vectors.npy", "metadata.json"):
                fsync_path(temporary / name)
            if (
                final.exists()
            ):  # left by a write that crashed before its manifest: never current, safe to drop
                shutil.rmtree(final)
            os.replace(temporary, final)
            self._replace_manifest(manifest)
        except OSError as err:
            raise RetrievalError(
                f"cannot write knowledge base {self.directory} ({err}); the previous index is unchanged: "
                "check disk space and permissions, then retry"
            ) from err
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        self._drop_old_generations(keep={generation, generation - 1})
        return manifest

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Exclusive across processes (flock), so concurrent ingests and deletes run one after the other."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _replace_manifest(self, manifest: Manifest) -> None:
        replace_file(self.manifest_path, [json.dumps(manifest.__dict__, indent=2)])

    def _drop_old_generations(self, keep: set[int]) -> None:
        for path in self.directory.glob("gen-*"):
            number = path.name.removeprefix("gen-")
            if path.is_dir() and number.isdigit() and int(number) not in keep:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.directory.glob(".gen-*.tmp-*"):
            shutil.rmtree(path, ignore_errors=True)

    def _generation_dir(self, generation: int) -> Path:
        return self.directory / f"gen-{generation:06d}"

    def _corrupt(self, problem: str) -> RetrievalError:
        return RetrievalError(
            f"knowledge base {self.directory} is damaged: {problem}; "
            "delete the folder and run `naa kb ingest` again"
        )
