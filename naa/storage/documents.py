"""Knowledge bases and the documents indexed in them, scoped to one partner.

The FAISS index on disk holds the chunks; these rows are the catalogue the API lists and the status of
each document's indexing, so a client can see which uploads are searchable yet. One row stands for a whole
file: a FAQ file's entries are indexed as documents of their own (``faq.csv#1``, ``faq.csv#returns``).

Every change to a knowledge base's rows first locks the knowledge base's row until the transaction ends.
Uploads, deletes and indexing jobs change the same rows at the same moment: unlocked, two uploads of one
file name both find it free and one breaks the unique constraint, and a job could record as indexed a
document that a request was deleting.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, String, select
from sqlalchemy.orm import Session

from naa.errors import ConflictError, InputError, NotFoundError
from naa.storage.models import Document, DocumentStatus, KnowledgeBase, Partner, utcnow
from naa.storage.session import lock_row

ENTRY_SEPARATOR = "#"


@dataclass(frozen=True)
class DocumentMeta:
    """What the catalogue records of one document."""

    doc_id: str
    title: str = ""
    source: str = ""
    url: str = ""
    chunk_count: int = 0


def file_of(doc_id: str) -> str:
    """The file an indexed document came from: a FAQ entry's (``faq.csv#2``), or the document itself."""
    return doc_id.partition(ENTRY_SEPARATOR)[0]


def is_part_of(doc_id: str, document: str) -> bool:
    """Whether an indexed document is ``document`` itself or one of its FAQ entries."""
    return doc_id == document or file_of(doc_id) == document


def get_or_create_kb(session: Session, partner_id: str, name: str) -> KnowledgeBase:
    kb = session.scalar(_kb_query(partner_id, name))
    if kb is None:
        # Two requests creating it at once: the second waits here, then finds the first one's.
        lock_row(session, Partner.created_at, partner_id)
        kb = session.scalar(_kb_query(partner_id, name))
    if kb is None:
        kb = KnowledgeBase(partner_id=partner_id, name=name)
        session.add(kb)
        session.flush()
    return kb


def get_kb(session: Session, partner_id: str, name: str) -> KnowledgeBase:
    kb = session.scalar(_kb_query(partner_id, name))
    if kb is None:
        raise NotFoundError(f"knowledge base {name!r} does not exist")
    return kb


def list_kbs(session: Session, partner_id: str) -> list[KnowledgeBase]:
    query = select(KnowledgeBase).where(KnowledgeBase.partner_id == partner_id).order_by(KnowledgeBase.name)
    return list(session.scalars(query))


def add_documents(
    session: Session, partner_id: str, kb_name: str, docs: Sequence[DocumentMeta], *, replace: bool = False
) -> list[Document]:
    """Register documents as pending before they are indexed.

    An existing id conflicts unless ``replace``, or unless its indexing failed or was cancelled: such a
    document is not searchable, and sending it again is how a user retries.
    """
    _check_unique(docs)
    kb = _locked_kb(session, partner_id, kb_name)
    existing = _existing(session, kb, [d.doc_id for d in docs])
    taken = sorted(doc_id for doc_id, row in existing.items() if row.status is not DocumentStatus.FAILED)
    if taken and not replace:
        raise ConflictError(
            f"documents already in knowledge base {kb_name!r}: {', '.join(taken)}; delete them first"
        )
    rows = [_upsert(session, kb, existing.get(d.doc_id), d, DocumentStatus.PENDING) for d in docs]
    session.flush()
    return rows


def save_indexed(
    session: Session,
    partner_id: str,
    kb_name: str,
    docs: Sequence[DocumentMeta],
    *,
    registered_only: bool = False,
) -> list[str]:
    """Record documents as indexed with their chunk counts; returns the ids left out.

    Documents indexed from a partner's sources are recorded whether or not they were registered first.
    With ``registered_only`` (uploads), a document whose row is gone was deleted while it was being
    indexed: it is left out, and the caller removes it from the index again before this transaction ends.
    The delete holds the same lock, so it either came first, and the caller undoes the indexing, or comes
    after and finds the document in the index.
    """
    _check_unique(docs)
    kb = _locked_kb(session, partner_id, kb_name)
    existing = _existing(session, kb, [d.doc_id for d in docs])
    left_out = [d.doc_id for d in docs if registered_only and d.doc_id not in existing]
    for doc in docs:
        if doc.doc_id not in left_out:
            _upsert(session, kb, existing.get(doc.doc_id), doc, DocumentStatus.INDEXED)
    session.flush()
    return left_out


def registered(session: Session, partner_id: str, kb_name: str, doc_ids: Sequence[str]) -> set[str]:
    """The ids among ``doc_ids`` that the catalogue holds."""
    kb = session.scalar(_kb_query(partner_id, kb_name))
    return set() if kb is None else set(_existing(session, kb, doc_ids))


def mark_failed(session: Session, partner_id: str, kb_name: str, doc_ids: Sequence[str], error: str) -> None:
    """Flag registered documents whose indexing failed or was cancelled; ids never registered are ignored.

    Only pending ones: a document indexed since (by a later upload of the same file) stays indexed.
    """
    kb = session.scalar(_kb_query(partner_id, kb_name))
    if kb is None:
        return
    _lock(session, kb)
    for row in _existing(session, kb, doc_ids).values():
        if row.status is not DocumentStatus.PENDING:
            continue
        row.status = DocumentStatus.FAILED
        row.error = error
        row.updated_at = utcnow()
    session.flush()


def list_documents(session: Session, partner_id: str, kb_name: str) -> list[Document]:
    kb = get_kb(session, partner_id, kb_name)
    return list(session.scalars(select(Document).where(Document.kb_id == kb.id).order_by(Document.doc_id)))


def get_document(session: Session, partner_id: str, kb_name: str, doc_id: str) -> Document:
    kb = get_kb(session, partner_id, kb_name)
    row = _existing(session, kb, [doc_id]).get(doc_id)
    if row is None:
        raise NotFoundError(f"document {doc_id!r} is not in knowledge base {kb_name!r}")
    return row


def delete_documents(session: Session, partner_id: str, kb_name: str, doc_ids: Sequence[str]) -> None:
    """Delete catalogue rows; if any id is unknown nothing is deleted.

    The knowledge base stays locked until the transaction ends: delete the documents from the index before
    it does, so that a job indexing them meanwhile sees both changes or neither (``save_indexed``).
    """
    kb = get_kb(session, partner_id, kb_name)
    _lock(session, kb)
    existing = _existing(session, kb, doc_ids)
    missing = sorted(set(doc_ids) - existing.keys())
    if missing:
        raise NotFoundError(f"documents not in knowledge base {kb_name!r}: {', '.join(missing)}")
    for row in existing.values():
        session.delete(row)
    session.flush()


def _locked_kb(session: Session, partner_id: str, name: str) -> KnowledgeBase:
    kb = get_or_create_kb(session, partner_id, name)
    _lock(session, kb)
    return kb


def _lock(session: Session, kb: KnowledgeBase) -> None:
    lock_row(session, KnowledgeBase.created_at, kb.id)


def _kb_query(partner_id: str, name: str) -> Select[KnowledgeBase]:
    return select(KnowledgeBase).where(KnowledgeBase.partner_id == partner_id, KnowledgeBase.name == name)


def _check_unique(docs: Sequence[DocumentMeta]) -> None:
    ids = [d.doc_id for d in docs]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise InputError(f"document ids given more than once: {', '.join(repeated)}")


def _existing(session: Session, kb: KnowledgeBase, doc_ids: Sequence[str]) -> dict[str, Document]:
    if not doc_ids:
        return {}
    query = select(Document).where(Document.kb_id == kb.id, Document.doc_id.in_(list(doc_ids)))
    return {row.doc_id: row for row in session.scalars(query)}


def _upsert(
    session: Session, kb: KnowledgeBase, row: Document | None, meta: DocumentMeta, status: DocumentStatus
) -> Document:
    if row is None:
        row = Document(partner_id=kb.partner_id, kb_id=kb.id, doc_id=meta.doc_id)
        session.add(row)
    row.title, row.source, row.url = _fitted(meta)
    row.chunk_count = meta.chunk_count
    row.status = status
    row.error = None
    row.updated_at = utcnow()
    return row


def _fitted(meta: DocumentMeta) -> tuple[str, str, str]:
    """Title, source and url cut to their columns: they come from the uploaded file (its first heading, front
    matter), and past a column's length PostgreSQL refused the row, which failed the indexing job with the
    SQL statement as its error, shown to the partner. A cut url would lead nowhere, so it is left out."""
    columns = Document.__table__.c
    title, source = meta.title[: _length(columns.title)], meta.source[: _length(columns.source)]
    return title, source, meta.url if len(meta.url) <= _length(columns.url) else ""


def _length(column: ColumnElement[str]) -> int:
    kind = column.type
    assert isinstance(kind, String) and kind.length is not None, column
    return kind.length
