"""What every backend shares: stop strings cut on the text stream, and ``generate`` as the joined stream.

Each backend only produces raw text pieces (a ``PieceSource``) and fills a ``StreamUsage``; the stop-string
cut and the ``Completion`` are made here, once, so ``stream`` and ``generate`` cannot drift apart.
"""

from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from naa.generation.base import ChatMessage, Completion, SamplingParams


@dataclass
class StreamUsage:
    """Token counts and end reason, filled in by a backend while its stream runs."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: Literal["stop", "length"] = "stop"


PieceSource = Callable[[Sequence[ChatMessage], SamplingParams, StreamUsage], Iterator[str]]
"""A backend's raw generation: text pieces as they come, counts written to the usage as it runs."""


class ReplyStream(Iterator[str]):
    """A reply's text pieces as they come; ``usage`` is complete once they have all been read.

    The built-in backends' ``stream`` returns one, so a streamed reply can report its real token counts
    and end reason (OpenAI's ``usage`` and ``finish_reason``); a plugin's plain iterator reports none.
    """

    def __init__(self, pieces: Generator[str, None, None], usage: StreamUsage) -> None:
        self._pieces = pieces
        self.usage = usage

    def __next__(self) -> str:
        return next(self._pieces)

    def close(self) -> None:
        """Stop early: the backend cancels its generation."""
        self._pieces.close()


def stream_reply(source: PieceSource, messages: Sequence[ChatMessage], params: SamplingParams) -> ReplyStream:
    """``Generator.stream`` for any backend: its pieces, cut at the first stop string."""
    usage = StreamUsage()
    return ReplyStream(cut_at_stop(source(messages, params, usage), params.stop, usage), usage)


def complete_reply(
    source: PieceSource, messages: Sequence[ChatMessage], params: SamplingParams
) -> Completion:
    """``Generator.generate`` for any backend: the same stream as ``stream_reply``, joined."""
    usage = StreamUsage()
    text = "".join(cut_at_stop(source(messages, params, usage), params.stop, usage))
    return Completion(
        text=text,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        finish_reason=usage.finish_reason,
    )


def cut_at_stop(pieces: Iterator[str], stop: Sequence[str], usage: StreamUsage) -> Generator[str, None, None]:
    """Yield the text up to (not including) the first stop string, then close ``pieces``.

    A stop string can straddle two pieces, so the tail that could still begin one is held back until
    the next piece decides it. Closing ``pieces`` early lets the backend cancel its generation.
    """
    held = ""
    stopped = False
    try:
        for piece in pieces:
            held += piece
            hit = min((i for i in (held.find(s) for s in stop if s) if i >= 0), default=-1)
            if hit >= 0:
                if hit:
                    yield held[:hit]
                stopped = True
                return
            keep = _longest_stop_prefix_suffix(held, stop)
            if len(held) > keep:
                yield held[: len(held) - keep]
                held = held[len(held) - keep :]
        if held:
            yield held
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()
        # Set after closing: a backend finishing its own bookkeeping must not overwrite it.
        if stopped:
            usage.finish_reason = "stop"


def _longest_stop_prefix_suffix(text: str, stop: Sequence[str]) -> int:
    """Length of the longest end of ``text`` that is the start of some stop string."""
    best = 0
    for s in stop:
        for k in range(min(len(s) - 1, len(text)), best, -1):
            if text.endswith(s[:k]):
                best = k
                break
    return best
