"""One error type for everything a user can get wrong, with a one-paragraph message."""

from __future__ import annotations

from collections.abc import Collection

from pydantic import ValidationError


class ProfileError(ValueError):
    """Bad input: a file, a field or a flag. The message names what and what is allowed."""


def _location(loc: tuple) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
            continue
        text = str(item)
        # pydantic adds the validator kind to union/function locations; users never wrote those
        if text.startswith(("function-", "constrained-", "json-or-python")):
            continue
        parts.append(("." if parts else "") + text)
    return "".join(parts)


def describe_validation_error(error: ValidationError, source: str = "") -> str:
    """Turn a pydantic ValidationError into one paragraph: where, which field, what is allowed."""
    head = f"{source}: " if source else ""
    return head + "; ".join(validation_problems(error)) + "."


def validation_problems(error: ValidationError, skip: Collection[tuple] = ()) -> list[str]:
    """Each problem of a pydantic ValidationError as "where: what is allowed (got ...)", except those at the
    locations in ``skip`` (which the caller says in its own words)."""
    lines: list[str] = []
    for detail in error.errors(include_url=False):
        if tuple(detail.get("loc", ())) in skip:
            continue
        where = _location(tuple(detail.get("loc", ())))
        message = detail.get("msg", "invalid value")
        message = message.removeprefix("Value error, ")
        if detail.get("type") == "extra_forbidden":
            message = "unknown key (not part of the profile schema; check its spelling)"
        given = detail.get("input")
        shown = "" if isinstance(given, dict | list) or detail.get("type") == "missing" else f" (got {given!r})"
        lines.append(f"{where}: {message}{shown}" if where else f"{message}{shown}")
    return lines
