"""KnowledgeBase with the real MiniLM encoder and real FAISS indexes on disk."""

import dataclasses
import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import faiss
import pytest
from pydantic import ValidationError

from naa.errors import ConflictError, InputError, NotFoundError, RetrievalError
from naa.retrieval import Document, FaissRetrieverConfig, KnowledgeBase

ARTICLE_IDS = ["refunds", "shipping", "password"]
CONFIG = FaissRetrieverConfig(chunk_size=200, chunk_overlap=40, min_score=0.3)


def _top_doc(kb: KnowledgeBase, query: str) -> str:
    return kb.search([query])[0][0].doc_id


def _manifest(directory: Path) -> dict[str, object]:
    return json.loads((directory / "manifest.json").read_text())


def _ivf_lists(generation: Path) -> int:
    index = faiss.read_index(str(generation / "index.faiss"))  # an IndexIDMap around the IVF index
    return int(faiss.downcast_index(index.index).nlist)


def test_add_search_delete_round_trip(tmp_path: Path, articles: list[Document]) -> None:
    kb = KnowledgeBase(tmp_path / "kb", CONFIG)
    report = kb.add(articles)
    assert (report.documents, report.replaced) == (3, ())
    assert report.chunks == sum(info.chunks for info in kb.documents()) >= 4

    refunds, shipping = kb.search(
        ["how many days until I get my money back?", "when does express delivery arrive"]
    )
    assert refunds[0].doc_id == "refunds" and refunds[0].url == "https://help.example/refunds"
    assert shipping[0].doc_id == "shipping" and shipping[0].title == "Shipping times"
    assert all(a.score >= b.score >= CONFIG.min_score for a, b in itertools.pairwise(refunds))
    assert "Store credit" in {p.section for p in kb.search(["does store credit expire"], top_k=10)[0]}

    assert kb.delete(["shipping"]) == 1
    assert [info.doc_id for info in kb.documents()] == ["password", "refunds"]
    assert all(p.doc_id != "shipping" for p in kb.search(["when does express delivery arrive"], top_k=10)[0])


def test_unrelated_query_finds_nothing_above_min_score(tmp_path: Path, articles: list[Document]) -> None:
    kb = KnowledgeBase(tmp_path / "kb", CONFIG)
    kb.add(articles)
    assert kb.search(["the migration of arctic terns over the pacific"]) == [[]]


def test_missing_knowledge_base_searches_empty_and_is_not_created(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "nothing-yet", CONFIG)
    kb.warm_up()
    kb.warm_up()  # safe twice
    assert kb.search(["refund", "shipping"]) == [[], []]
    assert kb.documents() == []
    assert not (tmp_path / "nothing-yet").exists()


def test_index_persists_and_other_instances_see_new_writes(tmp_path: Path, articles: list[Document]) -> None:
    writer = KnowledgeBase(tmp_path / "kb", CONFIG)
    writer.add(articles[:2])
    reader = KnowledgeBase(tmp_path / "kb", CONFIG)
    reader.warm_up()
    assert _top_doc(reader, "money back for returned items") == "refunds"
    writer.add(articles[2:])  # as a Celery worker would, while the API replica keeps serving
    assert _top_doc(reader, "I forgot my password") == "password"
    assert [info.doc_id for info in reader.documents()] == ["password", "refunds", "shipping"]


def test_existing_ids_conflict_unless_replace(tmp_path: Path, articles: list[Document]) -> None:
    kb = KnowledgeBase(tmp_path / "kb", CONFIG)
    kb.add(articles)
    with pytest.raises(ConflictError, match=r"already in knowledge base .*: refunds; use replace"):
        kb.add(articles[:1])
    updated = dataclasses.replace(articles[0], text="Refunds now take 60 days and go to a gift card.")
    report = kb.add([updated], replace=True)
    assert report.replaced == ("refunds",)
    passages = kb.search(["how long do refunds take"], top_k=10)[0]
    refund_texts = [p.text for p in passages if p.doc_id == "refunds"]
    assert refund_texts == ["Refunds now take 60 days and go to a gift card."]
    assert {info.doc_id: info.chunks for info in kb.documents()}["refunds"] == 1


def test_bad_batches_are_refused_before_anything_is_written(tmp_path: Path, articles: list[Document]) -> None:
    kb = KnowledgeBase(tmp_path / "kb", CONFIG)
    with pytest.raises(InputError, match="no documents"):
        kb.add([])
    with pytest.raises(InputError, match="more than once: refunds"):
        kb.add([articles[0], articles[0]])
    with pytest.raises(InputError, match="'blank' has no text"):
        kb.add([*articles, Document("blank", "  \n ")])
    assert not (tmp_path / "kb" / "manifest.json").exists()


def test_deleting_an_unknown_id_removes_nothing(tmp_path: Path, articles: list[Document]) -> None:
    kb = KnowledgeBase(tmp_path / "kb", CONFIG)
    kb.add(articles)
    with pytest.raises(NotFoundError, match="no document 'nope'"):
        kb.delete(["refunds", "nope"])
    assert len(kb.documents()) == 3
    with pytest.raises(NotFoundError):
        KnowledgeBase(tmp_path / "empty", CONFIG).delete(["refunds"])


def test_a_failed_write_leaves_the_previous_index_serving(tmp_path: Path, articles: list[Document]) -> None:
    kb = KnowledgeBase(tmp_path / "kb", CONFIG)
    kb.add(articles[:2])
    before = kb.search(["money back"])
    # A file where the next generation's folder must go: the write fails after embedding, at the rename.
    obstacle = tmp_path / "kb" / "gen-000002"
    obstacle.write_text("in the way")
    with pytest.raises(RetrievalError, match="previous index is unchanged"):
        kb.add(articles[2:])
    for fresh in (kb, KnowledgeBase(tmp_path / "kb", CONFIG)):
        assert fresh.search(["money back"]) == before
        assert [info.doc_id for info in fresh.documents()] == ["refunds", "shipping"]
    obstacle.unlink()
    kb.add(articles[2:])
    assert _top_doc(kb, "I forgot my password") == "password"


def test_leftovers_of_a_crashed_write_are_ignored_then_cleaned(
    tmp_path: Path, articles: list[Document]
) -> None:
    kb = KnowledgeBase(tmp_path / "kb", CONFIG)
    kb.add(articles[:2])
    # What a writer killed mid-way leaves: a half-written temp folder, and a renamed next generation
    # whose manifest switch never happened.
    (tmp_path / "kb" / ".gen-000002.tmp-4242").mkdir()
    (tmp_path / "kb" / "gen-000002").mkdir()
    (tmp_path / "kb" / "gen-000002" / "index.faiss").write_bytes(b"half")
    reopened = KnowledgeBase(tmp_path / "kb", CONFIG)
    assert _top_doc(reopened, "money back for returns") == "refunds"
    reopened.add(articles[2:])
    assert sorted(p.name for p in (tmp_path / "kb").iterdir()) == [
        ".lock",
        "gen-000001",
        "gen-000002",
        "manifest.json",
    ]
    assert _top_doc(KnowledgeBase(tmp_path / "kb", CONFIG), "I forgot my password") == "password"


def test_index_built_with_another_model_must_be_reingested(tmp_path: Path, articles: list[Document]) -> None:
    KnowledgeBase(tmp_path / "kb", CONFIG).add(articles)
    other = KnowledgeBase(tmp_path / "kb", CONFIG.model_copy(update={"embedding_model": "all-mpnet-base-v2"}))
    with pytest.raises(
        RetrievalError, match=r"built with embedding model 'all-MiniLM-L6-v2'.*run `naa kb ingest`"
    ):
        other.search(["refund"])
    with pytest.raises(RetrievalError, match="built with embedding model"):
        other.add(articles, replace=True)


def test_damaged_index_files_give_a_retrieval_error(tmp_path: Path, articles: list[Document]) -> None:
    KnowledgeBase(tmp_path / "kb", CONFIG).add(articles)
    (tmp_path / "kb" / "gen-000001" / "metadata.json").write_text("{")
    with pytest.raises(RetrievalError, match="is damaged: generation 1 is unreadable"):
        KnowledgeBase(tmp_path / "kb", CONFIG).search(["refund"])


@pytest.mark.parametrize("approximate", ["hnsw", "ivf"])
def test_large_knowledge_bases_switch_to_approximate_and_back(
    tmp_path: Path, articles: list[Document], approximate: str
) -> None:
    config = CONFIG.model_copy(update={"approximate_above": 3, "approximate_index": approximate})
    kb = KnowledgeBase(tmp_path / "kb", config)
    kb.add(articles[:1])
    assert _manifest(tmp_path / "kb")["kind"] == "flat"
    kb.add(articles[1:])
    assert _manifest(tmp_path / "kb")["kind"] == approximate
    assert _top_doc(KnowledgeBase(tmp_path / "kb", config), "express delivery next day") == "shipping"
    kb.delete(["refunds", "password"])  # rebuilt from the stored vectors (HNSW cannot remove any)
    assert _manifest(tmp_path / "kb")["kind"] == "flat"
    assert _top_doc(kb, "express delivery next day") == "shipping"


def test_ivf_knowledge_base_retrains_as_it_grows_and_deletes_cleanly(
    tmp_path: Path, articles: list[Document]
) -> None:
    config = CONFIG.model_copy(update={"approximate_above": 50, "approximate_index": "ivf"})
    branches = [
        Document(f"branch-{i}", f"Branch {i} on Elm Street {i} opens at {7 + i % 4} am.", title=f"Branch {i}")
        for i in range(80)
    ]
    kb = KnowledgeBase(tmp_path / "kb", config)
    kb.add([*articles, *branches[:50]])  # 54 chunks: IVF with 54 // 39 = 1 list
    kb.add(branches[50:])  # 84 chunks want 2 lists: retrained rather than appended to
    assert _manifest(tmp_path / "kb")["kind"] == "ivf"
    assert _ivf_lists(tmp_path / "kb" / "gen-000002") == 2

    assert _top_doc(kb, "when does express delivery arrive") == "shipping"
    kb.delete(["shipping"])
    assert _manifest(tmp_path / "kb")["kind"] == "ivf"
    assert all(p.doc_id != "shipping" for p in kb.search(["when does express delivery arrive"], top_k=10)[0])


def test_a_change_of_approximate_index_rebuilds_at_the_next_write(
    tmp_path: Path, articles: list[Document]
) -> None:
    hnsw = CONFIG.model_copy(update={"approximate_above": 2})
    KnowledgeBase(tmp_path / "kb", hnsw).add(articles[:2])
    assert _manifest(tmp_path / "kb")["kind"] == "hnsw"
    ivf = KnowledgeBase(tmp_path / "kb", hnsw.model_copy(update={"approximate_index": "ivf"}))
    assert _top_doc(ivf, "money back for returned items") == "refunds"  # reading keeps the HNSW index
    ivf.add(articles[2:])
    assert _manifest(tmp_path / "kb")["kind"] == "ivf"
    assert _top_doc(ivf, "I forgot my password") == "password"


def test_progress_reports_rising_fractions_up_to_one(tmp_path: Path, articles: list[Document]) -> None:
    seen: list[tuple[float, str]] = []
    KnowledgeBase(tmp_path / "kb", CONFIG).add(articles, progress=lambda f, m: seen.append((f, m)))
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("embedded" in message for _, message in seen)


def test_concurrent_writers_take_turns_and_lose_nothing(tmp_path: Path, articles: list[Document]) -> None:
    # Each writer reloads the index under the lock; without it a later write would drop earlier documents.
    writers = [KnowledgeBase(tmp_path / "kb", CONFIG) for _ in articles]
    with ThreadPoolExecutor(len(articles)) as pool:
        reports = list(pool.map(lambda pair: pair[0].add([pair[1]]), zip(writers, articles, strict=True)))
    assert [report.documents for report in reports] == [1, 1, 1]
    assert [info.doc_id for info in KnowledgeBase(tmp_path / "kb", CONFIG).documents()] == sorted(ARTICLE_IDS)
    assert _manifest(tmp_path / "kb")["generation"] == 3


def test_reingesting_unchanged_documents_reuses_their_vectors(
    tmp_path: Path, articles: list[Document]
) -> None:
    kb = KnowledgeBase(tmp_path / "kb", CONFIG)
    first = kb.add(articles)
    password_chunks = {info.doc_id: info.chunks for info in kb.documents()}["password"]
    before = kb.search(["money back for returned items"], top_k=10)

    edited = dataclasses.replace(articles[2], text="# Reset your password\n\nUse the link in the app.")
    again = kb.add([*articles[:2], edited], replace=True)

    assert again.reused_chunks == first.chunks - password_chunks  # only the edited article was embedded
    assert kb.search(["money back for returned items"], top_k=10) == before
    assert _top_doc(kb, "link in the app to reset my password") == "password"


def test_the_encoder_conversion_is_kept_in_the_workspace_models_dir(
    tmp_path: Path, articles: list[Document]
) -> None:
    kb = KnowledgeBase(tmp_path / "kb", CONFIG, models_dir=tmp_path / "models")
    kb.add(articles)
    [converted] = (tmp_path / "models" / "openvino").iterdir()
    assert converted.name.startswith("all-MiniLM-L6-v2-") and (converted / "model.xml").is_file()
    assert (
        _top_doc(KnowledgeBase(tmp_path / "kb", CONFIG, models_dir=tmp_path / "models"), "refund")
        == "refunds"
    )


@pytest.mark.parametrize("min_score", [7.5, -1.5])
def test_a_min_score_no_cosine_similarity_can_reach_is_refused(min_score: float) -> None:
    # 7.5 was accepted, and every question was then answered "I couldn't find that".
    with pytest.raises(ValidationError, match="min_score"):
        FaissRetrieverConfig(min_score=min_score)


def test_a_faq_files_id_deletes_all_its_entries(tmp_path: Path, articles: list[Document]) -> None:
    # `naa kb delete faq.csv` was "no document 'faq.csv'": only each 'faq.csv#n' could be named.
    kb = KnowledgeBase(tmp_path / "kb", CONFIG)
    entries = [Document(f"faq.csv#{n}", f"Question {n}? Answer {n}.", source="faq.csv") for n in (1, 2)]
    kb.add([*articles, *entries])
    assert kb.delete(["faq.csv"]) == 2
    assert [info.doc_id for info in kb.documents()] == ["password", "refunds", "shipping"]
    with pytest.raises(NotFoundError, match=r"'faq\.csv'"):
        kb.delete(["faq.csv"])
