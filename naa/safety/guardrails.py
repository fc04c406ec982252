"""Guardrails applied around the chain: card-number redaction, message screening, handoff phrases.

Card numbers are found as 13-19 digits (spaces or dashes allowed between them) that pass the Luhn check,
the rule every payment card number follows; order ids and phone numbers almost never do, so they stay.
"""

import re
from collections.abc import Sequence

from naa.errors import InputError
from naa.safety.config import GuardrailConfig

_CARD_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
CARD_MASK = "[card number removed]"


def redact_payment_cards(text: str) -> str:
    """Replace every Luhn-valid card number in ``text`` with a mask."""
    return _CARD_CANDIDATE.sub(lambda m: CARD_MASK if _luhn_valid(m.group()) else m.group(), text)


def mask_cards(text: str, guardrails: GuardrailConfig) -> str:
    """``text`` with card numbers masked where the partner's guardrails ask for it (the default)."""
    return redact_payment_cards(text) if guardrails.redact_payment_cards else text


def screen_message(text: str, guardrails: GuardrailConfig, max_chars: int, speaker: str = "customer") -> str:
    """A person's message as a model or the database may see it: stripped, card numbers masked.

    The one check for every message a person writes, whether the assistant answers it (``/v1/chat``) or
    it is stored as an agent-assist turn.

    Raises:
        InputError: the message is empty or longer than ``max_chars``; ``speaker`` names whose it is.
    """
    stripped = text.strip()
    if not stripped:
        raise InputError(f"the {speaker} message is empty")
    if len(stripped) > max_chars:
        raise InputError(f"the {speaker} message has {len(stripped)} characters; the limit is {max_chars}")
    return mask_cards(stripped, guardrails)


def handoff_phrase(text: str, phrases: Sequence[str]) -> str | None:
    """The first configured phrase the message contains (case-insensitive), if any."""
    lowered = text.casefold()
    return next((p for p in phrases if p.casefold() in lowered), None)


def _luhn_valid(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    # Luhn: double every second digit from the right, subtract 9 from two-digit results, sum mod 10.
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0
