"""The chain on a real small partner: trained intent model, FAISS index, tiny random-weight LM."""

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from plugin_dists import install_dist

from naa.assistant import Assistant, DoneEvent, IntentEvent, PassagesEvent, TokenEvent
from naa.config.partner import PartnerConfig, load_partner_config
from naa.config.plugins import PluginComponentConfig, PluginRef
from naa.errors import ConfigError, InputError, NotFoundError
from naa.generation.base import ChatMessage, Completion, Generator, SamplingParams
from naa.generation.streaming import StreamUsage
from naa.workspace import Workspace


def _assistant(built_partner: tuple[Path, Path], **changes: object) -> Assistant:
    config_path, data_dir = built_partner
    config = load_partner_config(config_path)
    for field, update in changes.items():
        section = getattr(config, field)
        config = config.model_copy(update={field: section.model_copy(update=update)})
    assistant = Assistant.from_workspace(config, Workspace(data_dir))
    assistant.warm_up()
    return assistant


@pytest.fixture(scope="module")
def assistant(built_partner: tuple[Path, Path]) -> Assistant:
    return _assistant(built_partner)


def _ask(text: str) -> list[ChatMessage]:
    return [ChatMessage("user", text)]


def test_question_is_answered_from_retrieved_passages_with_citations(assistant: Assistant) -> None:
    reply = assistant.respond(_ask("how much does shipping cost?"))

    assert reply.action == "answer"
    assert reply.intent.label == "shipping_cost"
    assert reply.passages[0].doc_id == "shipping.md"
    assert reply.reply
    assert {c.doc_id for c in reply.citations} <= {p.doc_id for p in reply.passages}
    assert reply.citations[0].url == "https://help.example/shipping"
    assert not reply.handoff
    assert set(reply.timings_ms) == {"intent", "retrieval", "generation", "total"}
    assert reply.usage is not None and reply.usage.prompt_tokens > 50  # the passages are in the prompt
    assert 1 <= reply.usage.completion_tokens <= 12  # the partner's max_new_tokens


def test_stream_yields_stages_in_order_and_tokens_join_to_the_reply(assistant: Assistant) -> None:
    events = list(assistant.respond_stream(_ask("what is your return policy")))

    assert isinstance(events[0], IntentEvent)
    assert isinstance(events[1], PassagesEvent)
    assert isinstance(events[-1], DoneEvent)
    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    assert len(tokens) >= 2
    assert "".join(tokens).strip() == events[-1].reply.reply


def test_smalltalk_gets_its_fixed_reply_without_retrieval(assistant: Assistant) -> None:
    reply = assistant.respond(_ask("hello"))

    assert (reply.action, reply.reply, reply.passages) == ("smalltalk", "Hello! How can I help?", [])
    assert "retrieval" not in reply.timings_ms
    assert reply.usage == StreamUsage(0, 0, "stop")  # no model wrote it


def test_always_handoff_intent_goes_to_a_human(assistant: Assistant) -> None:
    reply = assistant.respond(_ask("I want to file a complaint, your service is terrible"))

    assert reply.action == "handoff"
    assert reply.handoff
    assert reply.reply == PartnerConfig(id="x", name="x").prompts.handoff


def test_nothing_relevant_retrieved_means_no_answer_instead_of_invention(
    built_partner: tuple[Path, Path],
) -> None:
    assistant = _assistant(built_partner, retrieval={"min_score": 0.99})

    reply = assistant.respond(_ask("how much is shipping"))

    assert reply.action == "no_answer"
    assert reply.passages == [] and reply.citations == []
    assert "human agent" in reply.reply


@pytest.mark.parametrize("fallback", ["clarify", "handoff"])
def test_low_confidence_intent_falls_back(built_partner: tuple[Path, Path], fallback: str) -> None:
    assistant = _assistant(built_partner, intent={"threshold": 1.0}, handoff={"fallback": fallback})

    reply = assistant.respond(_ask("how much is shipping"))

    assert reply.intent.out_of_scope
    assert reply.action == fallback
    assert reply.handoff == (fallback == "handoff")


@pytest.mark.parametrize(
    ("conversation", "message"),
    [
        ([], "must end with a customer"),
        ([ChatMessage("user", "   ")], "empty"),
        ([ChatMessage("user", "hi"), ChatMessage("assistant", "hello")], "must end with a customer"),
        ([ChatMessage("user", "x" * 5000)], "5000 characters"),
    ],
)
def test_bad_conversations_are_refused_with_a_clear_message(
    assistant: Assistant, conversation: list[ChatMessage], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        assistant.respond(conversation)


def test_suggest_returns_up_to_three_distinct_grounded_replies(assistant: Assistant) -> None:
    conversation = [
        ChatMessage("user", "hi, I have a question"),
        ChatMessage("assistant", "Sure, what is it?"),
        ChatMessage("user", "how many days do I have to return an item?"),
    ]

    suggestions = assistant.suggest(conversation, n=3)

    assert 1 <= len(suggestions) <= 3
    assert len({s.reply for s in suggestions}) == len(suggestions)
    assert all(s.intent.label == "return_item" and s.passages for s in suggestions)


class _Recording:
    """The partner's real generator, with the messages of every call kept: what the model was shown."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.calls: list[list[ChatMessage]] = []

    def warm_up(self) -> None:
        self.generator.warm_up()

    def generate(self, messages: Sequence[ChatMessage], params: SamplingParams | None = None) -> Completion:
        self.calls.append(list(messages))
        return self.generator.generate(messages, params)

    def stream(self, messages: Sequence[ChatMessage], params: SamplingParams | None = None) -> Iterator[str]:
        self.calls.append(list(messages))
        return self.generator.stream(messages, params)


def _recorded(assistant: Assistant, built_partner: tuple[Path, Path]) -> tuple[Assistant, _Recording]:
    recorder = _Recording(assistant.generator)
    config_path, data_dir = built_partner
    return Assistant.from_workspace(load_partner_config(config_path), Workspace(data_dir), recorder), recorder


def test_a_history_longer_than_the_context_keeps_its_recent_turns_and_is_answered(
    assistant: Assistant, built_partner: tuple[Path, Path]
) -> None:
    """The tiny model holds 2,048 positions; four earlier turns of about 1,000 tokens each do not fit."""
    long_chat, recorder = _recorded(assistant, built_partner)
    history = [
        ChatMessage(role, f"turn {i}: " + "refund " * 1000)
        for i, role in enumerate(["user", "assistant"] * 2)
    ]
    reply = long_chat.respond([*history, ChatMessage("user", "how much does shipping cost?")])
    assert reply.action == "answer" and reply.reply
    assert reply.usage is not None and reply.usage.prompt_tokens < 2048
    shown = [m.content[:7] for m in recorder.calls[-1][1:-1]]  # the history the model got
    assert shown and shown == [f"turn {i}:" for i in range(4 - len(shown), 4)]  # the most recent turns


def test_card_numbers_in_earlier_turns_never_reach_the_model(
    assistant: Assistant, built_partner: tuple[Path, Path]
) -> None:
    suggesting, recorder = _recorded(assistant, built_partner)
    conversation = [
        ChatMessage("user", "my card is 4111 1111 1111 1111"),
        ChatMessage("assistant", "Thanks."),
        ChatMessage("user", "how much does shipping cost?"),
    ]
    suggesting.suggest(conversation, n=2)
    assert recorder.calls and all("4111" not in m.content for call in recorder.calls for m in call)


PLUGIN_MODULE = '''
from naa.config.plugins import Plugin
from naa.generation.base import Completion


class ExtractiveGenerator:
    """Answers with the first passage of the prompt's context, word by word."""

    def warm_up(self):
        pass

    def stream(self, messages, params=None):
        context = messages[-1].content.split("[1]", 1)[1]
        yield from (word + " " for word in context.split()[:8])

    def generate(self, messages, params=None):
        text = "".join(self.stream(messages, params))
        return Completion(text, prompt_tokens=0, completion_tokens=len(text.split()), finish_reason="stop")


plugin = Plugin(name="acme", components={"generator": {"extractive": ExtractiveGenerator}})
'''


@pytest.fixture
def plugins_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test plugin and the example plugin package, installed as pip would (a dist-info on sys.path)."""
    from naa.config.plugins import load_plugins

    (tmp_path / "acme_plugin.py").write_text(PLUGIN_MODULE, encoding="utf-8")
    install_dist(
        tmp_path, "acme_plugin", {"acme": "acme_plugin:plugin", "order-lookup": "naa_order_lookup:plugin"}
    )
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "examples" / "plugin-order-lookup" / "src"))
    monkeypatch.syspath_prepend(str(tmp_path))
    load_plugins.cache_clear()
    yield
    load_plugins.cache_clear()


def test_plugin_generator_and_postprocessor_come_from_the_partner_file(
    built_partner: tuple[Path, Path], plugins_installed: None
) -> None:
    config_path, data_dir = built_partner
    config = load_partner_config(config_path).model_copy(
        update={
            "generation": PluginComponentConfig(name="extractive"),
            "postprocessors": [PluginRef(name="signature", options={"signature": "-- Acme support"})],
        }
    )
    assistant = Assistant.from_workspace(config, Workspace(data_dir))

    events = list(assistant.respond_stream(_ask("how much does shipping cost?")))

    reply = events[-1].reply
    assert isinstance(events[-1], DoneEvent)
    assert reply.reply.startswith("Shipping rates")
    assert reply.reply.endswith("-- Acme support")
    streamed = "".join(e.text for e in events if isinstance(e, TokenEvent))
    assert streamed.split() == reply.reply.split()  # the signature is streamed too
    assert reply.usage is None  # a plain iterator reports no token counts


def test_guardrails_mask_card_numbers_and_hand_off_on_configured_phrases(
    built_partner: tuple[Path, Path],
) -> None:
    assistant = _assistant(built_partner, guardrails={"handoff_phrases": ["chargeback"]})

    masked = assistant.respond(_ask("refund to card 4111111111111111 please, how much is shipping"))
    forced = assistant.respond(_ask("How much is shipping? Otherwise I file a CHARGEBACK"))

    assert masked.customer_message == "refund to card [card number removed] please, how much is shipping"
    assert "4111111111111111" not in masked.reply
    assert (forced.action, forced.handoff, forced.passages) == ("handoff", True, [])


def test_enabled_plugin_tools_run_by_name_and_others_are_not_found(
    built_partner: tuple[Path, Path], plugins_installed: None
) -> None:
    config_path, data_dir = built_partner
    config = load_partner_config(config_path).model_copy(update={"tools": [PluginRef(name="order_lookup")]})
    assistant = Assistant.from_workspace(config, Workspace(data_dir))

    found = assistant.run_tool("order_lookup", {"order_id": "A1002"})

    assert (found.ok, found.data["status"]) == (True, "processing")
    assert not assistant.run_tool("order_lookup", {"order_id": "nope"}).ok
    with pytest.raises(NotFoundError, match="enabled: order_lookup"):
        assistant.run_tool("refund", {})


@pytest.fixture
def broken_plugin_installed(tmp_path: Path, plugins_installed: None) -> None:
    """Beside the working plugins, an installed package whose entry point raises when imported."""
    (tmp_path / "broken_plugin.py").write_text('raise RuntimeError("boom at import")\n', encoding="utf-8")
    install_dist(tmp_path, "broken_plugin", {"broken": "broken_plugin:plugin"})


def test_a_broken_plugin_package_fails_only_the_partners_that_would_use_it(
    built_partner: tuple[Path, Path], broken_plugin_installed: None
) -> None:
    """Every partner failed with the broken package's import error, even one naming no plugin."""
    config_path, data_dir = built_partner
    config = load_partner_config(config_path)

    plain = Assistant.from_workspace(config, Workspace(data_dir))
    signed = Assistant.from_workspace(
        config.model_copy(update={"postprocessors": [PluginRef(name="signature")]}), Workspace(data_dir)
    )

    assert plain.respond(_ask("how much does shipping cost?")).action == "answer"
    assert len(signed.postprocessors) == 1
    footer = config.model_copy(update={"postprocessors": [PluginRef(name="footer")]})
    with pytest.raises(
        ConfigError, match=r"no postprocessor plugin named 'footer'.*'broken'.*failed to load: boom at import"
    ):
        Assistant.from_workspace(footer, Workspace(data_dir))
