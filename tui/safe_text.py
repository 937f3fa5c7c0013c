"""Untrusted text shown as text: the one helper for every name, path, message or tool output on screen.

Profile and model names, file paths, error messages that quote a file, nvidia-smi's GPU names and HF
repo ids come from outside. Shown through Textual markup, ``[/]`` would crash the screen and
``[@click=app.quit]`` would become a live action; shown raw, an ESC sequence would reach the terminal.
``printable`` makes control characters visible (``\\x1b``) and bounds the length; ``plain`` wraps the
result in a Rich ``Text``, which Textual never parses as markup. Notifications go through the screen's
``say`` (tui/base_screen.py), which sends ``markup=False``.
"""

from __future__ import annotations

import re

from rich.text import Text

MAX_SHOWN_CHARS = 2000  # a message longer than this is cut with an ellipsis, never shown whole
# C0 controls except newline and tab, DEL, and the C1 controls (ESC-less CSI etc.)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` with every control character written as a visible escape, cut to ``limit`` characters."""
    shown = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", str(text))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def plain(text: object, style: str = "", limit: int = MAX_SHOWN_CHARS) -> Text:
    """Untrusted text as a Rich ``Text`` (never parsed as markup), control characters made visible."""
    return Text(printable(text, limit), style=style)
