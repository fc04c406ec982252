"""`naa chat` and `naa ask`: talk to a partner's assistant in the terminal, with streamed replies."""

from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from naa.cli.common import PartnerOption, console, load_partner, user_errors, workspace
from naa.errors import InputError
from naa.generation.base import ChatMessage

if TYPE_CHECKING:
    from naa.assistant import Assistant


def _assistant(partner: PartnerOption) -> "Assistant":
    from naa.assistant import Assistant

    config = load_partner(partner)
    assistant = Assistant.from_workspace(config, workspace())
    with console.status("loading models"):
        assistant.warm_up()
    return assistant


def _answer(assistant: "Assistant", conversation: list[ChatMessage]) -> str:
    """Stream one turn to the terminal; return the reply text."""
    from naa.assistant import DoneEvent, IntentEvent, TokenEvent

    text = ""
    for event in assistant.respond_stream(conversation):
        if isinstance(event, IntentEvent):
            label = event.intent.label
            console.print(f"intent: {label} ({event.intent.confidence:.2f})", style="dim")
        elif isinstance(event, TokenEvent):
            console.print(event.text, end="", highlight=False)
        elif isinstance(event, DoneEvent):
            reply = event.reply
            text = reply.reply
            console.print()
            if reply.usage is not None and reply.usage.finish_reason == "length":
                console.print(f"(cut at the {reply.usage.completion_tokens}-token limit)", style="yellow")
            for c in reply.citations:
                console.print(f"  [{c.number}] {c.title} ({c.doc_id}) {c.url}", style="dim")
            if reply.handoff:
                console.print("-> handed off to a human agent", style="yellow")
            stages = ", ".join(f"{k} {v:.0f} ms" for k, v in reply.timings_ms.items())
            console.print(stages, style="dim")
    return text


def ask(
    question: Annotated[str, typer.Argument(help="The customer's question.")], partner: PartnerOption = None
) -> None:
    """Ask the assistant one question and stream its cited answer."""
    with user_errors():
        if not question.strip():
            raise InputError("the question is empty")
        _answer(_assistant(partner), [ChatMessage("user", question)])


def chat(partner: PartnerOption = None) -> None:
    """Chat with the assistant in the terminal (empty line or Ctrl-D to quit)."""
    with user_errors():
        assistant = _assistant(partner)
        conversation: list[ChatMessage] = []
        console.print("Type a message; an empty line ends the chat.", style="bold")
        while True:
            try:
                message = console.input(Text("you> ", style="bold cyan")).strip()
            except EOFError:
                break
            if not message:
                break
            conversation.append(ChatMessage("user", message))
            console.print(Text("assistant> ", style="bold green"), end="")
            conversation.append(ChatMessage("assistant", _answer(assistant, conversation)))
