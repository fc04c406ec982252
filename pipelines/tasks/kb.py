"""Knowledge-base indexing: files into a partner's FAISS index, and the document catalogue updated to match.

Re-running replaces the same documents (``replace=True``), so a redelivered or repeated job converges on
the same index. The index is written in one step at the end of ``KnowledgeBase.add``; a failure or a
cancel before that leaves the previous index untouched, and the catalogue marks the documents failed.
"""

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from celery import Task, shared_task

from naa.errors import InputError
from naa.retrieval import Document, KnowledgeBase, load_documents
from naa.storage import documents
from naa.storage.partners import get_partner, partner_config
from naa.storage.session import session_scope
from pipelines.celery_app import NAACelery, naa_app
from pipelines.tracking import JobCancelled, JobProgress, run_job


@shared_task(bind=True, name="naa.kb.index")
def index_documents(
    self: Task, job_id: str, partner_id: str, kb_name: str, paths: list[str], doc_ids: list[str] | None = None
) -> dict[str, Any]:
    """Index ``paths`` (files or folders) into knowledge base ``kb_name`` of ``partner_id``.

    Args:
        doc_ids: one id per path; it replaces the file name in the ids of that path's documents
            (an upload stored as ``3f2a/refunds.md`` can keep the id the user gave it).
    """
    app = naa_app(self)

    def work(progress: JobProgress) -> dict[str, Any]:
        try:
            return _index(app, partner_id, kb_name, [Path(p) for p in paths], doc_ids, progress)
        except JobCancelled:
            raise
        except Exception as err:
            expected = doc_ids if doc_ids is not None else [Path(p).name for p in paths]
            with session_scope(app.session_factory()) as session:
                documents.mark_failed(session, partner_id, kb_name, expected, str(err))
            raise

    return run_job(self, partner_id, job_id, work)


def _index(
    app: NAACelery,
    partner_id: str,
    kb_name: str,
    paths: Sequence[Path],
    doc_ids: Sequence[str] | None,
    progress: JobProgress,
) -> dict[str, Any]:
    with session_scope(app.session_factory()) as session:
        config = partner_config(get_partner(session, partner_id))
    progress(0.0, f"reading {len(paths)} path(s)")
    docs = _load(paths, doc_ids)
    kb = KnowledgeBase(
        app.workspace.kb_dir(partner_id, kb_name), config.builtin_retrieval(), app.workspace.models_dir
    )
    report = kb.add(docs, progress=progress.stage(0.05, 0.95, "indexing"), replace=True)
    indexed = {info.doc_id: info for info in kb.documents()}
    metas = [
        documents.DocumentMeta(d.doc_id, d.title, d.source, d.url, indexed[d.doc_id].chunks)
        for d in docs
        if d.doc_id in indexed
    ]
    with session_scope(app.session_factory()) as session:
        documents.save_indexed(session, partner_id, kb_name, metas)
    return {"documents": report.documents, "chunks": report.chunks, "replaced": list(report.replaced)}


def _load(paths: Sequence[Path], doc_ids: Sequence[str] | None) -> list[Document]:
    if doc_ids is None:
        return load_documents(paths)
    if len(doc_ids) != len(paths):
        raise InputError(f"{len(doc_ids)} document ids for {len(paths)} paths: give one id per path")
    loaded: list[Document] = []
    for path, doc_id in zip(paths, doc_ids, strict=True):
        loaded.extend(_renamed(doc, path.name, doc_id) for doc in load_documents([path]))
    return loaded


def _renamed(doc: Document, default: str, doc_id: str) -> Document:
    # A FAQ file gives one document per entry, "faq.json#3"; the suffix keeps them apart under the new id.
    if doc.doc_id == default or doc.doc_id.startswith(default + "#"):
        return dataclasses.replace(doc, doc_id=doc_id + doc.doc_id[len(default) :])
    return doc
