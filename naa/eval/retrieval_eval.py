"""How well a partner's retriever finds the article that answers each of a set of customer questions.

The generator can only ground a reply in the passages it is given, so a question whose article is not
among the top ``k`` passages gets a wrong answer or "I don't know" whatever the model. A partner writes
questions in customers' words with the documents that answer them, and reruns this after changing
articles, chunking, the embedding model or ``min_score``.

Scores are over passages as the assistant receives them (chunks, best first, above ``min_score``): a
question's rank is the position of the first passage from one of its documents. A question with no
documents (``doc_ids: []``) is one the help center does not answer: retrieval should find nothing above
``min_score``, so that the assistant says it does not know rather than answer from an unrelated passage.
Together the two kinds show what a ``min_score`` costs and buys.
"""

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from naa.errors import ConfigError
from naa.retrieval.base import Retriever
from naa.user_files import read_user_text


class RetrievalQuestion(BaseModel):
    """A customer question and the documents (ids as ``naa kb list`` shows them) that answer it; none: the
    knowledge base does not answer it."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    doc_ids: list[str]


@dataclass(frozen=True)
class QuestionResult:
    question: str
    doc_ids: list[str]
    retrieved: list[str]  # the doc id of each passage, best first
    rank: int | None  # 1-based position of the first passage from one of doc_ids; None: not retrieved


@dataclass(frozen=True)
class RetrievalEvalResult:
    results: list[QuestionResult]
    top_k: int | None  # None: the retriever's own default
    seconds: float

    @property
    def answerable(self) -> list[QuestionResult]:
        return [r for r in self.results if r.doc_ids]

    @property
    def unanswerable(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.doc_ids]

    @property
    def hit_at_1(self) -> float | None:
        return _share(self.answerable, lambda r: r.rank == 1)

    @property
    def hit_at_k(self) -> float | None:
        return _share(self.answerable, lambda r: r.rank is not None)

    @property
    def mrr(self) -> float | None:
        """Mean reciprocal rank (0 for a question whose documents were not retrieved)."""
        answerable = self.answerable
        return sum(1 / r.rank for r in answerable if r.rank) / len(answerable) if answerable else None

    @property
    def no_passage(self) -> float | None:
        """Answerable questions with no passage above ``min_score``: the assistant says it does not know."""
        return _share(self.answerable, lambda r: not r.retrieved)

    @property
    def rejected(self) -> float | None:
        """Unanswerable questions with no passage above ``min_score``, as it should be."""
        return _share(self.unanswerable, lambda r: not r.retrieved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": len(self.results),
            "answerable": len(self.answerable),
            "top_k": self.top_k,
            "hit_at_1": self.hit_at_1,
            "hit_at_k": self.hit_at_k,
            "mrr": self.mrr,
            "no_passage": self.no_passage,
            "unanswerable_rejected": self.rejected,
            "seconds": self.seconds,
            "results": [asdict(r) for r in self.results],
        }


def _share(results: list[QuestionResult], test: Callable[[QuestionResult], bool]) -> float | None:
    return sum(1 for r in results if test(r)) / len(results) if results else None


def read_questions(path: Path) -> list[RetrievalQuestion]:
    """Read a questions file: a YAML (or JSON) list of ``{question, doc_ids}``.

    Raises:
        NotFoundError: the file does not exist.
        ConfigError: it is unreadable, not a list, empty, or an entry lacks a question or its doc_ids.
    """
    text = read_user_text(path, "questions file")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"questions file {path} is not valid YAML or JSON: {err}") from err
    shape = "'- question: <text>' with 'doc_ids: [<document id>, ...]' ([] when no document answers it)"
    if not raw:
        raise ConfigError(f"questions file {path} is empty: add {shape} entries")
    if not isinstance(raw, list):
        raise ConfigError(f"questions file {path} must be a list of {shape} entries")
    try:
        return TypeAdapter(list[RetrievalQuestion]).validate_python(raw)
    except ValidationError as err:
        first = err.errors()[0]
        entry, *field = first["loc"]
        where = f"entry {int(entry) + 1}" + "".join(f", {part}" for part in field)
        raise ConfigError(f"questions file {path}, {where}: {first['msg']} (each entry is {shape})") from err


def check_doc_ids(questions: Sequence[RetrievalQuestion], known: Collection[str], source: str) -> None:
    """Refuse doc ids the knowledge base does not hold: a typo would otherwise count as a retrieval miss."""
    if not known:
        raise ConfigError(
            "the knowledge base holds no documents: build it first (`naa build` or `naa kb ingest`; through "
            "the API, POST /v1/kb/documents)"
        )
    unknown = sorted({doc_id for q in questions for doc_id in q.doc_ids} - set(known))
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise ConfigError(
            f"{source}: the knowledge base holds no document {shown}: use the ids `naa kb list` "
            "(GET /v1/kb/documents) shows"
        )


def evaluate_retrieval(
    retriever: Retriever, questions: Sequence[RetrievalQuestion], top_k: int | None = None
) -> RetrievalEvalResult:
    """Search every question at once and rank the passages of its documents."""
    started = time.perf_counter()
    found = retriever.search([q.question for q in questions], top_k=top_k)
    seconds = time.perf_counter() - started
    results = []
    for question, passages in zip(questions, found, strict=True):
        retrieved = [p.doc_id for p in passages]
        rank = next((i for i, doc_id in enumerate(retrieved, start=1) if doc_id in question.doc_ids), None)
        results.append(QuestionResult(question.question, question.doc_ids, retrieved, rank))
    return RetrievalEvalResult(results, top_k, seconds)
