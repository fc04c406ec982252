"""The knowledge-base catalogue: pending, indexed and failed documents, per partner."""

import pytest
from sqlalchemy.orm import Session

from naa.errors import ConflictError, InputError, NotFoundError
from naa.storage.documents import (
    DocumentMeta,
    add_documents,
    delete_documents,
    get_document,
    list_documents,
    list_kbs,
    mark_failed,
    save_indexed,
)
from naa.storage.models import DocumentStatus


def test_registered_documents_become_indexed(session: Session, two_partners: tuple[str, str]) -> None:
    add_documents(
        session, "acme", "help", [DocumentMeta("refunds", title="Refunds"), DocumentMeta("shipping")]
    )
    assert {d.status for d in list_documents(session, "acme", "help")} == {DocumentStatus.PENDING}
    save_indexed(
        session,
        "acme",
        "help",
        [DocumentMeta("refunds", title="Refunds", source="refunds.md", chunk_count=3)],
    )
    refunds = get_document(session, "acme", "help", "refunds")
    assert (refunds.status, refunds.chunk_count, refunds.source) == (DocumentStatus.INDEXED, 3, "refunds.md")
    assert get_document(session, "acme", "help", "shipping").status is DocumentStatus.PENDING


def test_existing_document_id_conflicts_unless_replaced(
    session: Session, two_partners: tuple[str, str]
) -> None:
    save_indexed(session, "acme", "help", [DocumentMeta("refunds", chunk_count=2)])
    with pytest.raises(ConflictError, match="refunds"):
        add_documents(session, "acme", "help", [DocumentMeta("new"), DocumentMeta("refunds")])
    assert [d.doc_id for d in list_documents(session, "acme", "help")] == ["refunds"]
    add_documents(session, "acme", "help", [DocumentMeta("refunds", title="v2")], replace=True)
    replaced = get_document(session, "acme", "help", "refunds")
    assert (replaced.title, replaced.status, replaced.chunk_count) == ("v2", DocumentStatus.PENDING, 0)


def test_duplicate_ids_in_one_upload_are_refused(session: Session, two_partners: tuple[str, str]) -> None:
    with pytest.raises(InputError, match="faq"):
        add_documents(session, "acme", "help", [DocumentMeta("faq"), DocumentMeta("faq")])


def test_failed_indexing_is_recorded(session: Session, two_partners: tuple[str, str]) -> None:
    add_documents(session, "acme", "help", [DocumentMeta("broken")])
    mark_failed(session, "acme", "help", ["broken", "never-registered"], "unreadable PDF")
    broken = get_document(session, "acme", "help", "broken")
    assert (broken.status, broken.error) == (DocumentStatus.FAILED, "unreadable PDF")


def test_delete_with_an_unknown_id_deletes_nothing(session: Session, two_partners: tuple[str, str]) -> None:
    save_indexed(session, "acme", "help", [DocumentMeta("a"), DocumentMeta("b")])
    with pytest.raises(NotFoundError, match="zzz"):
        delete_documents(session, "acme", "help", ["a", "zzz"])
    assert len(list_documents(session, "acme", "help")) == 2
    delete_documents(session, "acme", "help", ["a"])
    assert [d.doc_id for d in list_documents(session, "acme", "help")] == ["b"]


def test_partners_have_separate_catalogues(session: Session, two_partners: tuple[str, str]) -> None:
    save_indexed(session, "acme", "help", [DocumentMeta("refunds", title="Acme refunds")])
    save_indexed(session, "globex", "help", [DocumentMeta("refunds", title="Globex refunds")])
    assert get_document(session, "globex", "help", "refunds").title == "Globex refunds"
    delete_documents(session, "globex", "help", ["refunds"])
    assert get_document(session, "acme", "help", "refunds").title == "Acme refunds"
    with pytest.raises(NotFoundError):
        list_documents(session, "globex", "other")
    assert [kb.name for kb in list_kbs(session, "acme")] == ["help"]
