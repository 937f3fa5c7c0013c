"""How the subcommands print: JSON, Rich tables that fit the terminal, the Rich console."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def console() -> Console:
    from rich.console import Console

    return Console()


def print_json(data: Any, allow_nan: bool = True) -> None:
    """``data`` as indented JSON on stdout. ``allow_nan=False`` refuses NaN and infinities (invalid JSON)."""
    print(json.dumps(data, indent=2, allow_nan=allow_nan))


def warn(messages: Iterable[str], source: str = "", kind: str = "warning") -> None:
    """Each message on stderr as ``napkin: warning: [source: ]message``, so that a pipe still carries only the
    output while the terminal shows why to doubt it (``kind="note"`` for what a command assumed)."""
    where = f"{source}: " if source else ""
    for message in messages:
        print(f"napkin: {kind}: {where}{message}", file=sys.stderr)


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
    table = Table(title=title, box=None, padding=(0, 1), pad_edge=False, header_style="bold underline")
    for index in shown:
        table.add_column(headers[index], no_wrap=True, overflow="ellipsis", width=widths[index],
                         justify="left" if index in (0, name_index) else "right")
    for row in rows:
        table.add_row(*(row[index] for index in shown))
    out.print(table)
    out.print(footer, style="dim")
