"""Builds what a partner needs before it can answer: intent model, knowledge-base index, generator.

Used by ``naa serve`` (embedded default) and ``naa build``, so both
produce the same files in the same places (see ``naa.workspace``).
"""

from collections.abc import Callable
from pathlib import Path

from naa.assistant import make_generator
from naa.config.partner import PartnerConfig
from naa.config.plugins import ComponentKind, PluginComponentConfig, PluginRef, load_plugins
from naa.errors import ConfigError
from naa.generation.config import TransformersGeneratorConfig, VLLMGeneratorConfig
from naa.generation.model_files import PACKAGED_MODELS, resolve_model_source
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

    Raises:
        ConfigError, ModelUnavailableError: a plugin is missing or cannot be built with its options
            (``check_plugins``), or a source folder or the generator's folder is missing, said before
            anything is built.
    """
    check_build(config, workspace)
    # The slices of 0..1 given to each stage follow their cost on the demo partner: intent training dominates.
    report = progress or (lambda fraction, message: None)
    ran: list[str] = []

    intent_dir = workspace.intent_dir(config.id)
    if trains_intents(config) and not (missing_only and intent_dir.exists()):
        examples = read_examples(intent_examples(config))
        intent = config.builtin_intent()
        train_intent_classifier(intent, examples, intent_dir, progress=_scaled(report, 0.0, 0.6, "intent"))
        ran.append("intent")

    if indexes_sources(config):
        kb = KnowledgeBase(
            workspace.kb_dir(config.id, config.knowledge_base.name),
            config.builtin_retrieval(),
            workspace.models_dir,
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


# A plugin classifier or retriever is trained and fed by its own package: a build (`naa build`, the admin
# build route's jobs) trains and indexes only the built-in ones.
def trains_intents(config: PartnerConfig) -> bool:
    return isinstance(config.intent, EmbeddingIntentConfig)


def indexes_sources(config: PartnerConfig) -> bool:
    return isinstance(config.retrieval, FaissRetrieverConfig) and bool(config.knowledge_base.sources)


def intent_examples(config: PartnerConfig) -> Path:
    """The examples file the built-in classifier is trained from.

    Raises:
        ConfigError: the partner names none.
    """
    examples = config.builtin_intent().examples
    if examples is None:
        raise ConfigError(
            f"partner {config.id!r} has no intent.examples file to train from: set intent.examples to a "
            "YAML file (intent: [example texts]) or a CSV file (text,intent), or name a plugin "
            "classifier (intent: {backend: plugin, name: ...})"
        )
    return examples


def check_build(config: PartnerConfig, workspace: Workspace) -> None:
    """What a build will need, checked before its minutes of training (``naa build``, and the admin build
    route before it queues jobs): plugins, source folders and a generator folder. Raises ConfigError or
    ModelUnavailableError."""
    check_plugins(config)
    missing = [str(source) for source in config.knowledge_base.sources if not source.exists()]
    if missing:
        raise ConfigError(f"knowledge_base.sources: {', '.join(missing)} does not exist")
    # A packaged model is converted at the end, as a stage of its own; a folder is only looked at.
    generation = config.generation
    if (
        isinstance(generation, TransformersGeneratorConfig | VLLMGeneratorConfig)
        and generation.model not in PACKAGED_MODELS
    ):
        resolve_model_source(generation.model, workspace.models_dir)


def plugin_refs(config: PartnerConfig) -> list[tuple[str, ComponentKind, PluginRef]]:
    """Every plugin component the partner names, with its field (``tools.0``) and the kind of its slot,
    in file order."""
    refs: list[tuple[str, ComponentKind, PluginRef]] = []
    if isinstance(config.intent, PluginComponentConfig):
        refs.append(("intent", "intent_classifier", config.intent))
    if isinstance(config.retrieval, PluginComponentConfig):
        refs.append(("retrieval", "retriever", config.retrieval))
    if isinstance(config.generation, PluginComponentConfig):
        refs.append(("generation", "generator", config.generation))
    refs += [(f"postprocessors.{i}", "postprocessor", ref) for i, ref in enumerate(config.postprocessors)]
    refs += [(f"tools.{i}", "tool", ref) for i, ref in enumerate(config.tools)]
    return refs


def check_plugins(config: PartnerConfig) -> None:
    """Build each plugin component the partner names with its options, as answering will, and drop it.

    A missing plugin, a package that fails to import, an option its factory refuses and a component
    lacking a method of its kind all raise the ConfigError answering would, before anything is built,
    starting with the field that names it (``tools.0: no tool plugin named ...``). Components load their
    models in ``warm_up``, which this does not call, so this is quick.
    """
    plugins = load_plugins()
    for field, kind, ref in plugin_refs(config):
        try:
            plugins.build(kind, ref.name, ref.options)
        except ConfigError as err:
            raise ConfigError(f"{field}: {err}") from err


def _scaled(report: Progress, start: float, end: float, stage: str) -> Progress:
    """Map a stage's own 0..1 progress onto its slice of the whole build."""
    return lambda fraction, message: report(start + (end - start) * fraction, f"{stage}: {message}")
