"""Build verifiable tasks from a partner's policies and knowledge base, and from the ABCD guidelines.

Deterministic for a seed: the same inputs give the same file. Each template's tasks are shuffled and the
last ``heldout_fraction`` of them become the held-out split, so both splits cover every template.

    tasks = generate_tasks(TaskSources.demo(), per_template=50, seed=0)
    save_tasks(tasks, Path("tasks.jsonl"))
"""

import json
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from naa.config.partner import PartnerConfig
from naa.errors import ConfigError
from naa.eval.retrieval_eval import RetrievalQuestion, check_doc_ids
from naa.intent.config import EmbeddingIntentConfig
from naa.intent.examples import read_examples
from naa.retrieval import KnowledgeBase
from naa.retrieval.base import Retriever
from naa.rl.task_templates import POLICY_TEMPLATES, Draft, PolicyBook, conversation
from naa.rl.tasks import ActionAnswer, Passage, RLTask, parse_task

_DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
# ../shared/data/abcd relative to the project root (see that folder's README); absent in an installed wheel.
_ABCD_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "abcd"
_PASSAGE_CHARS = 700  # keeps a 4-passage prompt near 800 tokens for small models


Search = Callable[[Sequence[str]], list[list[Passage]]]
"""The passages retrieval finds for each query, as a task shows them (``retrieved_passages``)."""


@dataclass(frozen=True)
class TaskSources:
    """Where tasks come from; a missing source contributes no tasks.

    ``policies`` is a file in the form of ``naa/demo/policies.yaml``: the policy templates read its keys.
    ``intents`` is an intent examples file (YAML or CSV, as ``naa intent train`` reads). ``questions`` are
    customer questions with the documents that answer them (as ``naa eval retrieval`` reads), asked of
    ``search``, the partner's retrieval: each becomes a citation task over the passages it finds.
    """

    policies: Path | None = None
    kb_dir: Path | None = None
    intents: Path | None = None
    abcd_dir: Path | None = None
    questions: Sequence[RetrievalQuestion] = ()
    search: Search | None = None

    @classmethod
    def partner(
        cls,
        config: PartnerConfig,
        policies: Path | None = None,
        questions: Sequence[RetrievalQuestion] = (),
        search: Search | None = None,
    ) -> "TaskSources":
        """A partner's own: the intents of its examples file; ``policies`` with the articles of its first
        knowledge-base folder, and ``questions`` asked of its retrieval (``search``), when given. No ABCD
        tasks: they belong to another business.

        Raises:
            ConfigError: the partner gives nothing to build tasks from.
        """
        intent = config.intent
        intents = intent.examples if isinstance(intent, EmbeddingIntentConfig) else None
        if intents is None and policies is None and not questions:
            raise ConfigError(
                f"partner {config.id!r} has no intent examples file (intent.examples) to build intent tasks "
                "from; citation tasks need customer questions with the documents that answer them "
                "(--questions), policy tasks a policies file shaped as naa/demo/policies.yaml (--policies)"
            )
        kb_dir = next((source for source in config.knowledge_base.sources if source.is_dir()), None)
        return cls(policies=policies, kb_dir=kb_dir, intents=intents, questions=questions, search=search)

    @classmethod
    def demo(cls) -> "TaskSources":
        """The shipped demo partner, plus ABCD when ../shared/data/abcd is present."""
        intents = _DEMO_DIR / "intents.yaml"
        return cls(
            policies=_DEMO_DIR / "policies.yaml",
            kb_dir=_DEMO_DIR / "kb",
            intents=intents if intents.is_file() else None,
            abcd_dir=_ABCD_DIR if _ABCD_DIR.is_dir() else None,
        )


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from err


def _article_texts(kb_dir: Path | None) -> dict[str, str]:
    """doc_id (path under the KB folder) -> the article's opening, without its front matter."""
    if kb_dir is None or not kb_dir.is_dir():
        return {}
    texts = {}
    for path in sorted(kb_dir.rglob("*.md")):
        text = re.sub(r"\A---\n.*?\n---\n", "", path.read_text(encoding="utf-8"), flags=re.DOTALL).strip()
        texts[path.relative_to(kb_dir).as_posix()] = text[:_PASSAGE_CHARS]
    return texts


def _policy_drafts(
    policies: Path, kb_dir: Path | None, per_template: int, seed: int
) -> Iterator[tuple[str, list[Draft]]]:
    data = _read_yaml(policies)
    if not isinstance(data, dict) or not isinstance(data.get("policies"), dict):
        raise ConfigError(f"{policies} must hold a `policies:` mapping, as naa/demo/policies.yaml does")
    book = PolicyBook(data, _article_texts(kb_dir))
    for name, template in POLICY_TEMPLATES.items():
        rng = random.Random(f"{seed}:{name}")
        try:
            drafts = [template(rng, book) for _ in range(per_template)]
        except (KeyError, TypeError, IndexError, ValueError) as err:  # a key missing, or of another shape
            raise ConfigError(
                f"{policies} does not fit the {name} template ({type(err).__name__}: {err}): the templates "
                "read the keys and shapes of naa/demo/policies.yaml"
            ) from err
        yield name, drafts


def _intent_drafts(path: Path, per_template: int, seed: int) -> list[Draft]:
    """Intent tasks from an intent examples file (``read_examples``: YAML or CSV).

    The hint shows two other examples of the right label, never the utterance being classified.
    """
    by_label: dict[str, list[str]] = {}
    for example in read_examples(path):
        by_label.setdefault(example.intent, []).append(example.text)
    if len(by_label) < 2:
        raise ConfigError(f"{path} must give examples of at least two intents to build intent tasks from")
    labels = tuple(sorted(by_label))
    examples = [(label, text) for label in labels for text in by_label[label]]
    rng = random.Random(f"{seed}:intent")
    drafts = []
    for label, text in rng.sample(examples, min(per_template, len(examples))):
        others = [e for e in by_label[label] if e != text][:2]
        hint = f"This is {label}, like: " + "; ".join(others)
        drafts.append(Draft("intent", text, label, hint, (), f"intents:{label}", {"labels": labels}))
    return drafts


def retrieved_passages(retriever: Retriever, questions: Sequence[RetrievalQuestion], source: str) -> Search:
    """A ``Search`` over a partner's retriever (its top_k and min_score) for ``questions``, passages cut to
    the length the templates show.

    Raises:
        ConfigError: a question names a document the knowledge base does not hold (a typo would only drop
            the question); ``source`` names where the questions come from.
    """
    if isinstance(retriever, KnowledgeBase):
        check_doc_ids(questions, {d.doc_id for d in retriever.documents()}, source)

    def search(queries: Sequence[str]) -> list[list[Passage]]:
        return [
            [Passage(doc_id=hit.doc_id, text=hit.text[:_PASSAGE_CHARS]) for hit in hits]
            for hits in retriever.search(queries)
        ]

    return search


def _question_drafts(
    questions: Sequence[RetrievalQuestion], search: Search | None, per_template: int, seed: int
) -> list[Draft]:
    """Citation tasks: a customer question, the passages the partner's retrieval finds for it, and the
    document among them that answers it.

    A question is left out when retrieval finds none of its documents (no reply could cite the right one),
    more than one (the verifier checks a single article) or no other document (nothing to choose between),
    and when no document answers it.
    """
    answerable = [q for q in questions if q.doc_ids]
    if not answerable:
        raise ConfigError("citation tasks need questions that name the documents answering them (doc_ids)")
    if search is None:
        raise ConfigError("citation tasks from questions need the partner's retrieval to find their passages")
    chosen = random.Random(f"{seed}:kb_citation").sample(answerable, min(per_template, len(answerable)))
    drafts = []
    for question, context in zip(chosen, search([q.question for q in chosen]), strict=True):
        found = {passage.doc_id for passage in context}
        cited = found & set(question.doc_ids)
        if len(cited) != 1 or len(found) < 2:
            continue
        (doc_id,) = cited
        hint = f"The passage from {doc_id} answers this question."
        drafts.append(Draft("citation", question.question, doc_id, hint, tuple(context), f"kb:{doc_id}", {}))
    if not drafts:
        raise ConfigError(
            f"none of the {len(chosen)} questions tried makes a citation task: for each, retrieval found "
            "none of its documents, several, or no other document to choose from; check them with "
            "`naa eval retrieval --questions`"
        )
    return drafts


def _abcd_drafts(abcd_dir: Path, per_template: int, seed: int) -> list[Draft]:
    """Next-action tasks from ABCD: the guideline's action sequence of a subflow, steps done so far given.

    ABCD (Chen et al. 2021, arXiv 2104.00783): ``kb.json`` maps each subflow to its ordered actions,
    ``ontology.json`` lists the flows and the action names.
    """
    sequences: dict[str, list[str]] = json.loads((abcd_dir / "kb.json").read_text(encoding="utf-8"))
    ontology = json.loads((abcd_dir / "ontology.json").read_text(encoding="utf-8"))
    flow_of = {sub: flow for flow, subs in ontology["intents"]["subflows"].items() for sub in subs}
    actions = sorted(name for group in ontology["actions"].values() for name in group)
    catalogue = Passage(doc_id="abcd/actions", text="Actions: " + ", ".join(actions))
    steps = [(sub, i) for sub, seq in sorted(sequences.items()) for i in range(len(seq) - 1)]
    rng = random.Random(f"{seed}:abcd")
    drafts = []
    for sub, i in rng.sample(steps, min(per_template, len(steps))):
        seq = sequences[sub]
        case = f"{flow_of.get(sub, 'other').replace('_', ' ')}: {sub.replace('_', ' ')}"
        question = (
            f"[Agent console] Case type: {case}. Actions done so far: {', '.join(seq[: i + 1])}. "
            "Which action does the guideline say comes next?"
        )
        hint = f"The guideline for {sub} runs: {' -> '.join(seq)}."
        answer = ActionAnswer(action=seq[i + 1])
        drafts.append(Draft("action", question, answer, hint, (catalogue,), f"abcd:{sub}", {}))
    return drafts


def _to_task(draft: Draft, task_id: str, split: str) -> RLTask:
    data: dict[str, Any] = {
        "id": task_id,
        "type": draft.type,
        "split": split,
        "messages": conversation(draft.question),
        "context": draft.context,
        "hint": draft.hint,
        "answer": draft.answer,
        "source": draft.source,
    }
    if draft.type == "computation":
        data["unit"] = draft.extra.get("unit", "")
    if draft.type == "intent":
        data["labels"] = draft.extra["labels"]
    try:
        return parse_task(data)
    except ValidationError as err:  # a template bug, not user input: say which template
        raise ConfigError(f"template output for {task_id} is not a valid task: {err}") from err


def generate_tasks(
    sources: TaskSources, per_template: int = 50, seed: int = 0, heldout_fraction: float = 0.2
) -> list[RLTask]:
    """Tasks from every template and source, ids ``<template>-<n>``, split per template.

    Raises:
        ConfigError: a source file is unreadable, or the fraction leaves a split empty.
    """
    if not 0.0 < heldout_fraction < 1.0:
        raise ConfigError(f"heldout_fraction is {heldout_fraction}; use a value between 0 and 1 (e.g. 0.2)")
    groups: dict[str, list[Draft]] = {}
    if sources.policies is not None:
        groups.update(_policy_drafts(sources.policies, sources.kb_dir, per_template, seed))
    if sources.intents is not None:
        groups["intent"] = _intent_drafts(sources.intents, per_template, seed)
    if sources.questions:
        groups["kb_citation"] = _question_drafts(sources.questions, sources.search, per_template, seed)
    if sources.abcd_dir is not None:
        groups["abcd_next_action"] = _abcd_drafts(sources.abcd_dir, per_template, seed)
    tasks: list[RLTask] = []
    for name, drafts in groups.items():
        order = list(range(len(drafts)))
        random.Random(f"{seed}:split:{name}").shuffle(order)
        n_heldout = max(1, round(len(drafts) * heldout_fraction)) if len(drafts) > 1 else 0
        heldout = set(order[len(order) - n_heldout :])
        tasks.extend(
            _to_task(draft, f"{name}-{n:04d}", "heldout" if n in heldout else "train")
            for n, draft in enumerate(drafts)
        )
    return tasks
