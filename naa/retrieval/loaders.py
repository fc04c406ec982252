"""Readers for article files: Markdown, plain text, HTML and PDF.

Every reader returns Markdown-style text (sections opened by ``#`` heading lines), so the chunker has one
notion of a section whatever the source format. Parser libraries are imported inside the readers that
need them: importing ``naa.retrieval`` must stay cheap for the API and the CLI.
"""

import re
from pathlib import Path

import yaml

from naa.errors import InputError
from naa.retrieval.base import Document
from naa.retrieval.chunking import heading_text

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
# Linear in the line's length, unlike `(.+?)[ \t#]*$` (naa.retrieval.chunking): heading_text strips the end.
_ATX_HEADING = re.compile(r"^#{1,6}[ \t]+(.+)$", re.MULTILINE)
# A text line underlined with === or --- is a heading in Markdown ("setext" style); rewritten as '#' lines.
_SETEXT_HEADING = re.compile(r"^([^\s#>*+\-|].*)\n(=+|-+)[ \t]*$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")


def read_markdown(file: Path, doc_id: str) -> list[Document]:
    """Title from front matter ``title:`` or the first heading; ``url:`` and ``id:`` from front matter."""
    text = _read_utf8(file)
    front: dict[str, str] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        front = _parse_front_matter(file, match.group(1))
        text = text[match.end() :]
    text = _SETEXT_HEADING.sub(lambda m: ("# " if m.group(2)[0] == "=" else "## ") + m.group(1), text)
    body = _require_text(file, text)
    heading = _ATX_HEADING.search(body)
    title = front.pop("title", "") or (heading_text(heading.group(1)) if heading else _title_from_name(file))
    return [
        Document(
            doc_id=front.pop("id", "") or doc_id,
            text=body,
            title=title,
            url=front.pop("url", ""),
            metadata=front,
        )
    ]


def read_text(file: Path, doc_id: str) -> list[Document]:
    """Plain text: the file name gives the title."""
    body = _require_text(file, _read_utf8(file))
    return [Document(doc_id=doc_id, text=body, title=_title_from_name(file))]


def read_html(file: Path, doc_id: str) -> list[Document]:
    """Visible text of the page; title from ``<title>`` or the first ``<h1>``; url from the canonical link."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_utf8(file), "html.parser")
    title_tag = soup.find("title") or soup.find("h1")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    canonical = soup.find("link", rel="canonical")
    url = str(canonical.get("href", "")) if canonical else ""
    for tag in soup(["script", "style", "noscript", "template", "head", "nav", "footer"]):
        tag.decompose()
    for level in range(1, 7):
        for tag in soup.find_all(f"h{level}"):
            tag.replace_with(f"\n\n{'#' * level} {tag.get_text(' ', strip=True)}\n\n")
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(["p", "div", "li", "tr", "table", "ul", "ol", "section", "article", "pre"]):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    body = _require_text(file, _tidy(soup.get_text()))
    return [Document(doc_id=doc_id, text=body, title=title or _title_from_name(file), url=url)]


def read_pdf(file: Path, doc_id: str) -> list[Document]:
    """Text of every page; title from the PDF's metadata. Scanned (image-only) PDFs have no text to index."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(file)
        # Many "encrypted" PDFs only restrict printing and open with an empty password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{file} is password-protected: save an unencrypted copy and ingest that")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str(reader.metadata.get("/Title") or "") if reader.metadata else ""
    except InputError:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"{file} is not a readable PDF ({err}): re-export it or convert it to text") from err
    text = _tidy("\n\n".join(pages))
    if not text:
        raise InputError(f"{file} has no extractable text (a scanned image?): run OCR on it first")
    return [Document(doc_id=doc_id, text=text, title=title or _title_from_name(file))]


def _read_utf8(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{file} is not UTF-8 text: convert it to UTF-8") from err
    except OSError as err:
        raise InputError(f"cannot read {file}: {err.strerror}") from err


def _parse_front_matter(file: Path, raw: str) -> dict[str, str]:
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as err:
        raise InputError(f"{file}: the front matter is not valid YAML: {err}".splitlines()[0]) from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{file}: the front matter must be 'key: value' lines")
    return {str(key): str(value) for key, value in data.items() if value is not None}


def _require_text(file: Path, text: str) -> str:
    text = _BLANK_RUNS.sub("\n\n", "\n".join(line.rstrip() for line in text.splitlines())).strip()
    if not text:
        raise InputError(f"{file} is empty: add text or leave it out")
    return text


def _tidy(text: str) -> str:
    """Collapse the layout whitespace that HTML and PDF text extraction leave inside lines."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _title_from_name(file: Path) -> str:
    return file.stem.replace("-", " ").replace("_", " ").strip().capitalize()
