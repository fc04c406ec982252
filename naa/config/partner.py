"""Per-partner configuration: one YAML file per partner company.

Every model forbids unknown keys, so a typo in a partner file fails at load time with its field path.
Relative paths in a file on disk are resolved against the file's folder; a config posted as text has no
folder, so its paths must be absolute (``check_text_paths``). Intent names the file uses (``handoff``) are
checked against the intents its examples define, once those examples can be read (``check_intent_names``).
"""

import difflib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from naa.config.plugins import PluginComponentConfig, PluginRef
from naa.config.validation import describe
from naa.errors import ConfigError, ConflictError
from naa.generation.base import SamplingParams
from naa.generation.config import (
    OpenAIGeneratorConfig,
    TransformersGeneratorConfig,
    VLLMGeneratorConfig,
)
from naa.generation.model_files import relative_to_file
from naa.intent.base import OUT_OF_SCOPE
from naa.intent.config import EmbeddingIntentConfig
from naa.intent.examples import read_examples
from naa.retrieval.config import FaissRetrieverConfig
from naa.safety.config import GuardrailConfig
from naa.workspace import NAME_PATTERN


def _backend_or(default: str) -> Callable[[Any], str]:
    """Discriminate a component slot by ``backend``; a file that leaves it out gets the built-in default."""

    def backend(value: Any) -> str:
        found = value.get("backend") if isinstance(value, dict) else getattr(value, "backend", None)
        return str(found or default)

    return backend


# Each component slot takes a built-in backend or a plugin component (``backend: plugin``).
IntentSlot = Annotated[
    Annotated[EmbeddingIntentConfig, Tag("embedding")] | Annotated[PluginComponentConfig, Tag("plugin")],
    Discriminator(_backend_or("embedding")),
]
RetrievalSlot = Annotated[
    Annotated[FaissRetrieverConfig, Tag("faiss")] | Annotated[PluginComponentConfig, Tag("plugin")],
    Discriminator(_backend_or("faiss")),
]
GenerationSlot = Annotated[
    Annotated[TransformersGeneratorConfig, Tag("transformers")]
    | Annotated[VLLMGeneratorConfig, Tag("vllm")]
    | Annotated[OpenAIGeneratorConfig, Tag("openai")]
    | Annotated[PluginComponentConfig, Tag("plugin")],
    Discriminator(_backend_or("transformers")),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PromptConfig(_Strict):
    system: str = Field(
        "You are {company}'s customer-service assistant. Answer only from the numbered passages. "
        "Cite each fact with its passage number in brackets, like [1]. If the passages do not answer "
        "the question, say you do not know and offer to connect the customer with a human agent.",
        description="System prompt; {company} is replaced by the partner's name.",
    )
    no_answer: str = Field(
        "I'm sorry, I couldn't find that in our help center. "
        "Would you like me to connect you with a human agent?",
        description="Reply when retrieval finds nothing relevant (no generation is run).",
    )
    clarify: str = Field(
        "I'm not sure I understood. Could you tell me a bit more about what you need?",
        description="Reply when the intent is out of scope and fallback is 'clarify'.",
    )
    handoff: str = Field(
        "I'll connect you with a member of our support team who can help with this.",
        description="Reply when the turn is handed off to a human.",
    )


class HandoffConfig(_Strict):
    always: list[str] = Field(
        default_factory=list, description="Intents that always go to a human (e.g. complaint)."
    )
    fallback: Literal["clarify", "handoff"] = Field(
        "clarify", description="What to do when the intent is out of scope."
    )
    smalltalk: dict[str, str] = Field(
        default_factory=dict,
        description="Intents answered with a fixed reply and no retrieval (greeting, thanks).",
    )


class KnowledgeBaseConfig(_Strict):
    name: str = Field("default", pattern=NAME_PATTERN, description="Index name.")
    sources: list[Path] = Field(
        default_factory=list, description="Files or folders ingested by `naa kb ingest`."
    )


class PartnerConfig(_Strict):
    id: str = Field(..., pattern=NAME_PATTERN, description="Stable partner id, used in paths.")
    name: str = Field(
        ...,
        min_length=1,
        max_length=200,  # the partners.name column
        description="Company name shown in prompts and the console.",
    )
    intent: IntentSlot = Field(default_factory=EmbeddingIntentConfig)
    knowledge_base: KnowledgeBaseConfig = Field(default_factory=KnowledgeBaseConfig)
    retrieval: RetrievalSlot = Field(default_factory=FaissRetrieverConfig)
    generation: GenerationSlot = Field(default_factory=TransformersGeneratorConfig)
    prompts: PromptConfig = Field(default_factory=PromptConfig)
    handoff: HandoffConfig = Field(default_factory=HandoffConfig)
    guardrails: GuardrailConfig = Field(default_factory=GuardrailConfig)
    tools: list[PluginRef] = Field(
        default_factory=list,
        description="Plugin tools (actions such as an order lookup) this partner enables for its agents.",
    )
    postprocessors: list[PluginRef] = Field(
        default_factory=list, description="Plugin post-processors applied to every reply, in this order."
    )

    def sampling_defaults(self) -> SamplingParams:
        """How replies are sampled unless a request says otherwise; SamplingParams' own for plugins."""
        if isinstance(self.generation, PluginComponentConfig):
            return SamplingParams()
        return self.generation.default_params()

    def generator_model(self) -> str:
        """The model the generator serves, as shown to users; ``plugin:<name>`` for a plugin generator."""
        if isinstance(self.generation, PluginComponentConfig):
            return f"plugin:{self.generation.name}"
        return self.generation.model

    def builtin_intent(self) -> EmbeddingIntentConfig:
        """The intent settings, for work only the built-in classifier does (training from examples).

        Raises:
            ConflictError: the partner's classifier is a plugin.
        """
        if isinstance(self.intent, PluginComponentConfig):
            raise ConflictError(
                f"partner {self.id!r} classifies intents with the plugin {self.intent.name!r}, which NAA "
                "does not train: train it with that plugin's own tools"
            )
        return self.intent

    def builtin_retrieval(self) -> FaissRetrieverConfig:
        """The retrieval settings, for work only the built-in FAISS knowledge base does (ingesting).

        Raises:
            ConflictError: the partner's retriever is a plugin.
        """
        if isinstance(self.retrieval, PluginComponentConfig):
            raise ConflictError(
                f"partner {self.id!r} retrieves with the plugin {self.retrieval.name!r}, which holds its own "
                "documents: NAA's knowledge base (ingest, list, delete, uploads) is not used; manage the "
                "documents with that plugin's own tools"
            )
        return self.retrieval


def parse_partner_yaml(text: str, where: str) -> PartnerConfig:
    """A partner file's text validated, its paths as written; errors start with ``where`` and name each
    field as the file writes it.

    Raises:
        ConfigError: not YAML, not a mapping, or invalid settings.
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{where} is not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping of partner settings (id, name, ...)")
    try:
        return PartnerConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"{where}: {describe(err, raw)}") from err


def load_partner_config(path: Path, *, check_intents: bool = True) -> PartnerConfig:
    """Read and validate one partner YAML file; relative paths become relative to its folder.

    Args:
        check_intents: also refuse intent names the examples file does not define (``check_intent_names``;
            it reads that file). Code that re-reads an already checked file on every request passes False.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read partner config {path}: {err.strerror}") from err
    config = _resolve_paths(parse_partner_yaml(text, f"partner config {path}"), path.parent)
    if check_intents:
        check_intent_names(config, where=f"partner config {path}")
    return config


def check_intent_names(config: PartnerConfig, where: str) -> None:
    """Refuse a ``handoff`` intent (``always``, a ``smalltalk`` key) that the intent examples do not define.

    Such a name never matches a prediction, so the rule would do nothing, silently. The intents are known
    only for the built-in classifier with an examples file at hand; with a plugin classifier, no examples,
    or a file that is not there (the build says so), nothing is checked. ``out_of_scope``, the label of
    a query outside every intent, is always allowed. ``where`` starts the message (the file, or the field).

    Raises:
        ConfigError: an unknown name (with the closest defined one, if any), or an examples file that
            cannot be read as one.
    """
    intent = config.intent
    if not isinstance(intent, EmbeddingIntentConfig) or intent.examples is None:
        return
    if not intent.examples.is_file():
        return
    defined = {example.intent for example in read_examples(intent.examples)} | {OUT_OF_SCOPE}
    used = [("handoff.always", config.handoff.always), ("handoff.smalltalk", list(config.handoff.smalltalk))]
    for field, names in used:
        unknown = [name for name in names if name not in defined]
        if unknown:
            them = "it" if len(unknown) == 1 else "them"
            raise ConfigError(
                f"{where}: {field}: {_unknown_intents(unknown, defined)} not defined by the intent examples "
                f"in {intent.examples}: fix the {'name' if them == 'it' else 'names'}, or add examples for "
                f"{them} to that file"
            )


def _unknown_intents(unknown: Sequence[str], defined: set[str]) -> str:
    """``'complain' (did you mean 'complaint'?) is`` / ``'a', 'b' are``."""
    named = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(defined), n=1)
        named.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    return f"intent {named[0]} is" if len(named) == 1 else f"intents {', '.join(named)} are"


def config_paths(config: PartnerConfig) -> list[tuple[str, Path]]:
    """Every file or folder the config names, with its field path (``knowledge_base.sources.0``)."""
    paths = []
    if isinstance(config.intent, EmbeddingIntentConfig) and config.intent.examples is not None:
        paths.append(("intent.examples", config.intent.examples))
    sources = config.knowledge_base.sources
    return paths + [(f"knowledge_base.sources.{i}", source) for i, source in enumerate(sources)]


def check_text_paths(config: PartnerConfig, where: str, bases: Sequence[Path] = ()) -> None:
    """Refuse a path in a config given as text (``POST /v1/admin/partners``) that is relative or missing.

    A partner file on disk resolves a relative path against its own folder (``_resolve_paths``). Text has
    no folder: it is stored as is and read by every process (API replicas, workers on other hosts) with
    its paths untouched, so a relative path would be looked up in each process's working directory, and
    the build would fail with "intent examples file intents.yaml does not exist". So such paths must be
    absolute, and exist on the server when the config is given, as a build needs them.

    A relative path is not resolved against the data dir either, even when a file is there: the stored
    text would then mean different files to processes whose data dir differs. When a relative path does
    exist under one of ``bases`` (the partner's folder in the data dir, the data dir), the message names
    the absolute path to write instead.

    Raises:
        ConfigError: ``{where}: {field}: ...``, saying what to write instead.
    """
    for field, path in config_paths(config):
        if not path.is_absolute():
            found = next(((base / path).resolve() for base in bases if (base / path).exists()), None)
            fix = f"write {str(found)!r}" if found is not None else "give the absolute path on the server"
            raise ConfigError(
                f"{where}: {field}: {str(path)!r} is a relative path, and a config sent as text has no "
                f"folder to resolve it against: {fix}"
            )
        if not path.exists():
            raise ConfigError(
                f"{where}: {field}: {str(path)!r} does not exist on the server: copy the file there first, "
                "or fix the path"
            )


def _resolve_paths(config: PartnerConfig, base: Path) -> PartnerConfig:
    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else (base / p).resolve()

    intent = config.intent
    if isinstance(intent, EmbeddingIntentConfig) and intent.examples is not None:
        intent = intent.model_copy(update={"examples": resolve(intent.examples)})
    kb = config.knowledge_base.model_copy(
        update={"sources": [resolve(s) for s in config.knowledge_base.sources]}
    )
    generation = config.generation
    if isinstance(generation, TransformersGeneratorConfig | VLLMGeneratorConfig):
        generation = generation.model_copy(update={"model": relative_to_file(generation.model, base)})
    return config.model_copy(update={"intent": intent, "knowledge_base": kb, "generation": generation})
