"""Card redaction and handoff phrases on hand-made messages."""

import pytest

from naa.errors import InputError
from naa.safety.config import GuardrailConfig
from naa.safety.guardrails import CARD_MASK, handoff_phrase, redact_payment_cards, screen_message


@pytest.mark.parametrize(
    "card",
    ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"],
)
def test_luhn_valid_card_numbers_are_masked(card: str) -> None:
    assert redact_payment_cards(f"my card is {card}, thanks") == f"my card is {CARD_MASK}, thanks"


@pytest.mark.parametrize(
    "text",
    [
        "order TB-48213377 has not arrived",  # 8 digits: too short for a card
        "call me at +1 415 555 0100",  # 11 digits
        "4111111111111112 is not a card",  # 16 digits failing the Luhn check
    ],
)
def test_other_numbers_are_kept(text: str) -> None:
    assert redact_payment_cards(text) == text


def test_handoff_phrase_matches_any_case_and_returns_the_configured_phrase() -> None:
    assert handoff_phrase("I will call my LAWYER about this", ["chargeback", "lawyer"]) == "lawyer"
    assert handoff_phrase("where is my parcel", ["chargeback", "lawyer"]) is None


def test_screen_message_strips_masks_cards_and_refuses_empty_or_long_messages() -> None:
    on, off = GuardrailConfig(), GuardrailConfig(redact_payment_cards=False)
    assert screen_message("  card 4111111111111111\n", on, 30) == f"card {CARD_MASK}"
    assert screen_message("card 4111111111111111", off, 30) == "card 4111111111111111"
    with pytest.raises(InputError, match="the agent message is empty"):
        screen_message(" \n ", on, 30, speaker="agent")
    with pytest.raises(InputError, match="the customer message has 31 characters; the limit is 30"):
        screen_message("x" * 31, on, 30)
