"""Knowledge bases and the documents indexed in them, scoped to one partner.

The FAISS index on disk holds the chunks; these rows are the catalogue the API lists and the status of
each document's indexing, so a client can see which uploads are searchable yet.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from naa.errors import ConflictError, InputError, NotFoundError
from naa.storage.models import Document, DocumentStatus, KnowledgeBase, utcnow


@dataclass(frozen=True)
class DocumentMeta:
    """What the catalogue records of one document."""

    doc_id: str
    title: str = ""
    source: str = ""
    url: str = ""
    chunk_count: int = 0


def get_or_create_kb(session: Session, partner_id: str, name: str) -> KnowledgeBase:
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
    """Register documents as pending before they are indexed; an existing id conflicts unless ``replace``."""
    _check_unique(docs)
    kb = get_or_create_kb(session, partner_id, kb_name)
    existing = _existing(session, kb, [d.doc_id for d in docs])
    taken = sorted(existing)
    if taken and not replace:
        raise ConflictError(
            f"documents already in knowledge base {kb_name!r}: {', '.join(taken)}; delete or replace"
        )
    rows = [_upsert(session, kb, existing.get(d.doc_id), d, DocumentStatus.PENDING) for d in docs]
    session.flush()
    return rows


def save_indexed(
    session: Session, partner_id: str, kb_name: str, docs: Sequence[DocumentMeta]
) -> list[Document]:
    """Record documents as indexed with their chunk counts, whether or not they were registered first."""
    _check_unique(docs)
    kb = get_or_create_kb(session, partner_id, kb_name)
    existing = _existing(session, kb, [d.doc_id for d in docs])
    rows = [_upsert(session, kb, existing.get(d.doc_id), d, DocumentStatus.INDEXED) for d in docs]
    session.flush()
    return rows


def mark_failed(session: Session, partner_id: str, kb_name: str, doc_ids: Sequence[str], error: str) -> None:
    """Flag registered documents whose indexing failed; ids never registered are ignored."""
    kb = session.scalar(_kb_query(partner_id, kb_name))
    if kb is None:
        return
    for row in _existing(session, kb, doc_ids).values():
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
    """Delete catalogue rows; if any id is unknown nothing is deleted."""
    kb = get_kb(session, partner_id, kb_name)
    existing = _existing(session, kb, doc_ids)
    missing = sorted(set(doc_ids) - existing.keys())
    if missing:
        raise NotFoundError(f"documents not in knowledge base {kb_name!r}: {', '.join(missing)}")
    for row in existing.values():
        session.delete(row)
    session.flush()


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
    row.title, row.source, row.url = meta.title, meta.source, meta.url
    row.chunk_count = meta.chunk_count
    row.status = status
    row.error = None
    row.updated_at = utcnow()
    return row
