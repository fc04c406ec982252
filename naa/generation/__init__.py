"""Reply generation: one ``Generator`` protocol, three backends, and the grounded prompt with citations."""

from naa.generation.base import ChatMessage, Citation, Completion, Generator, SamplingParams
from naa.generation.factory import build_generator
from naa.generation.prompts import (
    build_messages,
    extract_citations,
    stream_without_unknown_markers,
    without_unknown_markers,
)

__all__ = [
    "ChatMessage",
    "Citation",
    "Completion",
    "Generator",
    "SamplingParams",
    "build_generator",
    "build_messages",
    "extract_citations",
    "stream_without_unknown_markers",
    "without_unknown_markers",
]
