"""`naa kb` end to end through Typer's runner, on a partner file and documents written in tmp_path."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_dists import installed_plugin
from typer.testing import CliRunner

from naa.cli.kb import app

runner = CliRunner()


@pytest.fixture
def partner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NAA_DATA_DIR", str(tmp_path / "data"))
    kb = tmp_path / "help"
    (kb / "orders").mkdir(parents=True)
    (kb / "orders" / "cancel.md").write_text(
        "# Cancel an order\n\nYou can cancel within 2 hours of ordering."
    )
    (kb / "faq.csv").write_text(
        "id,question,answer\ngift-1,Do gift cards expire?,No. Gift cards never expire.\n"
    )
    file = tmp_path / "partner.yaml"
    file.write_text(
        "id: acme\nname: Acme\nknowledge_base:\n  name: main\n  sources: [help]\n"
        "retrieval:\n  min_score: 0.2\n"
    )
    return file


def test_ingest_search_list_delete(partner: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "--partner", str(partner)])
    assert result.exit_code == 0, result.output
    assert "indexed 2 documents as 2 chunks" in result.output
    assert (tmp_path / "data" / "partners" / "acme" / "kb" / "main" / "manifest.json").is_file()

    result = runner.invoke(
        app, ["search", "do gift cards ever expire", "--top-k", "1", "--partner", str(partner)]
    )
    assert result.exit_code == 0, result.output
    assert "faq.csv#gift-1" in result.output and "orders/cancel.md" not in result.output
    result = runner.invoke(app, ["search", "quantum chromodynamics lecture notes", "--partner", str(partner)])
    assert "no passage scores above min_score" in result.output  # documents, none near the query

    result = runner.invoke(app, ["list", "--partner", str(partner)])
    assert "orders/cancel.md" in result.output and "faq.csv#gift-1" in result.output

    assert (
        runner.invoke(app, ["delete", "faq.csv#gift-1", "--partner", str(partner)]).output.strip()
        == "deleted 1 documents"
    )
    assert "gift-1" not in runner.invoke(app, ["list", "--partner", str(partner)]).output


def test_deleting_a_faq_file_deletes_its_entries_with_ids_of_their_own(partner: Path) -> None:
    # An entry with an `id` column was indexed as "gift-1", outside its file: `naa kb delete faq.csv`
    # said "deleted 0 documents" and left it answering; an upload of the same file gave "faq.csv#gift-1".
    assert runner.invoke(app, ["ingest", "--partner", str(partner)]).exit_code == 0
    result = runner.invoke(app, ["delete", "faq.csv", "--partner", str(partner)])
    assert result.output.strip() == "deleted 1 documents"
    listed = runner.invoke(app, ["list", "--partner", str(partner)]).output
    assert "gift" not in listed and "orders/cancel.md" in listed


def test_user_errors_print_one_line_and_exit_1(partner: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.docx").write_text("x")
    result = runner.invoke(app, ["ingest", str(tmp_path / "notes.docx"), "--partner", str(partner)])
    assert result.exit_code == 1
    assert "unsupported file type '.docx'" in result.output and "Traceback" not in result.output

    result = runner.invoke(app, ["delete", "nope", "--partner", str(partner)])
    assert result.exit_code == 1 and "no document 'nope'" in result.output

    result = runner.invoke(app, ["ingest", "--partner", str(partner), "--kb", "../../elsewhere"])
    assert result.exit_code == 1 and "'../../elsewhere' is not allowed" in result.output
    assert not (tmp_path / "data" / "partners" / "elsewhere").exists()

    assert runner.invoke(app, ["ingest", "--partner", str(partner)]).exit_code == 0
    result = runner.invoke(app, ["ingest", "--partner", str(partner), "--kb", "main"])
    assert result.exit_code == 1 and "--replace" in result.output
    result = runner.invoke(app, ["ingest", "--partner", str(partner), "--replace"])
    assert result.exit_code == 0 and "2 documents replaced, 2 unchanged chunks kept" in " ".join(
        result.output.split()
    )


def test_search_on_an_empty_knowledge_base_says_it_holds_nothing_yet(partner: Path) -> None:
    result = runner.invoke(app, ["search", "anything", "--partner", str(partner)])
    assert result.exit_code == 0
    assert "holds no documents yet" in result.output


def test_an_empty_query_is_refused_before_anything_is_loaded(partner: Path) -> None:
    result = runner.invoke(app, ["search", "  ", "--partner", str(partner)])
    assert result.exit_code == 1 and "the query is empty" in result.output


def test_text_in_square_brackets_is_printed_as_written(partner: Path, tmp_path: Path) -> None:
    """Titles, passages and paths are not rich markup: "[draft]" is no style, "[/uploads]" no closing tag."""
    (tmp_path / "help" / "warranty.md").write_text(
        "# Warranty [draft] policy\n\nUpload the photos of the damage to [/uploads] within 30 days."
    )
    assert runner.invoke(app, ["ingest", "--partner", str(partner)]).exit_code == 0
    listed = runner.invoke(app, ["list", "--partner", str(partner)])
    assert listed.exit_code == 0 and "[draft]" in listed.output
    found = runner.invoke(app, ["search", "photos of the damage", "--top-k", "1", "--partner", str(partner)])
    assert found.exit_code == 0, found.output
    assert "[/uploads]" in found.output
    (tmp_path / "[bold]empty.md").write_text("")
    result = runner.invoke(app, ["ingest", str(tmp_path / "[bold]empty.md"), "--partner", str(partner)])
    assert result.exit_code == 1 and "[bold]empty.md" in result.output


RETRIEVER_PLUGIN = """
from naa.config.plugins import Plugin
from naa.retrieval.base import Passage


class Catalogue:
    def __init__(self, answer):
        self.answer = answer

    def warm_up(self):
        pass

    def search(self, queries, top_k=None):
        return [[Passage("tariffs.md", "tariffs.md#0", self.answer, 0.9, title="Tariffs")] for _ in queries]


plugin = Plugin("catalogue", {"retriever": {"catalogue": Catalogue}})
"""


@pytest.fixture
def retriever_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A retriever plugin installed as pip would (a dist-info on sys.path)."""
    with installed_plugin(tmp_path / "site", monkeypatch, "catalogue_plugin", RETRIEVER_PLUGIN):
        yield


def test_search_uses_the_partners_plugin_retriever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retriever_plugin: None
) -> None:
    # It said "retrieves with the plugin 'catalogue'; index documents with that plugin's own tools".
    monkeypatch.setenv("NAA_DATA_DIR", str(tmp_path / "data"))
    partner = tmp_path / "partner.yaml"
    partner.write_text(
        "id: energy\nname: Energy\nretrieval:\n  backend: plugin\n  name: catalogue\n"
        "  options: {answer: The exit fee is 50 pounds.}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["search", "exit fee", "--partner", str(partner)])
    assert result.exit_code == 0, result.output
    assert "tariffs.md" in result.output and "exit fee is 50" in result.output
