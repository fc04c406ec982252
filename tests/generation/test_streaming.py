"""Stop strings cut on a text stream, whatever the piece boundaries."""

from collections.abc import Iterator

import pytest

from naa.generation.streaming import StreamUsage, cut_at_stop


def _pieces(*parts: str) -> Iterator[str]:
    yield from parts


@pytest.mark.parametrize(
    ("parts", "stop", "expected"),
    [
        (("Hello", " world", "\nUser: hi"), ("\nUser:",), "Hello world"),
        (("Hel", "lo\nUs", "er: hi"), ("\nUser:",), "Hello"),  # the stop string straddles three pieces
        (("a\nU", "nrelated"), ("\nUser:",), "a\nUnrelated"),  # a held-back prefix that turns out harmless
        (("abc", "def"), ("zz", "cd"), "ab"),  # the earliest of several stop strings wins
        (("abc",), (), "abc"),
        (("END now",), ("END",), ""),
    ],
)
def test_text_stops_before_the_first_stop_string(
    parts: tuple[str, ...], stop: tuple[str, ...], expected: str
) -> None:
    usage = StreamUsage(finish_reason="length")
    assert "".join(cut_at_stop(_pieces(*parts), stop, usage)) == expected


def test_finish_reason_is_stop_only_when_a_stop_string_was_hit() -> None:
    hit, missed = StreamUsage(finish_reason="length"), StreamUsage(finish_reason="length")
    list(cut_at_stop(_pieces("a", "b"), ("b",), hit))
    list(cut_at_stop(_pieces("a", "b"), ("c",), missed))
    assert (hit.finish_reason, missed.finish_reason) == ("stop", "length")


def test_hitting_a_stop_string_closes_the_source() -> None:
    closed: list[bool] = []

    def source() -> Iterator[str]:
        try:
            yield from ("one ", "STOP", " never")
        finally:
            closed.append(True)

    usage = StreamUsage()
    assert list(cut_at_stop(source(), ("STOP",), usage)) == ["one "]
    assert closed == [True]
