"""What a generator takes and returns."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class SamplingParams:
    max_new_tokens: int = 256
    temperature: float = 0.0  # 0 means greedy
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    # A reply ends where its last this-many characters repeat an earlier part of it (a loop); None: never.
    repeat_cutoff_chars: int | None = None


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: Literal["stop", "length"]


@dataclass(frozen=True)
class Citation:
    """A ``[number]`` marker in a reply, resolved to the passage the prompt gave that number."""

    number: int
    doc_id: str
    title: str
    url: str
    source: str


class Generator(Protocol):
    """Writes a reply to a chat; every backend streams, and ``generate`` is the joined stream."""

    def warm_up(self) -> None: ...

    def generate(
        self, messages: Sequence[ChatMessage], params: SamplingParams | None = None
    ) -> Completion: ...

    def stream(
        self, messages: Sequence[ChatMessage], params: SamplingParams | None = None
    ) -> Iterator[str]: ...
