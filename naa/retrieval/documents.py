"""Turn files and folders into ``Document`` objects, one reader per file format.

Doc ids come from the path relative to the folder the user named (``returns/refund-policy.md``), so
re-ingesting the same folder from another machine or working directory gives the same ids, and
``naa kb delete`` can name a document the way the user sees it.
"""

import dataclasses
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from naa.errors import InputError
from naa.retrieval.base import Document
from naa.retrieval.faq import read_csv_faq, read_json_faq
from naa.retrieval.loaders import read_html, read_markdown, read_pdf, read_text

logger = logging.getLogger(__name__)


READERS: dict[str, Callable[[Path, str], list[Document]]] = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".json": read_json_faq,
    ".csv": read_csv_faq,
}
SUPPORTED_EXTENSIONS = tuple(READERS)


def load_documents(paths: Sequence[Path]) -> list[Document]:
    """Read every supported file in ``paths`` (folders are walked recursively).

    Files named directly must have a supported extension; inside folders, hidden files and files of other
    kinds (images, office documents) are skipped with a warning, so a help-center export can be ingested
    as it is.

    Raises:
        InputError: a path is missing, a file is unsupported, empty or unreadable, no document was found,
            or two documents share an id.
    """
    documents: list[Document] = []
    for path in paths:
        for file, relative in _files_with_ids(Path(path)):
            # The source is the path relative to the folder given: it is shown to users and must not reveal
            # where the server keeps its files.
            read = READERS[file.suffix.lower()](file, relative)
            documents.extend(dataclasses.replace(doc, source=relative) for doc in read)
    if not paths:
        raise InputError("no documents to ingest: give files or folders, or set knowledge_base.sources")
    if not documents:
        names = ", ".join(str(p) for p in paths)
        raise InputError(
            f"no documents found in {names}: supported files are {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    _check_unique(documents)
    return documents


def _files_with_ids(path: Path) -> list[tuple[Path, str]]:
    if not path.exists():
        raise InputError(f"{path} does not exist: check the path")
    if path.is_file():
        _check_supported(path)
        return [(path, path.name)]
    files = []
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path)
        if not file.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        if file.suffix.lower() not in SUPPORTED_EXTENSIONS:
            logger.warning("skipping %s: not one of %s", file, ", ".join(SUPPORTED_EXTENSIONS))
            continue
        files.append((file, relative.as_posix()))
    return files


def _check_supported(file: Path) -> None:
    if file.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise InputError(
            f"{file}: unsupported file type {file.suffix or '(no extension)'!r}; "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}"
        )


def _check_unique(documents: list[Document]) -> None:
    seen: dict[str, Document] = {}
    for doc in documents:
        if doc.doc_id in seen:
            first = seen[doc.doc_id].source
            where = f"twice in {first}" if first == doc.source else f"by both {first} and {doc.source}"
            raise InputError(f"document id {doc.doc_id!r} is used {where}: give one of them another id")
        seen[doc.doc_id] = doc
