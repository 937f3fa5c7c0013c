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


def breakpoint_classes(columns: int) -> dict[str, bool]:
    """Each of HORIZONTAL_BREAKPOINTS' classes, on or off at ``columns``: the class of the widest breakpoint
    that fits, as Textual's screen sets them on a resize. The planner sets them before its first layout:
    without them the outputs' rules do not apply yet, the first frame lacks the plan and a second restyle
    and layout follow the first resize (~20 ms of the start-up, bench/tui_cpu.py)."""
    fitting = max((start, name) for start, name in HORIZONTAL_BREAKPOINTS if columns >= start)[1]
    return {name: name == fitting for _, name in HORIZONTAL_BREAKPOINTS}


FooterForm = Literal["full", "short", "narrow"]


def footer_form(columns: int) -> FooterForm:
    """The footer's form at ``columns``: "full", "short" or "narrow" (tui/footer.py)."""
    return ("full" if columns >= FULL_FOOTER_FROM_COLUMNS else "short" if columns >= SHORT_FOOTER_FROM_COLUMNS
            else "narrow")


def compact_outputs(columns: int, rows: int) -> bool:
    """The outputs render compactly on a narrow or a short terminal."""
    return columns < WIDE_FROM_COLUMNS or rows < TALL_FROM_ROWS
