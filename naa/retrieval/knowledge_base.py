"""A partner's knowledge base: ingest documents, delete them by id, search them.

Satisfies ``naa.retrieval.base.Retriever``. One folder per knowledge base (see ``faiss_index`` for the
files); writers take a process lock and reload the folder under it, and readers notice a newer generation
written by another process (an API replica sees what a Celery worker ingested) at their next search.
"""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from naa.embeddings import embed
from naa.errors import ConflictError, InputError, NotFoundError, RetrievalError
from naa.retrieval.base import Document, Passage
from naa.retrieval.chunking import Chunk, chunk_documents
from naa.retrieval.config import FaissRetrieverConfig
from naa.retrieval.faiss_index import (
    IndexKind,
    IndexState,
    IndexStore,
    Manifest,
    build_index,
    needs_retraining,
    search_index,
)
from naa.retrieval.rerank import CrossEncoderReranker

Progress = Callable[[float, str], None]
_ENCODE_SLICE = 512  # chunks per progress update; large enough that the encoder's batches stay full


@dataclass(frozen=True)
class IngestReport:
    documents: int
    chunks: int
    replaced: tuple[str, ...]  # ids of documents that existed and were overwritten
    seconds: float
    reused_chunks: int = 0  # chunks whose text was unchanged, so their stored vectors were kept


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    source: str
    url: str
    chunks: int


class KnowledgeBase:
    """Documents chunked, embedded and indexed with FAISS in one folder.

    >>> kb = KnowledgeBase(Path(".naa/partners/demo/kb/default"), FaissRetrieverConfig())
    >>> kb.add(load_documents([Path("help-center/")]))  # doctest: +SKIP
    >>> kb.search(["how long do refunds take?"])[0][0].title  # doctest: +SKIP
    """

    def __init__(self, directory: Path, config: FaissRetrieverConfig, models_dir: Path | None = None) -> None:
        """``models_dir`` (the workspace's) keeps the encoder's OpenVINO conversion between processes."""
        self.directory = directory
        self.config = config
        self.models_dir = models_dir
        self._store = IndexStore(directory)
        self._state: IndexState | None = None
        self._signature: tuple[int, int] | None = None
        self._reranker = CrossEncoderReranker(config.reranker_model) if config.reranker_model else None

    def warm_up(self) -> None:
        """Load the encoder, the re-ranker and the index now rather than at the first search."""
        self._encode(["warm-up"])
        if self._reranker is not None:
            self._reranker.warm_up()
        state = self._current_state()
        if state is not None:
            self._check_model(state.manifest)

    def add(
        self, documents: Sequence[Document], progress: Progress | None = None, replace: bool = False
    ) -> IngestReport:
        """Chunk, embed and index ``documents``; with ``replace``, documents whose id exists are overwritten.

        Raises:
            ConflictError: a document id is already in the knowledge base and ``replace`` is false.
            InputError: no documents, repeated ids, or a document without text.
        """
        started = time.perf_counter()
        report = progress or _ignore_progress
        chunks = self._chunk(documents)
        current = self._current_state()
        if current is not None:
            self._check_model(current.manifest)
            self._check_conflicts(documents, current, replace)
        vectors, reused = self._vectors(chunks, current, report)
        report(0.95, "writing index")
        with self._store.write_lock():
            # Another process may have written since we looked: decide on the state under the lock.
            state = self._reload()
            if state is not None:
                self._check_model(state.manifest)
                self._check_conflicts(documents, state, replace)
            replaced = tuple(
                doc.doc_id for doc in documents if state is not None and doc.doc_id in state.documents
            )
            new_documents = {doc.doc_id: _document_record(doc) for doc in documents}
            self._commit(self._with_added(state, set(replaced), chunks, vectors, new_documents))
        report(1.0, f"{len(chunks)} chunks indexed")
        return IngestReport(len(documents), len(chunks), replaced, time.perf_counter() - started, reused)

    def delete(self, doc_ids: Sequence[str]) -> int:
        """Remove documents and their chunks; returns how many documents were removed.

        The id of a FAQ file (``faq.csv``) removes all its entries (``faq.csv#1``, ``faq.csv#2``, ...).

        Raises:
            NotFoundError: one of the ids is not in the knowledge base (nothing is removed then).
        """
        if not doc_ids:
            return 0
        with self._store.write_lock():
            state = self._reload()
            known = set(state.documents if state else ())
            gone: set[str] = set()
            unknown = []
            for doc_id in doc_ids:
                named = {doc_id} & known or {d for d in known if d.startswith(f"{doc_id}#")}
                gone |= named
                if not named:
                    unknown.append(doc_id)
            if state is None or unknown:
                raise NotFoundError(
                    f"no document {', '.join(map(repr, unknown[:5]))} in knowledge base {self.directory}: "
                    "`naa kb list` shows the ids"
                )
            keep = np.array([chunk.doc_id not in gone for chunk in state.chunks], dtype=bool)
            vectors = np.asarray(state.vectors)[keep]
            chunks = [chunk for chunk, kept in zip(state.chunks, keep, strict=True) if kept]
            documents = {doc_id: info for doc_id, info in state.documents.items() if doc_id not in gone}
            kind = self._kind(len(chunks))
            index = self._build_index(vectors, kind)
            manifest = Manifest(state.manifest.embedding_model, state.manifest.dimension, kind)
            self._commit(IndexState(manifest, index, vectors, chunks, documents))
        return len(gone)

    def documents(self) -> list[DocumentInfo]:
        """The documents in the knowledge base, by id; empty when nothing was ingested yet."""
        state = self._current_state()
        if state is None:
            return []
        counts: dict[str, int] = {}
        for chunk in state.chunks:
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
        return [
            DocumentInfo(doc_id, info["title"], info["source"], info["url"], counts.get(doc_id, 0))
            for doc_id, info in sorted(state.documents.items())
        ]

    def search(self, queries: Sequence[str], top_k: int | None = None) -> list[list[Passage]]:
        """The most similar passages per query, best first, at or above ``min_score``.

        An empty or not-yet-built knowledge base gives empty lists: the assistant then says it does not know.

        Raises:
            RetrievalError: the index was built with another embedding model, or its files are damaged.
        """
        k = top_k or self.config.top_k
        state = self._current_state()
        if not queries or state is None or not state.chunks:
            return [[] for _ in queries]
        self._check_model(state.manifest)
        vectors = self._encode(list(queries))
        self._check_dimension(state.manifest, vectors.shape[1])
        fetch = max(k, self.config.rerank_candidates) if self._reranker else k
        scores, ids = search_index(state.index, vectors, min(fetch, len(state.chunks)))
        results = []
        for query, row_scores, row_ids in zip(queries, scores, ids, strict=True):
            passages = [
                _passage(state.chunks[int(i)], float(score))
                for score, i in zip(row_scores, row_ids, strict=True)
                if i >= 0 and score >= self.config.min_score
            ]
            if self._reranker is not None:
                passages = self._reranker.rerank(query, passages)
            results.append(passages[:k])
        return results

    def _chunk(self, documents: Sequence[Document]) -> list[Chunk]:
        if not documents:
            raise InputError("no documents to add: give at least one file or document")
        ids = [doc.doc_id for doc in documents]
        repeated = sorted(doc_id for doc_id, count in Counter(ids).items() if count > 1)
        if repeated:
            raise InputError(
                f"document ids given more than once: {', '.join(repeated[:5])}; make them unique"
            )
        chunks = chunk_documents(documents, self.config.chunk_size, self.config.chunk_overlap)
        empty = sorted(set(ids) - {chunk.doc_id for chunk in chunks})
        if empty:
            raise InputError(f"document {empty[0]!r} has no text: add text or leave it out")
        return chunks

    def _check_conflicts(self, documents: Sequence[Document], state: IndexState, replace: bool) -> None:
        existing = [doc.doc_id for doc in documents if doc.doc_id in state.documents]
        if existing and not replace:
            names = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
            raise ConflictError(
                f"already in knowledge base {self.directory}: {names}; use replace (--replace) to overwrite"
            )

    def _check_model(self, manifest: Manifest) -> None:
        if _model_key(manifest.embedding_model) != _model_key(self.config.embedding_model):
            raise RetrievalError(
                f"knowledge base {self.directory} was built with embedding model "
                f"{manifest.embedding_model!r}, but the config says {self.config.embedding_model!r}: "
                "delete the folder and run `naa kb ingest` again"
            )

    def _check_dimension(self, manifest: Manifest, dimension: int) -> None:
        if manifest.dimension != dimension:
            raise RetrievalError(
                f"knowledge base {self.directory} holds {manifest.dimension}-d vectors but the encoder gives "
                f"{dimension}-d: delete the folder and run `naa kb ingest` again"
            )

    def _with_added(
        self,
        state: IndexState | None,
        replaced: set[str],
        chunks: list[Chunk],
        vectors: np.ndarray,
        new_documents: dict[str, dict[str, Any]],
    ) -> IndexState:
        dimension = vectors.shape[1]
        if state is None:
            state = IndexState(
                Manifest(self.config.embedding_model, dimension, "flat"),
                self._build_index(np.zeros((0, dimension), np.float32), "flat"),
                np.zeros((0, dimension), np.float32),
                [],
            )
        self._check_dimension(state.manifest, dimension)
        keep = [i for i, chunk in enumerate(state.chunks) if chunk.doc_id not in replaced]
        old_vectors = np.asarray(state.vectors)[keep] if replaced else np.asarray(state.vectors)
        all_vectors = np.concatenate([old_vectors, vectors])
        all_chunks = [state.chunks[i] for i in keep] + chunks
        kind = self._kind(len(all_chunks))
        if replaced or kind != state.manifest.kind or needs_retraining(state.index, len(all_vectors)):
            index = self._build_index(all_vectors, kind)
        else:
            # Appending keeps ids = row numbers; a copy, so a failed write leaves the served index untouched.
            import faiss

            index = faiss.clone_index(state.index)
            index.add_with_ids(vectors, np.arange(len(old_vectors), len(all_vectors), dtype=np.int64))
        documents = {k: v for k, v in state.documents.items() if k not in replaced} | new_documents
        manifest = Manifest(state.manifest.embedding_model, dimension, kind)
        return IndexState(manifest, index, all_vectors, all_chunks, documents)

    def _commit(self, state: IndexState) -> None:
        state.manifest = self._store.save(state)
        self._state, self._signature = state, self._store.signature()

    def _current_state(self) -> IndexState | None:
        signature = self._store.signature()
        if signature is None:
            self._state, self._signature = None, None
        elif signature != self._signature:
            self._state = self._store.load(self.config.hnsw_ef_search, self.config.ivf_nprobe)
            self._signature = signature
        return self._state

    def _reload(self) -> IndexState | None:
        self._signature = None
        return self._current_state()

    def _kind(self, count: int) -> IndexKind:
        return self.config.approximate_index if count > self.config.approximate_above else "flat"

    def _build_index(self, vectors: np.ndarray, kind: IndexKind) -> Any:
        return build_index(vectors, kind, self.config.hnsw_ef_search, self.config.ivf_nprobe)

    def _vectors(
        self, chunks: list[Chunk], current: IndexState | None, report: Progress
    ) -> tuple[np.ndarray, int]:
        """Embed the chunks; a replaced document's unchanged chunks keep their stored vectors.

        Re-ingesting a whole help center after editing a few articles (or re-running an indexing job)
        then costs only the edited chunks: embedding is nearly all of ingestion time on a CPU.
        """
        texts = [chunk.embedding_text() for chunk in chunks]
        if current is None:
            return self._embed(texts, report), 0
        ids = {chunk.doc_id for chunk in chunks}
        stored = {
            chunk.embedding_text(): row for row, chunk in enumerate(current.chunks) if chunk.doc_id in ids
        }
        missing = [i for i, text in enumerate(texts) if text not in stored]
        vectors = np.empty((len(texts), current.manifest.dimension), np.float32)
        if missing:
            fresh = self._embed([texts[i] for i in missing], report)
            self._check_dimension(current.manifest, fresh.shape[1])
            vectors[missing] = fresh
        kept = [i for i, text in enumerate(texts) if text in stored]
        vectors[kept] = np.asarray(current.vectors)[[stored[texts[i]] for i in kept]]
        return vectors, len(kept)

    def _embed(self, texts: list[str], report: Progress) -> np.ndarray:
        # Sorting by length puts similar lengths in one batch, so little compute goes to padding.
        order = np.argsort([len(text) for text in texts], kind="stable")
        vectors = np.empty((len(texts), 0), np.float32)
        for start in range(0, len(texts), _ENCODE_SLICE):
            rows = order[start : start + _ENCODE_SLICE]
            part = self._encode([texts[i] for i in rows])
            if vectors.shape[1] == 0:
                vectors = np.empty((len(texts), part.shape[1]), np.float32)
            vectors[rows] = part
            done = min(start + _ENCODE_SLICE, len(texts))
            report(0.95 * done / len(texts), f"embedded {done}/{len(texts)} chunks")
        return vectors

    def _encode(self, texts: list[str]) -> np.ndarray:
        c = self.config
        return embed(
            texts,
            c.embedding_model,
            c.embedding_batch_size,
            c.embedding_precision,
            c.embedding_runtime,
            self.models_dir,
        )


def _model_key(name: str) -> str:
    return name.removeprefix("sentence-transformers/").rstrip("/")


def _document_record(doc: Document) -> dict[str, Any]:
    return {"title": doc.title, "source": doc.source, "url": doc.url, "metadata": dict(doc.metadata)}


def _passage(chunk: Chunk, score: float) -> Passage:
    return Passage(
        chunk.doc_id, chunk.chunk_id, chunk.text, score, chunk.title, chunk.source, chunk.url, chunk.section
    )


def _ignore_progress(fraction: float, message: str) -> None:
    """Progress sink for callers that do not show progress."""
