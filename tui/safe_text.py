"""Untrusted text shown as text: the one helper for every name, path, message or tool output on screen.

Profile and model names, file paths, error messages that quote a file, nvidia-smi's GPU names and HF
repo ids come from outside. Shown through Textual markup, ``[/]`` would crash the screen and
``[@click=app.quit]`` would become a live action; shown raw, an ESC sequence would reach the terminal.
``printable`` is the core's escaping (``napkinmath.core.untrusted.printable``: control characters made
visible as ``\\x1b``, the length bounded), keeping a message's line breaks; ``plain`` wraps the result
in a Rich ``Text``, which Textual never parses as markup. Notifications go through the screen's ``say``
(tui/base_screen.py), which sends ``markup=False``. The command line has the same pair in cli/output.py.
"""

from __future__ import annotations

from rich.text import Text

from napkinmath.core.untrusted import printable as escaped

MAX_SHOWN_CHARS = 2000  # a message longer than this is cut in the middle, never shown whole


def printable(text: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` with every control character written as a visible escape, cut to about ``limit`` characters
    (newlines and tabs kept: a notice may have several lines)."""
    return escaped(text, limit, keep_lines=True)


def plain(text: object, style: str = "", limit: int = MAX_SHOWN_CHARS) -> Text:
    """Untrusted text as a Rich ``Text`` (never parsed as markup), control characters made visible."""
    return Text(printable(text, limit), style=style)
