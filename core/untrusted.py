"""Text that came from outside (a file, a tool, a path, the network), made safe to put in a message.

Two rules, used by every message that quotes such text (see docs/design/hostile-input.md):

* **No control characters reach a terminal.** C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F) and the
  bidirectional overrides (U+202A-U+202E, U+2066-U+2069) are written as Python escapes (``\\x1b``,
  ``\\u202e``), so an ESC/OSC sequence in a profile name or a GPU name cannot retitle the terminal,
  move the cursor or reorder what a reader sees.
* **A bad value is quoted, never echoed whole.** ``excerpt`` keeps the start and the end of a long
  text with the number of characters left out, and describes a value Python cannot even turn into
  text (an integer of more than 4,300 digits) by its size.

Markup (Rich/Textual ``[bold]``) is NOT escaped here: the core has no markup. The front end shows
these strings as plain text (``markup=False``), which is where ``[/]`` stops being special.
"""

from __future__ import annotations

import re
from typing import Any

EXCERPT_CHARS = 80  # how much of a bad value a message quotes
PATH_CHARS = 160  # how much of a path a message shows
INT_DIGITS_LIMIT = 4300  # CPython's default int <-> str conversion limit (sys.get_int_max_str_digits)

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a character ``printable`` would escape (newlines and tabs included)."""
    return _CONTROL.search(text) is not None


_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object, limit: int | None = None, keep_lines: bool = False) -> str:
    """``text`` with every control character escaped (rule above), cut to about ``limit`` characters.

    ``keep_lines``: leave newlines and tabs as they are (a message of several lines shown in a notice);
    by default they are escaped too (a name, a path: one line)."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = _shortened(text, limit)
    return (_CONTROL_BUT_LINES if keep_lines else _CONTROL).sub(_escape, text)


def _shortened(text: str, limit: int) -> str:
    """The start and the end of ``text`` around a note of how many characters were left out."""
    keep = max(limit - 24, 8)
    head, tail = text[: keep * 2 // 3], text[len(text) - keep // 3:] if keep // 3 else ""
    return f"{head}…[{len(text) - len(head) - len(tail):,} characters]…{tail}"


def integer_digits(value: int) -> int:
    """Decimal digits of ``value`` without converting it to text (which CPython refuses past 4,300)."""
    bits = abs(value).bit_length()
    if not bits:
        return 1
    digits = int(bits * 0.30102999566398120) + 1  # exact, or one too many
    return digits - 1 if abs(value) < 10 ** (digits - 1) else digits


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A bounded, escaped quotation of a bad value, for "(got ...)" in a message.

    Strings are quoted like ``repr`` would; numbers as written; an integer too long to print is
    described by its size; containers by their type and length (their contents are not quoted).
    """
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        digits = integer_digits(value)
        return repr(value) if digits <= limit else f"an integer of about {digits:,} digits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str | bytes):
        text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
        return "'" + printable(text, limit).replace("'", "\\'") + "'"
    if isinstance(value, dict | list | tuple | set):
        return f"a {type(value).__name__} of {len(value):,} item{'s' if len(value) != 1 else ''}"
    return f"a {type(value).__name__}"


def shown_path(path: Any) -> str:
    """A file name for a message: escaped, and cut in the middle past ``PATH_CHARS``."""
    return printable(str(path), PATH_CHARS)


MAX_NESTING = 100  # levels of tables/arrays a profile may hold (it uses 3); parsers stop near 1,000


def data_problem(data: Any, max_depth: int = MAX_NESTING) -> str | None:
    """What makes parsed data unsafe to validate, naming where: nesting past ``max_depth`` levels or an
    integer past ``INT_DIGITS_LIMIT`` digits (which pydantic cannot even quote); None when it is fine.

    Walks iteratively, so a structure too deep for a recursive walk is still measured.
    """
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        named = f"{printable(where, 120)}: " if where else ""
        if isinstance(value, dict | list | tuple):
            if depth >= max_depth:
                return f"{named}nested more than {max_depth} levels deep"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                part = f"[{key}]" if isinstance(key, int) else printable(str(key), 60)
                stack.append((item, f"{where}.{part}" if where and not isinstance(key, int) else f"{where}{part}",
                              depth + 1))
        elif isinstance(value, int) and not isinstance(value, bool) and integer_digits(value) > INT_DIGITS_LIMIT:
            return f"{named}an integer of about {integer_digits(value):,} digits (at most {INT_DIGITS_LIMIT:,})"
    return None
