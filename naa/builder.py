"""Builds what a partner needs before it can answer: intent model, knowledge-base index, generator.

Used by ``naa serve`` (embedded default) and ``naa build``, so both
produce the same files in the same places (see ``naa.workspace``).
"""

from collections.abc import Callable

from naa.assistant import make_generator
from naa.config.partner import PartnerConfig
from naa.errors import ConfigError
from naa.intent import EmbeddingIntentConfig, read_examples, train_intent_classifier
from naa.retrieval import FaissRetrieverConfig, KnowledgeBase, load_documents
from naa.workspace import Workspace

Progress = Callable[[float, str], None]


def build_partner(
    config: PartnerConfig, workspace: Workspace, progress: Progress | None = None, missing_only: bool = False
) -> list[str]:
    """Train the intent model, index the knowledge base and prepare the generator.

    Args:
        missing_only: skip the intent model and the index when they already exist (fast restarts).

    Returns:
        The names of the stages that ran.
    """
    # The slices of 0..1 given to each stage follow their cost on the demo partner: intent training dominates.
    report = progress or (lambda fraction, message: None)
    ran: list[str] = []

    # A plugin classifier or retriever is built by its own package: only built-in components are built here.
    intent, retrieval = config.intent, config.retrieval
    intent_dir = workspace.intent_dir(config.id)
    if isinstance(intent, EmbeddingIntentConfig) and not (missing_only and intent_dir.exists()):
        if intent.examples is None:
            raise ConfigError(f"partner {config.id!r} has no intent.examples file to train from")
        examples = read_examples(intent.examples)
        train_intent_classifier(intent, examples, intent_dir, progress=_scaled(report, 0.0, 0.6, "intent"))
        ran.append("intent")

    if isinstance(retrieval, FaissRetrieverConfig) and config.knowledge_base.sources:
        kb = KnowledgeBase(
            workspace.kb_dir(config.id, config.knowledge_base.name), retrieval, workspace.models_dir
        )
        if not (missing_only and kb.documents()):
            documents = load_documents(config.knowledge_base.sources)
            kb.add(documents, progress=_scaled(report, 0.6, 0.9, "knowledge base"), replace=True)
            ran.append("knowledge base")

    report(0.9, "generator: preparing the model")
    make_generator(config, workspace).warm_up()
    ran.append("generator")
    report(1.0, "done")
    return ran


def _scaled(report: Progress, start: float, end: float, stage: str) -> Progress:
    """Map a stage's own 0..1 progress onto its slice of the whole build."""
    return lambda fraction, message: report(start + (end - start) * fraction, f"{stage}: {message}")
