"""Split documents into overlapping chunks that respect sections, paragraphs and sentences.

A chunk never spans two sections (its ``section`` must be true for all of its text), is built from whole
paragraphs where they fit, then whole sentences, and only then from cut lines; neighbouring chunks of a
section share up to ``overlap`` characters (whole sentences where possible) so a fact that straddles a
boundary is still found in one piece.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from naa.retrieval.base import Document

# Documents are uploaded by partners, so every pattern here runs in time linear in its text. The heading's
# closing "#"s are stripped by heading_text: as `(.+?)[ \t#]*$` the pattern took time quadratic in the line's
# length, and an uploaded "# a<200,000 spaces>b" held the shared indexing worker for minutes.
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# Sentence ends and line breaks, kept (capturing group) so the pieces can be joined as they were. The blanks
# before a line break are matched only from the first one (the lookbehind): `[ \t]*\n` was tried again from
# every blank of a long run without one, quadratic as the heading was.
_SENTENCE_BREAK = re.compile(r"((?<=[.!?])[ \t]+|(?:(?<![ \t])[ \t]+)?\n)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def heading_text(text: str) -> str:
    """A Markdown heading's text without the blanks and '#'s that close it (``## Refunds ##``); its first
    character stays, so ``# #`` is the heading "#"."""
    return text[: max(1, len(text.rstrip(" \t#")))]


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    chunk_id: str
    text: str
    title: str = ""
    source: str = ""
    url: str = ""
    section: str = ""  # heading path inside the document, e.g. "Refunds > Store credit"

    def embedding_text(self) -> str:
        """What the encoder sees: the title and section add context a short chunk lacks on its own."""
        context = [part for part in (self.title, self.section) if part and not self.text.startswith(part)]
        return "\n".join([" > ".join(context), self.text]) if context else self.text


def chunk_documents(documents: Sequence[Document], size: int, overlap: int) -> list[Chunk]:
    """Chunk every document; chunk ids are ``{doc_id}#{n}`` in reading order."""
    if not 0 <= overlap < size:
        raise ValueError(f"overlap ({overlap}) must be at least 0 and smaller than the chunk size ({size})")
    chunks = []
    for doc in documents:
        pieces = (
            (section, text)
            for section, body in _sections(doc.text, doc.title)
            for text in _pack(_units(body, size), size, overlap)
        )
        for number, (section, text) in enumerate(pieces):
            chunks.append(
                Chunk(doc.doc_id, f"{doc.doc_id}#{number}", text, doc.title, doc.source, doc.url, section)
            )
    return chunks


def _sections(text: str, title: str) -> Iterator[tuple[str, str]]:
    """Yield (heading path, body) pairs; '#' lines inside fenced code blocks are not headings."""
    path: list[tuple[int, str]] = []
    body: list[str] = []
    in_code = False

    def flush() -> Iterator[tuple[str, str]]:
        content = "\n".join(body).strip()
        if content:
            yield " > ".join(name for _, name in path if name != title), content
        body.clear()

    for line in text.split("\n"):
        if _FENCE.match(line):
            in_code = not in_code
        heading = None if in_code else _HEADING.match(line)
        if heading is None:
            body.append(line)
            continue
        yield from flush()
        level = len(heading.group(1))
        path = [(lvl, name) for lvl, name in path if lvl < level] + [(level, heading_text(heading.group(2)))]
    yield from flush()


def _units(body: str, size: int) -> list[tuple[str, str]]:
    """Pieces of at most ``size`` characters, each with the separator that precedes it in the text."""
    units: list[tuple[str, str]] = []
    for paragraph in _PARAGRAPH_BREAK.split(body):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= size:
            units.append(("\n\n", paragraph))
            continue
        parts = _SENTENCE_BREAK.split(paragraph)
        separator = "\n\n"
        for index in range(0, len(parts), 2):
            for piece in _cut(parts[index].strip(), size):
                units.append((separator, piece))
                separator = " "
            if index + 1 < len(parts):
                separator = "\n" if "\n" in parts[index + 1] else " "
    return units


def _cut(sentence: str, size: int) -> list[str]:
    """A sentence longer than a chunk is cut between words (or anywhere, for a giant token like a URL)."""
    if len(sentence) <= size:
        return [sentence] if sentence else []
    pieces: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > size:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:size])
            word = word[size:]
        if current and len(current) + 1 + len(word) > size:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*pieces, current] if current else pieces


def _pack(units: list[tuple[str, str]], size: int, overlap: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for separator, unit in units:
        if current and len(current) + len(separator) + len(unit) > size:
            chunks.append(current)
            tail = _tail(current, overlap)
            current = tail if tail and len(tail) + len(separator) + len(unit) <= size else ""
        current = f"{current}{separator}{unit}" if current else unit
    if current:
        chunks.append(current)
    return chunks


def _tail(text: str, overlap: int) -> str:
    """The last whole sentences of ``text`` that fit in ``overlap`` characters, else its last words."""
    if overlap == 0:
        return ""
    for match in _SENTENCE_END.finditer(text):  # earliest boundary first: the longest tail that fits wins
        if len(text) - match.end() <= overlap:
            return text[match.end() :]
    words = text[-overlap:].split(maxsplit=1)
    return words[1] if len(words) == 2 else ""
