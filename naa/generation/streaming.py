"""What every backend shares: stop strings and loops cut on the text stream, and ``generate`` as the joined
stream.

Each backend only produces raw text pieces (a ``PieceSource``) and fills a ``StreamUsage``; the cuts and
the ``Completion`` are made here, once, so ``stream`` and ``generate`` cannot drift apart.
"""

import re
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
    """``Generator.stream`` for any backend: its pieces, cut at the first stop string or loop."""
    usage = StreamUsage()
    return ReplyStream(_cut(source(messages, params, usage), params, usage), usage)


def complete_reply(
    source: PieceSource, messages: Sequence[ChatMessage], params: SamplingParams
) -> Completion:
    """``Generator.generate`` for any backend: the same stream as ``stream_reply``, joined."""
    usage = StreamUsage()
    text = "".join(_cut(source(messages, params, usage), params, usage))
    return Completion(
        text=text,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        finish_reason=usage.finish_reason,
    )


def _cut(pieces: Iterator[str], params: SamplingParams, usage: StreamUsage) -> Generator[str, None, None]:
    cut = cut_at_stop(pieces, params.stop, usage)
    return (
        cut if params.repeat_cutoff_chars is None else cut_at_repeat(cut, params.repeat_cutoff_chars, usage)
    )


def cut_at_repeat(
    pieces: Generator[str, None, None], min_chars: int, usage: StreamUsage
) -> Generator[str, None, None]:
    """Yield the text until its last ``min_chars`` characters repeat an earlier part of it, then close
    ``pieces``.

    Why: a small model's greedy reply can loop, one sentence again and again until the token limit
    (README, Generation). Only the longest end of the text that also occurs earlier in it is held back, so
    a reply that does not repeat itself streams as it comes (a few characters late at most), and none of
    a loop's repeat is sent.
    """
    text = ""
    sent = 0
    looped = False
    try:
        for piece in pieces:
            text += piece
            seen = _as_compared(text[-_LOOKBACK_CHARS:])
            repeated = _repeated_end(seen, min_chars)
            if repeated >= min_chars:
                looped = True
                cut = max(sent, len(text) - _repeated_end(seen, len(seen)))
                last = text[sent:cut] + _sentence_end(text, cut)
                if last:
                    yield last
                return
            end = max(sent, len(text) - repeated)
            if end > sent:
                yield text[sent:end]
                sent = end
        if len(text) > sent:
            yield text[sent:]
    finally:
        pieces.close()
        if looped:  # after closing, as in cut_at_stop
            usage.finish_reason = "stop"


def _sentence_end(text: str, cut: int) -> str:
    """What finishes the sentence that a loop's repeat begins inside of, from ``cut`` on ("" at a sentence's
    start): stretched back as far as it matches, a repeat can begin mid-sentence, even mid-word ("item|s."
    repeating "day|s."). Without a sentence end in sight, the word is finished."""
    before = text[:cut].rstrip(" \t")
    if not before or before[-1] in ".!?\n":
        return ""
    end = re.search(r"[.!?](?=\s)|\n", text[cut:]) or re.search(r"\w*", text[cut:])
    return text[cut : cut + end.end()] if end else ""


# A loop repeats what came shortly before; looking further back would make each piece of a long reply cost
# a scan of all of it (measured: 0.6 ms a piece at 30,000 characters, against 0.05 ms at 2,000).
_LOOKBACK_CHARS = 2000
# What counts up from one round of a loop to the next: list numbers at a line's start ("1. Click…",
# "2. Click…") and citation markers ("[3] No…", "[4] No…"), also while only their digits have come.
_COUNTERS = re.compile(r"(?m)^[ \t]*\d+(?=[.)]|\Z)|(?<=\[)\d+(?=\]|\Z)")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _as_compared(text: str) -> str:
    """``text`` as loops are looked for in it: ASCII letters in lower case ("The return..." repeats "the
    return...") and the digits of list numbers and citation markers as 0; the same length, so positions
    in it are positions in ``text``."""
    return _COUNTERS.sub(lambda m: re.sub(r"\d", "0", m.group()), text.translate(_ASCII_LOWER))


def _repeated_end(text: str, longest: int) -> int:
    """Length, up to ``longest``, of the longest end of ``text`` that also occurs earlier in it.

    Grows one character at a time: an end that occurs earlier has every shorter end occurring earlier too,
    and in text that does not repeat itself the answer is a few characters (a word's start).
    """
    k = 0
    while k < min(longest, len(text) - 1) and text.find(text[-(k + 1) :]) < len(text) - (k + 1):
        k += 1
    return k


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
