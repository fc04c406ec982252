"""Knowledge-base documents through the API: upload (stored, then indexed by a Celery job), list, delete.

An upload is checked, registered and queued in the request's transaction: a file type the knowledge base
cannot read is a 415 and a document id already there a 409, before anything is written. Files go to
``{partner dir}/uploads/{upload id}/`` (until the job ends) and the job's message is sent only when the
transaction commits (``pipelines.submit``), so a failed request leaves neither rows, files nor a queued job
behind.

An uploaded file is one document, whatever it holds: a FAQ file's entries are indexed, searched and cited
on their own (``faq.csv#2``), but listed, counted and deleted with their file.
"""

import shutil
import uuid
from pathlib import Path

from fastapi import UploadFile
from sqlalchemy.orm import Session

from api.errors import UnsupportedMediaTypeError
from api.schemas.jobs import JobPublic
from api.schemas.kb import DocumentPublic, DocumentsPublic, UploadPublic
from naa.config.partner import PartnerConfig
from naa.errors import InputError, NotFoundError
from naa.retrieval import KnowledgeBase
from naa.retrieval.documents import SUPPORTED_EXTENSIONS
from naa.storage import documents
from naa.storage.documents import DocumentMeta
from naa.storage.models import DOC_ID_LENGTH, Document, DocumentStatus
from naa.workspace import Workspace
from pipelines.celery_app import NAACelery
from pipelines.submit import submit_kb_index


def _checked_name(upload: UploadFile) -> str:
    name = Path(upload.filename or "").name
    if not name or name.startswith("."):
        raise InputError(f"upload {upload.filename!r} needs a file name with an extension, like faq.md")
    if "\x00" in name:
        raise InputError(f"upload {upload.filename!r}: a file name cannot hold NUL; rename the file")
    if documents.ENTRY_SEPARATOR in name:
        # Deleting "a.md" deletes "a.md#..." too, as those are a FAQ file's entries.
        raise InputError(
            f"{name}: a file name cannot hold {documents.ENTRY_SEPARATOR!r}, which names the entries of a "
            "FAQ file (faq.csv#2); rename the file"
        )
    # Bytes, not characters: they bound both the doc_id column and the file system's 255-byte names.
    if len(name.encode()) > DOC_ID_LENGTH:
        raise InputError(
            f"{name}: the file name has {len(name.encode())} bytes in UTF-8, the limit is {DOC_ID_LENGTH}; "
            "rename the file"
        )
    if Path(name).suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise UnsupportedMediaTypeError(
            f"{name}: the knowledge base cannot read {Path(name).suffix or 'files without an extension'}; "
            f"upload one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if upload.size == 0:
        raise InputError(f"{name} is empty")
    return name


def _save(upload: UploadFile, path: Path) -> Path:
    """Write-then-rename, so the worker never reads a half-written file."""
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as out:
        shutil.copyfileobj(upload.file, out)
    partial.replace(path)
    return path


def upload_documents(
    session: Session,
    jobs_app: NAACelery,
    workspace: Workspace,
    config: PartnerConfig,
    files: list[UploadFile],
) -> UploadPublic:
    config.builtin_retrieval()  # a plugin retriever holds its own documents: no job that would fail
    names = [_checked_name(upload) for upload in files]
    kb_name = config.knowledge_base.name
    rows = documents.add_documents(
        session, config.id, kb_name, [DocumentMeta(doc_id=name, title=name, source=name) for name in names]
    )
    folder = workspace.uploads_dir(config.id) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        paths = [_save(upload, folder / name) for upload, name in zip(files, names, strict=True)]
        job = submit_kb_index(jobs_app, session, config.id, kb_name, paths, doc_ids=names)
        session.flush()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return UploadPublic(
        job=JobPublic.model_validate(job), documents=[DocumentPublic.model_validate(r) for r in rows]
    )


def _index(workspace: Workspace, config: PartnerConfig) -> KnowledgeBase:
    return KnowledgeBase(
        workspace.kb_dir(config.id, config.knowledge_base.name),
        config.builtin_retrieval(),
        workspace.models_dir,
    )


def _catalogue(session: Session, config: PartnerConfig) -> dict[str, Document]:
    kb_name = config.knowledge_base.name
    if kb_name not in {kb.name for kb in documents.list_kbs(session, config.id)}:
        return {}
    return {row.doc_id: row for row in documents.list_documents(session, config.id, kb_name)}


def list_documents(session: Session, workspace: Workspace, config: PartnerConfig) -> DocumentsPublic:
    """The catalogue (uploads, whatever their status) and documents indexed outside the API (``naa build``).

    An uploaded FAQ file's entries are part of its row, not listed apart.
    """
    catalogue = _catalogue(session, config)
    listed = [DocumentPublic.model_validate(row) for row in catalogue.values()]
    listed += [
        DocumentPublic(
            doc_id=info.doc_id,
            title=info.title,
            source=info.source,
            url=info.url,
            status=DocumentStatus.INDEXED,
            chunk_count=info.chunks,
            error=None,
            updated_at=None,
        )
        for info in _index(workspace, config).documents()
        if info.doc_id not in catalogue and documents.file_of(info.doc_id) not in catalogue
    ]
    return DocumentsPublic(documents=sorted(listed, key=lambda d: d.doc_id))


def delete_document(session: Session, workspace: Workspace, config: PartnerConfig, doc_id: str) -> None:
    """Remove a document, with a FAQ file's entries, from the catalogue and the index, wherever it is;
    unknown in both is a 404.

    The rows go first: their knowledge base then stays locked until the request commits, so that an
    indexing job finishing meanwhile sees the rows and the index both changed or both not
    (``documents.save_indexed``).
    """
    catalogued = [row for row in _catalogue(session, config) if documents.is_part_of(row, doc_id)]
    if catalogued:
        documents.delete_documents(session, config.id, config.knowledge_base.name, catalogued)
    index = _index(workspace, config)
    indexed = [info.doc_id for info in index.documents() if documents.is_part_of(info.doc_id, doc_id)]
    if indexed:
        index.delete(indexed)
    elif not catalogued:
        raise NotFoundError(f"document {doc_id!r} is not in knowledge base {config.knowledge_base.name!r}")
