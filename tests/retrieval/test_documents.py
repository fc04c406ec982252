"""load_documents on real files of every supported format, and the bad inputs users send."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from naa.errors import InputError
from naa.retrieval import load_documents


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_takes_title_url_and_id_from_front_matter(tmp_path: Path) -> None:
    _write(
        tmp_path / "kb" / "returns" / "refund-policy.md",
        "---\ntitle: Refunds\nurl: https://help.example/refunds\ntags: money\n---\n"
        "# Refund policy\n\nBody.\n",
    )
    [doc] = load_documents([tmp_path / "kb"])
    assert doc.doc_id == "returns/refund-policy.md"
    assert (doc.title, doc.url) == ("Refunds", "https://help.example/refunds")
    assert doc.source == "returns/refund-policy.md"  # relative: no server path reaches users
    assert doc.text == "# Refund policy\n\nBody."
    assert doc.metadata == {"tags": "money"}


def test_markdown_title_falls_back_to_first_heading_and_setext_headings_become_sections(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "a.md", "Warranty\n========\n\nTwo years.\n\nClaims\n------\n\nEmail us.\n")
    [doc] = load_documents([tmp_path / "a.md"])
    assert doc.doc_id == "a.md"
    assert doc.title == "Warranty"
    assert doc.text == "# Warranty\n\nTwo years.\n\n## Claims\n\nEmail us."


def test_front_matter_id_overrides_the_path_id(tmp_path: Path) -> None:
    _write(tmp_path / "a.md", "---\nid: faq-42\n---\nText.")
    assert load_documents([tmp_path / "a.md"])[0].doc_id == "faq-42"


def test_plain_text_is_titled_after_the_file_name(tmp_path: Path) -> None:
    _write(tmp_path / "store-hours.txt", "We open at 9.\n\n\n\nWe close at 6.\n")
    [doc] = load_documents([tmp_path / "store-hours.txt"])
    assert (doc.title, doc.text) == ("Store hours", "We open at 9.\n\nWe close at 6.")


def test_html_keeps_visible_text_with_headings_as_sections(tmp_path: Path) -> None:
    _write(
        tmp_path / "gift.html",
        "<html><head><title>Gift cards</title><link rel='canonical' href='https://help.example/gift'>"
        "<style>p {color: red}</style><script>var x = 1;</script></head><body><nav>Home | Help</nav>"
        "<h1>Gift cards</h1><p>Cards are valid for <b>five</b> years.</p><h2>Balance</h2>"
        "<ul><li>Check online</li><li>Ask in store</li></ul></body></html>",
    )
    [doc] = load_documents([tmp_path / "gift.html"])
    assert (doc.title, doc.url) == ("Gift cards", "https://help.example/gift")
    assert (
        doc.text
        == "# Gift cards\n\nCards are valid for five years.\n\n## Balance\n\nCheck online\n\nAsk in store"
    )


def test_pdf_text_and_title_are_extracted(write_pdf: Callable[..., Path]) -> None:
    file = write_pdf("warranty.pdf", ["Warranty terms", "Every tent is covered for two years."], "Warranty")
    [doc] = load_documents([file])
    assert doc.title == "Warranty"
    assert "covered for two years" in doc.text


@pytest.mark.parametrize(
    ("password", "message"), [(None, "no extractable text"), ("secret", "password-protected")]
)
def test_pdf_without_text_or_with_a_password_is_refused(
    write_blank_pdf: Callable[..., Path], password: str | None, message: str
) -> None:
    file = write_blank_pdf("scan.pdf", password)
    with pytest.raises(InputError, match=message) as err:
        load_documents([file])
    assert str(file) in str(err.value)


def test_corrupt_pdf_is_refused_with_its_name(tmp_path: Path) -> None:
    file = tmp_path / "broken.pdf"
    file.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    with pytest.raises(InputError, match=r"broken\.pdf is not a readable PDF"):
        load_documents([file])


def test_json_faq_gives_one_document_per_entry(tmp_path: Path) -> None:
    entries = [
        {"id": "ship-1", "question": "How long is shipping?", "answer": "3-5 days.", "category": "shipping"},
        {
            "question": "Do you ship abroad?",
            "answer": "Only to Canada.",
            "url": "https://help.example/abroad",
        },
    ]
    _write(tmp_path / "faq.json", json.dumps({"faqs": entries}))
    first, second = load_documents([tmp_path / "faq.json"])
    assert (first.doc_id, first.title, first.metadata) == (
        "faq.json#ship-1",  # an entry's own id goes under its file's, as an upload's does
        "How long is shipping?",
        {"category": "shipping"},
    )
    assert first.text == "How long is shipping?\n\n3-5 days."
    assert (second.doc_id, second.url) == ("faq.json#2", "https://help.example/abroad")


def test_csv_faq_reads_question_and_answer_columns_in_any_case(tmp_path: Path) -> None:
    _write(tmp_path / "faq.csv", 'ID,Question,Answer\nq1,Can I pay later?,"Yes, with Klarna."\n')
    [doc] = load_documents([tmp_path / "faq.csv"])
    assert (doc.doc_id, doc.text) == ("faq.csv#q1", "Can I pay later?\n\nYes, with Klarna.")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("faq.csv", "q,a\nx,y\n", "header row has columns q, a; expected question, answer"),
        ("faq.csv", "question,answer\nWhat?,\n", "entry 1 has no answer"),
        ("faq.csv", "question,answer\n", "has no FAQ entries"),
        ("faq.json", '{"items": []}', "expected a JSON list of FAQ entries"),
        ("faq.json", '[{"q": "x", "a": "y"}]', "entry 1 has no question or answer; each entry needs keys"),
        ("faq.json", '["just a string"]', "entry 1 is not an object"),
        ("faq.json", "{not json", "is not valid UTF-8 JSON"),
    ],
)
def test_malformed_faq_files_name_the_file_and_the_expected_fields(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    _write(tmp_path / name, content)
    with pytest.raises(InputError, match=message) as err:
        load_documents([tmp_path / name])
    assert name in str(err.value)


def test_folders_are_walked_recursively_skipping_hidden_and_unsupported_files(tmp_path: Path) -> None:
    _write(tmp_path / "kb" / "a.md", "# A\n\ntext")
    _write(tmp_path / "kb" / "deep" / "er" / "b.txt", "text")
    _write(tmp_path / "kb" / ".git" / "c.md", "# hidden")
    _write(tmp_path / "kb" / "logo.svg", "<svg/>")
    ids = [doc.doc_id for doc in load_documents([tmp_path / "kb"])]
    assert ids == ["a.md", "deep/er/b.txt"]


def test_unsupported_file_named_directly_lists_the_supported_types(tmp_path: Path) -> None:
    _write(tmp_path / "terms.docx", "binary")
    with pytest.raises(InputError, match=r"unsupported file type '\.docx'; supported: \.md, .*\.csv"):
        load_documents([tmp_path / "terms.docx"])


@pytest.mark.parametrize("text", ["", "   \n\n  ", "---\ntitle: Only front matter\n---\n"])
def test_empty_documents_are_refused(tmp_path: Path, text: str) -> None:
    _write(tmp_path / "empty.md", text)
    with pytest.raises(InputError, match=r"empty\.md is empty"):
        load_documents([tmp_path / "empty.md"])


def test_missing_path_non_utf8_file_and_empty_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_documents([tmp_path / "nope"])
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_documents([tmp_path / "latin1.txt"])
    (tmp_path / "empty-folder").mkdir()
    with pytest.raises(InputError, match="no documents found"):
        load_documents([tmp_path / "empty-folder"])


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "a.md", "---\nid: x\n---\nText.")
    _write(tmp_path / "b.md", "---\nid: x\n---\nOther text.")
    with pytest.raises(InputError, match="document id 'x' is used by both"):
        load_documents([tmp_path / "a.md", tmp_path / "b.md"])


def test_faq_entry_ids_are_their_files_so_two_files_may_share_one(tmp_path: Path) -> None:
    # Entry ids went bare ("x"), so two FAQ files that both numbered their entries could not be ingested
    # together, and deleting a file left its entries behind (naa kb delete faq.csv).
    _write(tmp_path / "a.json", '[{"id": "x", "question": "q", "answer": "a"}]')
    _write(tmp_path / "b.csv", "id,question,answer\nx,q,a\n")
    docs = load_documents([tmp_path / "a.json", tmp_path / "b.csv"])
    assert [doc.doc_id for doc in docs] == ["a.json#x", "b.csv#x"]


def test_duplicate_ids_inside_one_faq_file_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "faq.csv", "id,question,answer\nx,q1,a1\nx,q2,a2\n")
    with pytest.raises(InputError, match=r"document id 'faq\.csv#x' is used twice in .*faq\.csv"):
        load_documents([tmp_path / "faq.csv"])
