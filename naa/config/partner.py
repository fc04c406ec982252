"""Per-partner configuration: one YAML file per partner company.

Every model forbids unknown keys, so a typo in a partner file fails at load time with its field path.
Relative paths in the file are resolved against the file's folder.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from naa.config.plugins import PluginComponentConfig, PluginRef
from naa.config.validation import describe
from naa.errors import ConfigError
from naa.generation.base import SamplingParams
from naa.generation.config import (
    OpenAIGeneratorConfig,
    TransformersGeneratorConfig,
    VLLMGeneratorConfig,
)
from naa.intent.config import EmbeddingIntentConfig
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
        """The intent settings, for work only the built-in classifier does (training from examples)."""
        if isinstance(self.intent, PluginComponentConfig):
            raise ConfigError(
                f"partner {self.id!r} classifies intents with the plugin {self.intent.name!r}; "
                "train it with that plugin's own tools"
            )
        return self.intent

    def builtin_retrieval(self) -> FaissRetrieverConfig:
        """The retrieval settings, for work only the built-in FAISS knowledge base does (ingesting)."""
        if isinstance(self.retrieval, PluginComponentConfig):
            raise ConfigError(
                f"partner {self.id!r} retrieves with the plugin {self.retrieval.name!r}; "
                "index documents with that plugin's own tools"
            )
        return self.retrieval


def load_partner_config(path: Path) -> PartnerConfig:
    """Read and validate one partner YAML file; relative paths become relative to its folder."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read partner config {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"partner config {path} is not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"partner config {path} must be a mapping of settings")
    try:
        config = PartnerConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"partner config {path}: {describe(err)}") from err
    return _resolve_paths(config, path.parent)


def _resolve_paths(config: PartnerConfig, base: Path) -> PartnerConfig:
    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else (base / p).resolve()

    intent = config.intent
    if isinstance(intent, EmbeddingIntentConfig) and intent.examples is not None:
        intent = intent.model_copy(update={"examples": resolve(intent.examples)})
    kb = config.knowledge_base.model_copy(
        update={"sources": [resolve(s) for s in config.knowledge_base.sources]}
    )
    return config.model_copy(update={"intent": intent, "knowledge_base": kb})
