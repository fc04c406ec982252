"""The grounded prompt: numbered passages beside the question, and the reply's ``[n]`` markers resolved.

The passages go into the last user turn, right before the question, rather than into the system message:
small instruct models (SmolLM2-135M) attend to what is closest to the question and tend to ignore
long system messages. Passage text is cut to a budget because the context window and CPU prefill time
are both scarce.
"""

import re
from collections.abc import Iterable, Iterator, Sequence

from naa.errors import InputError
from naa.generation.base import ChatMessage, Citation
from naa.retrieval.base import Passage

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def build_messages(
    system_prompt: str,
    passages: Sequence[Passage],
    conversation: Sequence[ChatMessage],
    *,
    max_passage_chars: int = 600,
    max_history_messages: int = 6,
) -> list[ChatMessage]:
    """Chat messages for the generator: system prompt, recent history, then passages and the question.

    Args:
        system_prompt: the partner's instructions, already filled in.
        passages: retrieved passages; the first is cited as [1].
        conversation: the turns so far, ending with the customer's (user) message.
        max_passage_chars: each passage's text is cut to about this many characters, at a word boundary.
        max_history_messages: earlier turns kept before the last user message; older ones are dropped.

    Raises:
        InputError: the conversation is empty or does not end with a user message.
    """
    turns = [m for m in conversation if m.role != "system"]
    if not turns or turns[-1].role != "user":
        raise InputError("the conversation must end with a user message to reply to")
    *history, question = turns
    history = history[-max_history_messages:] if max_history_messages else []
    if passages:
        context = "\n\n".join(
            f"[{n}] {p.title or p.doc_id}\n{_shorten(p.text, max_passage_chars)}"
            for n, p in enumerate(passages, start=1)
        )
        question = ChatMessage("user", f"Passages:\n{context}\n\nQuestion: {question.content}")
    return [ChatMessage("system", system_prompt), *history, question]


def extract_citations(reply: str, passages: Sequence[Passage]) -> list[Citation]:
    """The passages a reply cites with ``[n]`` (or ``[n, m]``), in order of first mention.

    Numbers outside 1..len(passages) are ignored (small models invent them); each number appears once.
    """
    seen: set[int] = set()
    citations: list[Citation] = []
    for match in _MARKER.finditer(reply):
        for number in (int(n) for n in match.group(1).split(",")):
            if number in seen or not 1 <= number <= len(passages):
                continue
            seen.add(number)
            p = passages[number - 1]
            citations.append(
                Citation(number=number, doc_id=p.doc_id, title=p.title, url=p.url, source=p.source)
            )
    return citations


def without_unknown_markers(reply: str, passages: Sequence[Passage]) -> str:
    """The reply without the ``[n]`` numbers that name no passage (a small model writes [3] beside two
    passages): a customer would look for a source that is not there. A marker left empty goes with one
    space beside it, the one before or else the one after."""
    pieces: list[str] = []
    end = 0
    for match in _MARKER.finditer(reply):
        pieces.append(reply[end : match.start()])
        end = match.end()
        numbers = [n.strip() for n in match.group(1).split(",")]
        known = [n for n in numbers if 1 <= int(n) <= len(passages)]
        if len(known) == len(numbers):
            pieces.append(match.group(0))
        elif known:
            pieces.append(f"[{', '.join(known)}]")
        elif pieces[-1].endswith(" "):
            pieces[-1] = pieces[-1][:-1]
        elif reply[end : end + 1] == " ":
            end += 1
    pieces.append(reply[end:])
    return "".join(pieces)


# The end of streamed text that may still change once more arrives: a space (a dropped marker may take it),
# or a marker, whole or begun, with the spaces around it (what follows decides which space goes).
_UNDECIDED_TAIL = re.compile(r"(?: ?\[[\d,\s]*(?:\] ?)?| )\Z")


def stream_without_unknown_markers(pieces: Iterable[str], passages: Sequence[Passage]) -> Iterator[str]:
    """``without_unknown_markers`` on a reply as it streams: what is yielded joins to the cleaned reply.

    Text is held back only while it may still be or be next to a marker (a few characters), so the
    client's stream and the stored reply stay the same text.
    """
    pending = ""
    for piece in pieces:
        pending += piece
        tail = _UNDECIDED_TAIL.search(pending)
        cut = tail.start() if tail else len(pending)
        ready, pending = pending[:cut], pending[cut:]
        if ready:
            yield without_unknown_markers(ready, passages)
    if pending:
        yield without_unknown_markers(pending, passages)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + " …"
