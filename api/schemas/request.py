"""The base of every request body: every string in it must be text that each layer below can take.

JSON can spell two things that are not text: a lone UTF-16 surrogate (``"\\ud800"``) and NUL
(``"\\u0000"``). Python's JSON parser accepts both and pydantic passes them on in a plain ``str`` field,
but the tokenizers and the file system cannot encode a lone surrogate, and PostgreSQL refuses NUL in a
text column: each was a 500 wherever it first landed. Refused here, they are the client's 422, with the
field named.
"""

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, model_validator
from pydantic_core import PydanticCustomError


def _strings(value: object) -> Iterator[tuple[tuple[object, ...], str]]:
    """Every string in a parsed JSON value (object keys too), with its location, depth first.

    A loop, not recursion: a body nested a thousand levels deep must not exhaust the stack here.
    """
    pending: list[tuple[tuple[object, ...], object]] = [((), value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                pending.append(((*where, key), inner))
                pending.append(((*where, key), key))
        elif isinstance(item, list):
            pending.extend(((*where, index), inner) for index, inner in reversed(list(enumerate(item))))


def _shown(where: tuple[object, ...]) -> str:
    # A key may itself be the bad string: escaped, so that the error message is text.
    parts = [ascii(p)[1:-1] if isinstance(p, str) and _problem(p) else str(p) for p in where]
    return ".".join(parts) or "value"


def _problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains NUL (\\u0000), which is not text"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"contains a lone surrogate ({text[err.start]!r}), which is not text: send UTF-8"
    return None


def check_text(data: Any) -> Any:
    """Raise a validation error naming the first string in ``data`` that is not text; else return it."""
    for where, text in _strings(data):
        problem = _problem(text)
        if problem is not None:
            raise PydanticCustomError(
                "not_text", "{where} {problem}", {"where": _shown(where), "problem": problem}
            )
    return data


class RequestBody(BaseModel):
    """Base of the JSON request bodies (``XCreate`` / ``XUpdate``): strings are checked before the fields."""

    @model_validator(mode="before")
    @classmethod
    def _only_text(cls, data: Any) -> Any:
        return check_text(data)
