"""The chain: intent -> retrieval -> generation, or a fallback, for one conversation turn.

This is the only module that knows the order of the components. Card numbers are masked in the customer's
message before any model sees it (``guardrails``). Each turn is then decided in this order:

0. the message contains one of the partner's ``guardrails.handoff_phrases``       -> ``handoff``
1. the intent is one the partner always hands off (``handoff.always``)  -> ``handoff``
2. the intent is out of scope (low confidence)                            -> ``clarify`` or ``handoff``
3. the intent is small talk (``handoff.smalltalk``)                       -> its fixed reply, no retrieval
4. retrieval finds no passage above the retriever's ``min_score``         -> ``no_answer`` (offers a human)
5. otherwise the generator writes a reply grounded in the passages        -> ``answer`` with citations
"""

import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

from naa.config.partner import PartnerConfig
from naa.config.plugins import (
    PluginComponentConfig,
    PluginRegistry,
    PostProcessor,
    Tool,
    ToolResult,
    ToolValue,
    apply_postprocessors,
    load_plugins,
)
from naa.errors import ConflictError, InputError, NotFoundError, PromptTooLongError
from naa.generation import (
    Citation,
    build_generator,
    build_messages,
    extract_citations,
    stream_without_unknown_markers,
    without_unknown_markers,
)
from naa.generation.base import ChatMessage, Generator, SamplingParams
from naa.generation.streaming import ReplyStream, StreamUsage
from naa.intent import load_intent_classifier
from naa.intent.base import IntentClassifier, IntentPrediction
from naa.retrieval import KnowledgeBase
from naa.retrieval.base import Passage, Retriever
from naa.safety.guardrails import handoff_phrase, mask_cards, screen_message
from naa.workspace import Workspace

Action = Literal["answer", "smalltalk", "clarify", "handoff", "no_answer"]

MAX_MESSAGE_CHARS = 4000
_T = TypeVar("_T")


@dataclass(frozen=True)
class AssistantReply:
    customer_message: str  # as the models saw it (card numbers masked): what may be stored
    intent: IntentPrediction
    passages: list[Passage]
    reply: str
    citations: list[Citation]
    handoff: bool
    action: Action
    timings_ms: dict[str, float] = field(default_factory=dict)  # intent, retrieval, generation, total
    # The generator's token counts and end reason: zero for a fixed reply, None from a plugin generator
    # whose stream does not report them.
    usage: StreamUsage | None = None


@dataclass(frozen=True)
class IntentEvent:
    intent: IntentPrediction


@dataclass(frozen=True)
class PassagesEvent:
    passages: list[Passage]


@dataclass(frozen=True)
class TokenEvent:
    text: str


@dataclass(frozen=True)
class DoneEvent:
    reply: AssistantReply


AssistantEvent = IntentEvent | PassagesEvent | TokenEvent | DoneEvent


def build_classifier(
    config: PartnerConfig, workspace: Workspace, plugins: PluginRegistry | None = None
) -> IntentClassifier:
    """The partner's intent classifier: its plugin, or its trained model in the workspace.

    Raises:
        ConflictError: the partner has not been built (no intent model).
    """
    if isinstance(config.intent, PluginComponentConfig):
        return (plugins or load_plugins()).build_ref("intent_classifier", config.intent)
    model_dir = workspace.intent_dir(config.id)
    if not model_dir.exists():
        raise ConflictError(
            f"partner {config.id!r} is not built yet (it has no intent model): build it with "
            f"`naa build --partner FILE`, or POST /v1/admin/partners/{config.id}/build"
        )
    return load_intent_classifier(config.intent, model_dir)


def build_retriever(
    config: PartnerConfig, workspace: Workspace, plugins: PluginRegistry | None = None
) -> Retriever:
    """The partner's retriever: its plugin, or its built knowledge base in the workspace."""
    if isinstance(config.retrieval, PluginComponentConfig):
        return (plugins or load_plugins()).build_ref("retriever", config.retrieval)
    kb_dir = workspace.kb_dir(config.id, config.knowledge_base.name)
    return KnowledgeBase(kb_dir, config.retrieval, workspace.models_dir)


class Assistant:
    """Answers customer turns for one partner.

    Usage::

        assistant = Assistant.from_workspace(load_partner_config(path), Workspace(Path(".naa")))
        reply = assistant.respond([ChatMessage("user", "How long do refunds take?")])
        print(reply.reply, reply.citations)
    """

    def __init__(
        self,
        config: PartnerConfig,
        classifier: IntentClassifier,
        retriever: Retriever,
        generator: Generator,
        max_message_chars: int = MAX_MESSAGE_CHARS,
        postprocessors: Sequence[PostProcessor] = (),
        tools: Sequence[Tool] = (),
    ) -> None:
        self.config = config
        self.classifier = classifier
        self.retriever = retriever
        self.generator = generator
        self.max_message_chars = max_message_chars
        self.postprocessors = list(postprocessors)
        self.tools = {tool.name: tool for tool in tools}

    @classmethod
    def from_workspace(
        cls,
        config: PartnerConfig,
        workspace: Workspace,
        generator: Generator | None = None,
        max_message_chars: int = MAX_MESSAGE_CHARS,
    ) -> "Assistant":
        """Wire the partner's built artifacts and plugins; ``generator`` lets partners share one model.

        Raises:
            ConflictError: the partner has not been built (no intent model).
        """
        plugins = load_plugins()
        return cls(
            config,
            build_classifier(config, workspace, plugins),
            build_retriever(config, workspace, plugins),
            generator or make_generator(config, workspace),
            max_message_chars,
            [plugins.build_ref("postprocessor", ref) for ref in config.postprocessors],
            [plugins.build_ref("tool", ref) for ref in config.tools],
        )

    def warm_up(self) -> None:
        self.classifier.warm_up()
        self.retriever.warm_up()
        self.generator.warm_up()

    def respond(self, conversation: Sequence[ChatMessage]) -> AssistantReply:
        """Answer the last customer message; the streamed events joined."""
        for event in self.respond_stream(conversation):
            if isinstance(event, DoneEvent):
                return event.reply
        raise AssertionError("respond_stream ended without a DoneEvent")

    def respond_stream(
        self, conversation: Sequence[ChatMessage], params: SamplingParams | None = None
    ) -> Iterator[AssistantEvent]:
        """Answer the last customer message, yielding each stage's result as soon as it is known."""
        conversation = self._screened(conversation)
        query = conversation[-1].content
        started = time.perf_counter()
        timings: dict[str, float] = {}

        intent = self.classifier.predict([query])[0]
        timings["intent"] = _ms_since(started)
        yield IntentEvent(intent)

        passages: list[Passage] = []
        action = self._action_before_retrieval(query, intent)
        if action is None:
            retrieval_started = time.perf_counter()
            passages = self.retriever.search([query])[0]
            timings["retrieval"] = _ms_since(retrieval_started)
            yield PassagesEvent(passages)
            action = "answer" if passages else "no_answer"

        generation_started = time.perf_counter()
        if action == "answer":
            pieces: list[str] = []
            first, stream = self._fitting(
                passages, conversation, lambda messages: _started(self.generator.stream(messages, params))
            )
            for piece in stream_without_unknown_markers(itertools.chain(first, stream), passages):
                pieces.append(piece)
                yield TokenEvent(piece)
            usage = stream.usage if isinstance(stream, ReplyStream) else None
            text = "".join(pieces).strip()
            citations = _citations(text, passages)
        else:
            text = self._fixed_reply(action, intent)
            citations = []
            usage = StreamUsage()
            yield TokenEvent(text)
        final = self._finish(text, intent, action)
        if final != text and final.startswith(text):
            yield TokenEvent(final[len(text) :])  # streamed clients see what a post-processor appended
        text = final
        timings["generation"] = _ms_since(generation_started)
        timings["total"] = _ms_since(started)
        yield DoneEvent(
            AssistantReply(
                customer_message=query,
                intent=intent,
                passages=passages,
                reply=text,
                citations=citations,
                handoff=action == "handoff",
                action=action,
                timings_ms=timings,
                usage=usage,
            )
        )

    def suggest(self, conversation: Sequence[ChatMessage], n: int = 3) -> list[AssistantReply]:
        """Agent assist: up to ``n`` distinct candidate replies for a human agent to pick or edit.

        The first candidate is the assistant's own (greedy) reply; the others are sampled, so they differ in
        wording; exact repeats are dropped. Turns that end in a fixed reply (handoff, small talk) get one.
        """
        conversation = self._screened(conversation)
        first = self.respond(conversation)
        suggestions = [first]
        if first.action != "answer":
            return suggestions
        sampled = replace(self.config.sampling_defaults(), temperature=0.8, top_p=0.95)
        for _ in range(n - 1):
            completion = self._fitting(
                first.passages, conversation, lambda messages: self.generator.generate(messages, sampled)
            )
            text = self._finish(
                without_unknown_markers(completion.text.strip(), first.passages), first.intent, "answer"
            )
            if text and all(text != s.reply for s in suggestions):
                usage = StreamUsage(
                    completion.prompt_tokens, completion.completion_tokens, completion.finish_reason
                )
                citations = _citations(text, first.passages)
                suggestions.append(replace(first, reply=text, citations=citations, usage=usage))
        return suggestions

    def run_tool(self, name: str, arguments: Mapping[str, ToolValue]) -> ToolResult:
        """Run one of the partner's enabled tools (an agent's action, e.g. looking up an order)."""
        if name not in self.tools:
            enabled = ", ".join(sorted(self.tools)) or "none"
            raise NotFoundError(f"no tool {name!r} is enabled for this partner (enabled: {enabled})")
        return self.tools[name].run(arguments)

    def _finish(self, text: str, intent: IntentPrediction, action: Action) -> str:
        """The reply as the customer gets it: the partner's post-processors, then card-number masking."""
        text = apply_postprocessors(self.postprocessors, text, intent=intent.label, action=action)
        return mask_cards(text, self.config.guardrails)

    def _screened(self, conversation: Sequence[ChatMessage]) -> list[ChatMessage]:
        """The conversation as a model may see it: the customer's last message checked (empty, too long),
        and card numbers masked in every turn, the earlier turns a client sends too (OpenAI ``messages``,
        agent-assist turns)."""
        if not conversation or conversation[-1].role != "user":
            raise InputError("the conversation must end with a customer (user) message")
        query = screen_message(conversation[-1].content, self.config.guardrails, self.max_message_chars)
        return [
            *(ChatMessage(m.role, mask_cards(m.content, self.config.guardrails)) for m in conversation[:-1]),
            ChatMessage("user", query),
        ]

    def _fitting(
        self,
        passages: Sequence[Passage],
        conversation: Sequence[ChatMessage],
        start: Callable[[list[ChatMessage]], _T],
    ) -> _T:
        """``start`` on the prompt with as much recent history as the model's context holds.

        While the generator says the prompt is too long, older turns are dropped (half at a time): a stored
        conversation that has outgrown the context would otherwise be refused at every later turn, and the
        customer cannot shorten it. Without any history left, the error stands.
        """
        kept = len(conversation) - 1
        while True:
            recent = conversation[len(conversation) - 1 - kept :]
            try:
                return start(build_messages(self._system_prompt(), passages, recent))
            except PromptTooLongError:
                if kept == 0:
                    raise
                kept //= 2

    def _action_before_retrieval(self, query: str, intent: IntentPrediction) -> Action | None:
        handoff = self.config.handoff
        if handoff_phrase(query, self.config.guardrails.handoff_phrases) or intent.label in handoff.always:
            return "handoff"
        if intent.out_of_scope:
            return handoff.fallback
        if intent.label in handoff.smalltalk:
            return "smalltalk"
        return None

    def _fixed_reply(self, action: Action, intent: IntentPrediction) -> str:
        prompts = self.config.prompts
        replies = {
            "handoff": prompts.handoff,
            "clarify": prompts.clarify,
            "no_answer": prompts.no_answer,
            "smalltalk": self.config.handoff.smalltalk.get(intent.label, ""),
        }
        return replies[action]

    def _system_prompt(self) -> str:
        return self.config.prompts.system.replace("{company}", self.config.name)


def make_generator(config: PartnerConfig, workspace: Workspace) -> Generator:
    """The partner's generator: a plugin's, or a built-in backend's."""
    if isinstance(config.generation, PluginComponentConfig):
        return load_plugins().build_ref("generator", config.generation)
    return build_generator(config.generation, workspace.models_dir)


def _citations(text: str, passages: list[Passage]) -> list[Citation]:
    """The passages the reply cites; when a small model cites none, every document it was given (once).

    The reply was generated from exactly those passages, so listing them keeps the answer traceable to its
    sources even when the model leaves out the [n] markers (SmolLM2-135M often does).
    """
    cited = extract_citations(text, passages)
    if cited:
        return cited
    citations: list[Citation] = []
    for n, p in enumerate(passages, start=1):
        if all(c.doc_id != p.doc_id for c in citations):  # a document's first passage stands for it
            citations.append(Citation(number=n, doc_id=p.doc_id, title=p.title, url=p.url, source=p.source))
    return citations


def _started(stream: Iterator[str]) -> tuple[list[str], Iterator[str]]:
    """The stream with its first piece read: backends check that the prompt fits when a stream starts."""
    return list(itertools.islice(stream, 1)), stream


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
