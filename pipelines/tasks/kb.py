"""Knowledge-base indexing: files into a partner's FAISS index, and the document catalogue updated to match.

Re-running replaces the same documents (``replace=True``), so a redelivered or repeated job converges on
the same index. The index is written in one step at the end of ``KnowledgeBase.add``; a failure or a
cancel before that leaves the previous index untouched, and the catalogue marks the documents failed.

Uploads (``doc_ids`` given) are registered before the job runs, and a user may delete one meanwhile: the
job skips those deleted while it was queued, and takes out again those deleted while it was indexing.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Retry

from naa.errors import InputError
from naa.retrieval import Document, IngestReport, KnowledgeBase, load_documents
from naa.storage import documents
from naa.storage.models import JobStatus
from naa.storage.partners import get_partner, partner_config
from naa.storage.session import session_scope
from pipelines.celery_app import NAACelery, naa_app
from pipelines.tracking import JobCancelled, JobProgress, public_error, run_job


@shared_task(bind=True, name="naa.kb.index")
def index_documents(
    self: Task, job_id: str, partner_id: str, kb_name: str, paths: list[str], doc_ids: list[str] | None = None
) -> dict[str, Any]:
    """Index ``paths`` (files or folders) into knowledge base ``kb_name`` of ``partner_id``.

    Args:
        doc_ids: one id per path, for uploaded files; it replaces the file name in the ids of that path's
            documents (an upload stored as ``3f2a/refunds.md`` can keep the id the user gave it).
    """
    app = naa_app(self)
    expected = doc_ids if doc_ids is not None else [Path(p).name for p in paths]

    cancelled = f"indexing job {job_id} was cancelled: upload the file again"

    def work(progress: JobProgress) -> dict[str, Any]:
        # Documents are marked failed before the job is recorded as ended, so a client that sees the job
        # end can upload them again at once.
        try:
            return _index(app, partner_id, kb_name, [Path(p) for p in paths], doc_ids, progress)
        except JobCancelled:
            _mark_failed(app, partner_id, kb_name, expected, cancelled)
            raise
        except Exception as err:
            _mark_failed(app, partner_id, kb_name, expected, public_error(err))
            raise

    # Once the job has ended, nothing reads an upload's files again: the index holds what was read. A worker
    # that dies mid-job never gets past run_job, so the redelivered job still finds them.
    try:
        result = run_job(self, partner_id, job_id, work)
    except Retry:
        raise  # sent again later: it reads the files then
    except Exception:
        if doc_ids is not None:
            app.workspace.remove_upload(partner_id, paths)
        raise
    if doc_ids is not None:
        app.workspace.remove_upload(partner_id, paths)
    if result.get("skipped") == JobStatus.CANCELLED.value:  # cancelled before it started: nothing indexed
        _mark_failed(app, partner_id, kb_name, expected, cancelled)
    return result


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
    kb = KnowledgeBase(
        app.workspace.kb_dir(partner_id, kb_name), config.builtin_retrieval(), app.workspace.models_dir
    )
    if doc_ids is None:
        return _index_sources(app, partner_id, kb_name, kb, paths, progress)
    return _index_uploads(app, partner_id, kb_name, kb, paths, doc_ids, progress)


def _index_sources(
    app: NAACelery,
    partner_id: str,
    kb_name: str,
    kb: KnowledgeBase,
    paths: Sequence[Path],
    progress: JobProgress,
) -> dict[str, Any]:
    progress(0.0, f"reading {len(paths)} path(s)")
    docs = load_documents(paths)
    report = kb.add(docs, progress=progress.stage(0.05, 0.95, "indexing"), replace=True)
    chunks = {info.doc_id: info.chunks for info in kb.documents()}
    metas = [
        documents.DocumentMeta(d.doc_id, d.title, d.source, d.url, chunks[d.doc_id])
        for d in docs
        if d.doc_id in chunks
    ]
    with session_scope(app.session_factory()) as session:
        documents.save_indexed(session, partner_id, kb_name, metas)
    return _summary(report)


def _index_uploads(
    app: NAACelery,
    partner_id: str,
    kb_name: str,
    kb: KnowledgeBase,
    paths: Sequence[Path],
    doc_ids: Sequence[str],
    progress: JobProgress,
) -> dict[str, Any]:
    if len(doc_ids) != len(paths):
        raise InputError(f"{len(doc_ids)} document ids for {len(paths)} paths: give one id per path")
    with session_scope(app.session_factory()) as session:
        kept = documents.registered(session, partner_id, kb_name, doc_ids)
    uploads = [(path, doc_id) for path, doc_id in zip(paths, doc_ids, strict=True) if doc_id in kept]
    if not uploads:
        return {"documents": 0, "chunks": 0, "replaced": []}
    progress(0.0, f"reading {len(uploads)} file(s)")
    loaded = {
        doc_id: [_renamed(doc, path.name, doc_id) for doc in _load_upload(path, doc_id)]
        for path, doc_id in uploads
    }
    docs = [doc for file_docs in loaded.values() for doc in file_docs]
    report = kb.add(docs, progress=progress.stage(0.05, 0.95, "indexing"), replace=True)
    chunks = {info.doc_id: info.chunks for info in kb.documents()}
    metas = [_upload_meta(doc_id, file_docs, chunks) for doc_id, file_docs in loaded.items()]
    with session_scope(app.session_factory()) as session:
        deleted = documents.save_indexed(session, partner_id, kb_name, metas, registered_only=True)
        # Read again: the delete may have found them in the index and taken them out itself.
        indexed = [info.doc_id for info in kb.documents()]
        kb.delete([i for i in indexed if any(documents.is_part_of(i, gone) for gone in deleted)])
    return _summary(report)


def _load_upload(path: Path, doc_id: str) -> list[Document]:
    """The upload's documents; an error names the file as the user sent it, not where the server keeps it."""
    try:
        return load_documents([path])
    except InputError as err:
        raise InputError(str(err).replace(str(path), doc_id)) from err


def _summary(report: IngestReport) -> dict[str, Any]:
    return {"documents": report.documents, "chunks": report.chunks, "replaced": list(report.replaced)}


def _upload_meta(doc_id: str, docs: Sequence[Document], chunks: Mapping[str, int]) -> documents.DocumentMeta:
    """One row per uploaded file: a FAQ file's row counts the chunks of all its entries.

    A count is 0 where a delete took the document out of the index since: its row is left out then.
    """
    count = sum(chunks.get(d.doc_id, 0) for d in docs)
    if len(docs) == 1 and docs[0].doc_id == doc_id:
        return documents.DocumentMeta(doc_id, docs[0].title, docs[0].source, docs[0].url, count)
    return documents.DocumentMeta(doc_id, doc_id, doc_id, "", count)


def _renamed(doc: Document, default: str, doc_id: str) -> Document:
    # A FAQ file gives one document per entry under its file name, "faq.json#3" or "faq.json#<its id>";
    # each goes under the upload's id instead, which is how deleting the upload finds them all.
    if doc.doc_id == default:
        return dataclasses.replace(doc, doc_id=doc_id)
    entry = doc.doc_id.removeprefix(default + documents.ENTRY_SEPARATOR)
    return dataclasses.replace(doc, doc_id=doc_id + documents.ENTRY_SEPARATOR + entry)


def _mark_failed(app: NAACelery, partner_id: str, kb_name: str, doc_ids: Sequence[str], error: str) -> None:
    with session_scope(app.session_factory()) as session:
        documents.mark_failed(session, partner_id, kb_name, doc_ids, error)
