"""Chunking: sizes, overlap, section and paragraph boundaries."""

import itertools

import pytest
from pydantic import ValidationError

from naa.retrieval import Document, FaissRetrieverConfig, chunk_documents


def _sentences(count: int, start: int = 0) -> str:
    return " ".join(f"Sentence {i} says something." for i in range(start, start + count))


def _shared(before: str, after: str) -> str:
    """The longest start of ``after`` that ends ``before``: the overlap of two neighbouring chunks."""
    return next((after[:n] for n in range(len(after), 0, -1) if before.endswith(after[:n])), "")


def test_long_paragraph_is_split_on_sentences_with_sentence_overlap() -> None:
    doc = Document("d", _sentences(40), title="T")
    chunks = chunk_documents([doc], size=200, overlap=60)
    assert len(chunks) > 3
    assert all(len(chunk.text) <= 200 for chunk in chunks)
    for before, after in itertools.pairwise(chunks):
        assert before.text.endswith(".") and after.text.startswith("Sentence")  # whole sentences only
        shared = _shared(before.text, after.text)
        assert shared.startswith("Sentence") and shared.endswith(".")
        assert 0 < len(shared) <= 60
    assert [chunk.chunk_id for chunk in chunks[:2]] == ["d#0", "d#1"]
    # Every sentence survives chunking.
    joined = " ".join(chunk.text for chunk in chunks)
    assert all(f"Sentence {i} says" in joined for i in range(40))


def test_overlap_zero_gives_disjoint_chunks() -> None:
    chunks = chunk_documents([Document("d", _sentences(40))], size=200, overlap=0)
    assert " ".join(chunk.text for chunk in chunks) == _sentences(40)


def test_chunks_never_cross_sections_and_carry_the_heading_path() -> None:
    text = (
        "# Returns\n\nIntro.\n\n## By mail\n\nPrint the label.\n\n### Abroad\n\nUse a courier.\n\n"
        "## In store\n\nBring it."
    )
    chunks = chunk_documents([Document("d", text, title="Returns")], size=500, overlap=50)
    assert [(chunk.section, chunk.text) for chunk in chunks] == [
        ("", "Intro."),
        ("By mail", "Print the label."),
        ("By mail > Abroad", "Use a courier."),
        ("In store", "Bring it."),
    ]


def test_paragraphs_that_fit_are_kept_whole() -> None:
    first, second, third = "A" * 90 + ".", "B" * 90 + ".", "C" * 90 + "."
    chunks = chunk_documents([Document("d", f"{first}\n\n{second}\n\n{third}")], size=200, overlap=0)
    assert [chunk.text for chunk in chunks] == [f"{first}\n\n{second}", third]


def test_hash_lines_inside_code_fences_are_not_headings() -> None:
    text = "# Setup\n\n```bash\n# install the app\npip install app\n```"
    [chunk] = chunk_documents([Document("d", text, title="Setup")], size=500, overlap=0)
    assert chunk.section == ""
    assert "# install the app" in chunk.text


def test_a_giant_word_is_cut_to_the_chunk_size() -> None:
    url = "https://example.com/" + "x" * 450
    chunks = chunk_documents([Document("d", f"See {url} now.")], size=200, overlap=0)
    assert all(len(chunk.text) <= 200 for chunk in chunks)
    assert "".join(chunk.text.replace(" ", "") for chunk in chunks) == f"See{url}now."


def test_embedding_text_adds_title_and_section_context() -> None:
    [chunk] = chunk_documents([Document("d", "## Fees\n\nIt costs 5 euros.", title="Shipping")], 200, 0)
    assert chunk.embedding_text() == "Shipping > Fees\nIt costs 5 euros."


def test_overlap_must_be_smaller_than_the_chunk() -> None:
    with pytest.raises(ValueError, match="smaller than the chunk size"):
        chunk_documents([Document("d", "x")], size=100, overlap=100)
    with pytest.raises(ValidationError, match="at most half of chunk_size"):
        FaissRetrieverConfig(chunk_size=200, chunk_overlap=150)
