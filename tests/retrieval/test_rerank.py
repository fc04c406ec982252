"""Cross-encoder re-ranking with a tiny random-weight BERT saved as a local model folder."""

from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from naa.embeddings import resolve_model_path
from naa.errors import ModelUnavailableError
from naa.retrieval import CrossEncoderReranker, Document, FaissRetrieverConfig, KnowledgeBase, Passage


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT with one output (relevance), using MiniLM's tokenizer files: loads like a real one.

    Seeded, with weights wide enough that three passages get three distinct scores on every run.
    """
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("cross-encoder")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("all-MiniLM-L6-v2"))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
        initializer_range=0.5,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_rerank_orders_passages_by_cross_encoder_score(tiny_cross_encoder: Path) -> None:
    passages = [Passage("d", f"d#{i}", text, 0.5) for i, text in enumerate(["refunds", "shipping", "tents"])]
    reranked = CrossEncoderReranker(str(tiny_cross_encoder)).rerank("refund policy", passages)
    assert {p.chunk_id for p in reranked} == {"d#0", "d#1", "d#2"}
    scores = [p.rerank_score for p in reranked]
    assert all(score is not None and 0.0 <= score <= 1.0 for score in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert len(set(scores)) == 3
    assert all(p.score == 0.5 for p in reranked)  # cosine kept, so min_score keeps its meaning


def test_knowledge_base_reranks_its_vector_search_candidates(
    tmp_path: Path, articles: list[Document], tiny_cross_encoder: Path
) -> None:
    config = FaissRetrieverConfig(chunk_size=200, chunk_overlap=40, min_score=-1.0, top_k=2)
    KnowledgeBase(tmp_path / "kb", config).add(articles)
    plain = KnowledgeBase(tmp_path / "kb", config).search(["refund"], top_k=10)[0]
    kb = KnowledgeBase(tmp_path / "kb", config.model_copy(update={"reranker_model": str(tiny_cross_encoder)}))
    kb.warm_up()
    [reranked] = kb.search(["refund"])
    assert len(reranked) == 2
    assert reranked[0].rerank_score is not None and reranked[1].rerank_score is not None
    assert reranked[0].rerank_score >= reranked[1].rerank_score
    assert {p.chunk_id for p in reranked} <= {p.chunk_id for p in plain}


def test_missing_reranker_model_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="cannot load re-ranker model"):
        CrossEncoderReranker(str(tmp_path / "no-such-model")).warm_up()
