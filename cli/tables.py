"""Tables that stay readable at 80 columns and in a pipe: no column is ever cut.

A pipe has no terminal width, so Rich (and ``shutil``) take 80 columns, or ``COLUMNS`` when set.
Rich fits a wider table by shrinking its columns with an ellipsis, which cut the row labels of
``napkin compare A B C | cat`` to a single "…". Here every column keeps its content's width: the
first ``keep`` columns (the labels) are repeated in each block, and the other columns are split
into as many blocks as it takes to fit (``column_blocks``); text too long for a row (a sentence) is
printed under its row, wrapped (``under``).
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

GAP = 2  # spaces between columns


def terminal_width() -> int:
    """``COLUMNS``, else the terminal's width, else 80 (a pipe or a file)."""
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def console() -> Console:
    return Console(width=terminal_width(), highlight=False)


@dataclass(frozen=True)
class Column:
    header: str
    cells: Sequence[str | Text]
    right: bool = True  # numbers are right-aligned, words left-aligned

    @property
    def width(self) -> int:
        return max([len(self.header), *(Text(cell).cell_len if isinstance(cell, str) else cell.cell_len
                                         for cell in self.cells)])


def column_blocks(widths: Sequence[int], keep: int, room: int) -> list[list[int]]:
    """Split columns ``keep``.. into blocks that fit ``room`` beside columns ..``keep``, each block at
    least one column wide (a column wider than the room still gets a block of its own)."""
    fixed = sum(widths[:keep]) + GAP * keep
    blocks: list[list[int]] = []
    used = fixed
    for index in range(keep, len(widths)):
        if blocks and used + widths[index] <= room:
            blocks[-1].append(index)
        else:
            blocks.append([index])
            used = fixed
        used += widths[index] + GAP
    return blocks or [[]]


def _cell(value: str | Text, width: int, right: bool) -> Text:
    text = Text(value) if isinstance(value, str) else value.copy()
    pad = " " * max(0, width - text.cell_len)
    return Text.assemble(pad, text) if right else Text.assemble(text, pad)


def print_columns(out: Console, columns: Sequence[Column], keep: int = 1,
                  under: Sequence[Sequence[str]] | None = None) -> None:
    """The columns as one table per block that fits the console's width, the first ``keep`` in each;
    ``under[row]``: sentences printed under that row, wrapped and indented (in the first block only)."""
    blocks = column_blocks([column.width for column in columns], keep, out.width)
    for number, block in enumerate(blocks):
        if number:
            out.print()
        shown = [*columns[:keep], *(columns[index] for index in block)]
        widths = [column.width for column in shown]
        gap = " " * GAP
        header = Text(gap.join(_cell(c.header, w, c.right).plain for c, w in zip(shown, widths, strict=True)),
                      style="bold")
        header.rstrip()
        out.print(header, soft_wrap=True)
        for row in range(len(columns[0].cells)):
            line = Text(gap).join(_cell(c.cells[row], w, c.right) for c, w in zip(shown, widths, strict=True))
            line.rstrip()
            out.print(line, soft_wrap=True)
            for sentence in (under[row] if under and number == 0 else ()):
                out.print(Text(wrapped(sentence, out.width, " " * (widths[0] + GAP)), style="dim"), soft_wrap=True)


def wrapped(text: str, width: int, indent: str) -> str:
    """A sentence wrapped to ``width`` with every line indented (never a word cut)."""
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)
