"""Readers for FAQ files (JSON and CSV): one ``Document`` per question/answer pair.

Each entry becomes its own document so a search hit cites the one answer, and so an entry can be deleted
or replaced by its id: ``faq.csv#3`` for the third entry, ``faq.csv#ev`` for one whose ``id`` is ``ev``.
The question is kept in the text as well as in the title: customers' queries resemble the question more
than the answer.
"""

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from naa.errors import InputError
from naa.retrieval.base import Document

_REQUIRED = ("question", "answer")
_OPTIONAL = ("id", "url", "category")
_EXPECTED = f"{', '.join(_REQUIRED)} (optional: {', '.join(_OPTIONAL)})"


def read_json_faq(file: Path, doc_id: str) -> list[Document]:
    """A JSON list of ``{"question", "answer", "id"?, "url"?, "category"?}``, or ``{"faqs": [...]}``."""
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{file} is not valid UTF-8 JSON ({err}): fix the file") from err
    except OSError as err:
        raise InputError(f"cannot read {file}: {err.strerror}") from err
    if isinstance(data, dict) and isinstance(data.get("faqs"), list):
        data = data["faqs"]
    if not isinstance(data, list):
        raise InputError(
            f'{file}: expected a JSON list of FAQ entries (or {{"faqs": [...]}}) with keys {_EXPECTED}'
        )
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise InputError(f"{file}: entry {number} is not an object; each entry needs keys {_EXPECTED}")
    return _entries_to_documents(file, doc_id, data, kind="keys")


def read_csv_faq(file: Path, doc_id: str) -> list[Document]:
    """A CSV file with a header row naming at least the ``question`` and ``answer`` columns."""
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip().lower() for name in reader.fieldnames or []]
            if not set(_REQUIRED) <= set(header):
                raise InputError(
                    f"{file}: the header row has columns {', '.join(header) or '(none)'}; "
                    f"expected {_EXPECTED}"
                )
            reader.fieldnames = header
            rows = [{k: v for k, v in row.items() if k is not None} for row in reader]
    except UnicodeDecodeError as err:
        raise InputError(f"{file} is not UTF-8 text: convert it to UTF-8") from err
    except csv.Error as err:
        raise InputError(f"{file} is not a valid CSV file ({err}): fix the file") from err
    except OSError as err:
        raise InputError(f"cannot read {file}: {err.strerror}") from err
    return _entries_to_documents(file, doc_id, rows, kind="columns")


def _entries_to_documents(
    file: Path, doc_id: str, entries: Iterable[Mapping[str, Any]], kind: str
) -> list[Document]:
    documents = []
    for number, entry in enumerate(entries, start=1):
        fields = {str(k).strip().lower(): "" if v is None else str(v).strip() for k, v in entry.items()}
        empty = [name for name in _REQUIRED if not fields.get(name)]
        if empty:
            raise InputError(
                f"{file}: entry {number} has no {' or '.join(empty)}; each entry needs {kind} {_EXPECTED}"
            )
        question, answer = fields.pop("question"), fields.pop("answer")
        documents.append(
            Document(
                # "#": storage.documents.ENTRY_SEPARATOR. An entry's own id goes under its file's too, as an
                # upload's does (``faq.csv#ev``): deleting the file finds every entry, and a build and an
                # upload of one file give the same ids.
                doc_id=f"{doc_id}#{fields.pop('id', '') or number}",
                text=f"{question}\n\n{answer}",
                title=question,
                url=fields.pop("url", ""),
                metadata={k: v for k, v in fields.items() if v},
            )
        )
    if not documents:
        raise InputError(f"{file} has no FAQ entries: add entries with {kind} {_EXPECTED}")
    return documents
