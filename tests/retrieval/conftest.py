"""Fixtures for retrieval tests: real files written in tmp_path, including hand-built PDFs."""

from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfWriter

from naa.retrieval import Document


def _text_pdf(lines: list[str], title: str) -> bytes:
    """A one-page PDF whose page draws ``lines`` in Helvetica: the smallest file a real viewer accepts."""
    drawn = " ".join(f"({line}) Tj 0 -16 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td {drawn} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title (%s) >>" % title.encode(),
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


@pytest.fixture
def write_pdf(tmp_path: Path) -> Callable[[str, list[str], str], Path]:
    def write(name: str, lines: list[str], title: str = "") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_text_pdf(lines, title))
        return path

    return write


@pytest.fixture
def write_blank_pdf(tmp_path: Path) -> Callable[[str, str | None], Path]:
    """A PDF with an empty page (like a scan without OCR), optionally encrypted with a user password."""

    def write(name: str, password: str | None = None) -> Path:
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        if password is not None:
            writer.encrypt(user_password=password, algorithm="RC4-128")
        path = tmp_path / name
        with path.open("wb") as handle:
            writer.write(handle)
        return path

    return write


ARTICLES = {
    "refunds": (
        "Refund policy",
        "# Refund policy\n\nWe refund the full price of returned items within 14 days of receiving them. "
        "The money goes back to the card you paid with.\n\n## Store credit\n\nIf you prefer, we can issue "
        "store credit instead; store credit never expires and can be used online or in any store.",
    ),
    "shipping": (
        "Shipping times",
        "# Shipping times\n\nStandard delivery takes 3 to 5 business days. Express delivery arrives the next "
        "business day when you order before 2 pm.",
    ),
    "password": (
        "Reset your password",
        "# Reset your password\n\nChoose 'Forgot password' on the sign-in page and follow the link "
        "we email you. "
        "The link works for 30 minutes.",
    ),
}


@pytest.fixture
def articles() -> list[Document]:
    """Three short help-center articles on clearly different topics."""
    return [
        Document(doc_id, text, title=title, source=f"{doc_id}.md", url=f"https://help.example/{doc_id}")
        for doc_id, (title, text) in ARTICLES.items()
    ]
