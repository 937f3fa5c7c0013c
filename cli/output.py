"""How the subcommands print: JSON, Rich tables that fit the terminal, the Rich console, and untrusted
text as text (``plain``/``printable``: the core's escaping, as tui/safe_text.py does for the app)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from napkinmath.core.untrusted import printable as escaped

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

MAX_SHOWN_CHARS = 2000


def console() -> Console:
    from rich.console import Console

    return Console()


def printable(text: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """Untrusted text for plain ``print``: control characters made visible, cut to about ``limit``."""
    return escaped(text, limit, keep_lines=True)


def plain(text: object, style: str = "") -> Text:
    """Untrusted text as a Rich ``Text``: never parsed as markup (``[/]`` is two brackets and a slash)."""
    from rich.text import Text

    return Text(printable(text), style=style)


def print_json(data: Any, allow_nan: bool = False) -> None:
    """``data`` as indented JSON on stdout: never NaN or Infinity, which are not JSON (a ValueError, so a
    figure that is not finite is an internal error, exit 3, not a file other programs cannot read).
    Control characters in strings are escaped by JSON itself (``\u001b``)."""
    print(json.dumps(data, indent=2, allow_nan=allow_nan))


def warn(messages: Iterable[str], source: str = "", kind: str = "warning") -> None:
    """Each message on stderr as ``napkin: warning: [source: ]message``, so that a pipe still carries only the
    output while the terminal shows why to doubt it (``kind="note"`` for what a command assumed)."""
    where = f"{printable(source, 300)}: " if source else ""
    for message in messages:
        print(f"napkin: {kind}: {where}{printable(message)}", file=sys.stderr)


def print_listing(title: str, headers: tuple[str, ...], rows: Sequence[tuple[str, ...]], footer: str,
                  flexible: str = "name", may_hide: bool = True) -> None:
    """A table whose columns keep their content's width; only the ``flexible`` column shrinks (with an
    ellipsis), and it is left out below 8 characters when ``may_hide``."""
    from rich.table import Table

    out = console()
    widths = [max([len(header), *(len(row[index]) for row in rows)]) for index, header in enumerate(headers)]
    name_index = headers.index(flexible)
    room = out.width - (sum(widths) - widths[name_index] + 2 * (len(headers) - 1))
    shown = [index for index in range(len(headers)) if index != name_index or room >= 8 or not may_hide]
    widths[name_index] = max(8, min(widths[name_index], room)) if not may_hide else min(widths[name_index], room)
    # Every cell, header, title and footer is plain text: names and file stems may hold brackets.
    table = Table(title=plain(title), box=None, padding=(0, 1), pad_edge=False, header_style="bold underline")
    for index in shown:
        table.add_column(plain(headers[index]), no_wrap=True, overflow="ellipsis", width=widths[index],
                         justify="left" if index in (0, name_index) else "right")
    for row in rows:
        table.add_row(*(plain(row[index]) for index in shown))
    out.print(table)
    out.print(plain(footer, style="dim"))
