"""Where the planner switches layout: the one place that decides it.

The planner screen turns these into its breakpoint classes (``-wide``/``-narrow``, used by app.tcss)
and into the ``compact`` flag it binds to the output widgets, so no widget measures the terminal or
repeats a number.
"""

from __future__ import annotations

from typing import Literal

WIDE_FROM_COLUMNS = 110  # below: input panes behind tabs on the left, outputs stacked on the right
TALL_FROM_ROWS = 30  # below: the outputs' compact rendering (same figures, fewer lines)

FULL_FOOTER_FROM_COLUMNS = 130  # the footer's forms (tui/footer.py): every key in full words from here,
SHORT_FOOTER_FROM_COLUMNS = 120  # in short words from here, below it only the main keys

HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM_COLUMNS, "-wide")]


FooterForm = Literal["full", "short", "narrow"]


def footer_form(columns: int) -> FooterForm:
    """The footer's form at ``columns``: "full", "short" or "narrow" (tui/footer.py)."""
    return ("full" if columns >= FULL_FOOTER_FROM_COLUMNS else "short" if columns >= SHORT_FOOTER_FROM_COLUMNS
            else "narrow")


def compact_outputs(columns: int, rows: int) -> bool:
    """The outputs render compactly on a narrow or a short terminal."""
    return columns < WIDE_FROM_COLUMNS or rows < TALL_FROM_ROWS
