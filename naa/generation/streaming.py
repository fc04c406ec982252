"""What every backend shares: stop strings cut on the text stream, and ``generate`` as the joined stream.

Each backend only produces raw text pieces and fills a ``StreamUsage``; the stop-string cut and the
``Completion`` are made here, once, so ``stream`` and ``generate`` cannot drift apart.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from naa.generation.base import Completion


@dataclass
class StreamUsage:
    """Token counts and end reason, filled in by a backend while its stream runs."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: Literal["stop", "length"] = "stop"


def cut_at_stop(pieces: Iterator[str], stop: Sequence[str], usage: StreamUsage) -> Iterator[str]:
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


def collect(pieces: Iterator[str], usage: StreamUsage) -> Completion:
    """Run a stream to its end and package it as one reply."""
    text = "".join(pieces)
    return Completion(
        text=text,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        finish_reason=usage.finish_reason,
    )


def _longest_stop_prefix_suffix(text: str, stop: Sequence[str]) -> int:
    """Length of the longest end of ``text`` that is the start of some stop string."""
    best = 0
    for s in stop:
        for k in range(min(len(s) - 1, len(text)), best, -1):
            if text.endswith(s[:k]):
                best = k
                break
    return best
