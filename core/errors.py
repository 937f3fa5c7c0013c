"""One error type for everything a user can get wrong, with a one-paragraph message."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import ValidationError

from .untrusted import excerpt, printable, shown_path

LOCATION_PART_CHARS = 60  # a key from a file, as a message names it


class ProfileError(ValueError):
    """Bad input: a file, a field or a flag. The message names what and what is allowed."""


def _location(loc: tuple) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
            continue
        text = printable(str(item), LOCATION_PART_CHARS)
        # pydantic adds the validator kind to union/function locations; users never wrote those
        if text.startswith(("function-", "constrained-", "json-or-python")):
            continue
        parts.append(("." if parts else "") + text)
    return "".join(parts)


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value)


# pydantic's error types, said the way the rest of napkinmath says them ("at least 0.01", not "greater
# than or equal to 0.01"); anything else keeps pydantic's own sentence.
_WORDS = {
    "greater_than_equal": lambda ctx: f"must be at least {_number(ctx.get('ge'))}",
    "greater_than": lambda ctx: f"must be above {_number(ctx.get('gt'))}",
    "less_than_equal": lambda ctx: f"must be at most {_number(ctx.get('le'))}",
    "less_than": lambda ctx: f"must be below {_number(ctx.get('lt'))}",
    "int_type": lambda ctx: "must be a whole number",
    "int_from_float": lambda ctx: "must be a whole number",
    "float_type": lambda ctx: "must be a number",
    "bool_type": lambda ctx: "must be true or false",
    "string_type": lambda ctx: "must be text (in quotes)",
    "string_too_long": lambda ctx: f"must be at most {_number(ctx.get('max_length'))} characters",
    "string_too_short": lambda ctx: f"must be at least {_number(ctx.get('min_length'))} character(s)",
    "finite_number": lambda ctx: "must be a finite number",
}


def _in_words(detail: Any) -> str:
    words = _WORDS.get(detail.get("type", ""))
    if words is not None:
        return words(detail.get("ctx") or {})
    return str(detail.get("msg", "invalid value")).removeprefix("Value error, ")


def describe_validation_error(error: ValidationError, source: str = "") -> str:
    """Turn a pydantic ValidationError into one paragraph: where, which field, what is allowed.

    Keys and values from the file are quoted escaped and bounded (``untrusted.excerpt``), so a
    990,000-character name or an ESC sequence is never echoed whole."""
    head = f"{shown_path(source)}: " if source else ""
    return head + "; ".join(validation_problems(error)) + "."


def validation_problems(error: ValidationError, skip: Collection[tuple] = ()) -> list[str]:
    """Each problem of a pydantic ValidationError as "where: what is allowed (got ...)", except those at the
    locations in ``skip`` (which the caller says in its own words); keys and values escaped and bounded."""
    lines: list[str] = []
    for detail in error.errors(include_url=False):
        if tuple(detail.get("loc", ())) in skip:
            continue
        where = _location(tuple(detail.get("loc", ())))
        message = _in_words(detail)
        if detail.get("type") == "extra_forbidden":
            message = "unknown key (not part of the profile schema; check its spelling)"
        given = detail.get("input")
        shown = "" if isinstance(given, dict | list) or detail.get("type") == "missing" else f" (got {excerpt(given)})"
        lines.append(f"{where}: {printable(message)}{shown}" if where else f"{printable(message)}{shown}")
    return lines
