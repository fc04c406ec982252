"""Stop strings and loops cut on a text stream, whatever the piece boundaries."""

from collections.abc import Iterator, Sequence

import pytest

from naa.generation.base import ChatMessage, SamplingParams
from naa.generation.streaming import StreamUsage, complete_reply, cut_at_repeat, cut_at_stop, stream_reply


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


# A 135M model's greedy reply, seen in the console: one sentence again and again until the token limit.
# The repeat matches back into "item|s." (after "day|s."): the cut finishes that word.
LOOP = "You can return it within 30 days. " + "The return label fee is $4.99 for large items. " * 4
FIRST = "You can return it within 30 days. The return label fee is $4.99 for large items."


def _generated(text: str, size: int) -> Iterator[str]:
    yield from (text[i : i + size] for i in range(0, len(text), size))


# Loops through counters, seen in agent assist and in the console: citation markers and list numbers.
MARKED = "".join(f"[{n}] No, you cannot return the tent. It is not sold in stores.\n\n" for n in range(3, 9))
MARKED_FIRST = "[3] No, you cannot return the tent. It is not sold in stores.\n\n"
# The store-pickup reply: the loop's sentence first came after "and the", then repeats as "The".
CASED = (
    "Pickup is free, and the return label fee is $49.00 for large items. "
    + "The return label fee is $49.00 for large items. " * 4
)
CASED_FIRST = "Pickup is free, and the return label fee is $49.00 for large items."
LISTED = "".join(f"{n}. **Click on the link to view account details**.\n" for n in range(1, 16))
LISTED_FIRST = "1. **Click on the link to view account details**.\n"


@pytest.mark.parametrize("size", [1, 3, 7, 50])
@pytest.mark.parametrize(
    ("loop", "first"), [(LOOP, FIRST), (MARKED, MARKED_FIRST), (LISTED, LISTED_FIRST), (CASED, CASED_FIRST)]
)
def test_a_loop_is_cut_where_it_starts_and_none_of_the_repeat_is_sent(
    size: int, loop: str, first: str
) -> None:
    usage = StreamUsage(finish_reason="length")
    sent = list(cut_at_repeat(cut_at_stop(_generated(loop, size), (), usage), 30, usage))
    assert "".join(sent) == first
    assert usage.finish_reason == "stop"


def test_a_reply_that_does_not_repeat_itself_streams_whole_and_almost_as_it_comes() -> None:
    reply = (
        "Standard shipping costs $4.99 for orders under $35 [1]. Express costs $9.99 under $35 [2].\n"
        "1. Open Orders and choose the order.\n2. Open Orders and choose Return [1].\n"
    )
    received = 0

    def source() -> Iterator[str]:
        nonlocal received
        for piece in _generated(reply, 4):
            received += len(piece)
            yield piece

    usage = StreamUsage(finish_reason="length")
    sent = ""
    for piece in cut_at_repeat(cut_at_stop(source(), (), usage), 30, usage):
        sent += piece
        # Held back: only an end that also occurs earlier ("0. Open Orders and choose "), under 30 characters.
        assert received - len(sent) < 30
    assert sent == reply and usage.finish_reason == "length"


def test_a_cut_loop_closes_the_source() -> None:
    closed: list[bool] = []

    def source() -> Iterator[str]:
        try:
            yield from _generated(LOOP, 5)
        finally:
            closed.append(True)

    usage = StreamUsage()
    list(cut_at_repeat(cut_at_stop(source(), (), usage), 30, usage))
    assert closed == [True]


def test_a_loop_that_repeats_from_mid_sentence_is_cut_at_a_sentence_end() -> None:
    # The demo model's password reply: each step repeats most of the last one, with a word more.
    reply = (
        "4. You'll be asked to enter a new password. Click 'Create new password' and enter your new "
        "password.\n5. You'll be asked to confirm your new password. Click 'Confirm new password' and enter "
        "your new password.\n6. You'll be asked to confirm your new password again. Click 'Confirm new "
        "password again' and enter your new password again.\n7. You'll be asked to confirm your new "
        "password again. Click"
    )
    usage = StreamUsage(finish_reason="length")
    sent = "".join(cut_at_repeat(cut_at_stop(_generated(reply, 5), (), usage), 60, usage))
    assert usage.finish_reason == "stop"
    assert sent == reply[: reply.index("\n6.")]  # step 5 finished, not cut after "Click 'Confirm"


def test_every_backends_stream_and_generate_cut_loops_as_their_sampling_asks() -> None:
    def looping_backend(
        messages: Sequence[ChatMessage], params: SamplingParams, usage: StreamUsage
    ) -> Iterator[str]:
        usage.prompt_tokens, usage.finish_reason = 40, "length"
        for piece in _generated(LOOP, 6):
            usage.completion_tokens += 1
            yield piece

    question = [ChatMessage("user", "what does a large return cost?")]
    cutting, not_cutting = SamplingParams(repeat_cutoff_chars=30), SamplingParams(repeat_cutoff_chars=None)
    stream = stream_reply(looping_backend, question, cutting)
    assert ("".join(stream), stream.usage.finish_reason) == (FIRST, "stop")
    assert stream.usage.completion_tokens < len(LOOP) // 6  # generation stopped at the loop
    completion = complete_reply(looping_backend, question, cutting)
    assert (completion.text, completion.finish_reason, completion.prompt_tokens) == (FIRST, "stop", 40)
    assert complete_reply(looping_backend, question, not_cutting).text == LOOP
