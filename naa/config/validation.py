"""Pydantic's validation errors as one line a user can act on: every field with its problem.

Pydantic's own text adds each error's input and a documentation link on lines of their own, which read
as a crash on a terminal and in an API message.
"""

from pydantic import ValidationError

MOST_SHOWN = 5


def describe(err: ValidationError) -> str:
    """``field.path: problem; other: problem`` for the first errors, then how many more there are."""
    errors = err.errors(include_url=False)
    parts = []
    for error in errors[:MOST_SHOWN]:
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    if len(errors) > MOST_SHOWN:
        parts.append(f"and {len(errors) - MOST_SHOWN} more")
    return "; ".join(parts)
