"""Pydantic's validation errors as one line a user can act on: every field with its problem.

Pydantic's own text adds each error's input and a documentation link on lines of their own, which read
as a crash on a terminal and in an API message.
"""

from typing import Any

from pydantic import ValidationError

MOST_SHOWN = 5


def describe(err: ValidationError, data: Any = None) -> str:
    """``field.path: problem; other: problem`` for the first errors, then how many more there are.

    Args:
        data: what was validated, when at hand: a tagged union (``generation: {backend: vllm, ...}``) puts
            the chosen tag in an error's path (``generation.vllm.model``), where the user wrote no such
            key; with the data, path parts that are not keys of what the user wrote are left out.
    """
    errors = err.errors(include_url=False)
    parts = []
    for error in errors[:MOST_SHOWN]:
        where = ".".join(
            str(part) for part in _written(error["loc"], data, missing=error["type"] == "missing")
        )
        # Tagged unions: the tag's field ("'type'", or "backend()" for a callable discriminator) said plainly,
        # not "Input tag 'x' found using backend() does not match..." or "Unable to extract tag...".
        ctx = error.get("ctx", {})
        tag_field = str(ctx.get("discriminator", "")).strip("'").removesuffix("()")
        if error["type"] == "union_tag_invalid":
            message = f"{tag_field} {ctx.get('tag')!r} is not one of {ctx.get('expected_tags')}"
        elif error["type"] == "union_tag_not_found":
            message = f"{tag_field}: Field required"
        else:
            message = error["msg"]
        parts.append(f"{where}: {message}" if where else message)
    if len(errors) > MOST_SHOWN:
        parts.append(f"and {len(errors) - MOST_SHOWN} more")
    return "; ".join(parts)


def _written(loc: tuple[int | str, ...], data: Any, *, missing: bool) -> list[int | str]:
    """``loc`` without the tags of tagged unions: string parts that are not keys of the mapping at their
    level, except a missing field's own name (the last part of a ``missing`` error)."""
    if data is None:
        return list(loc)
    kept: list[int | str] = []
    node = data
    for position, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not (missing and position == len(loc) - 1):
            continue  # a tag: the same mapping goes on being validated under it
        else:
            node = None  # a missing field, or below a value of the wrong shape: kept as pydantic gives it
        kept.append(part)
    return kept
