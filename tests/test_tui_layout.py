"""Where the planner switches layout (tui/layout.py)."""

from __future__ import annotations

from textual.screen import Screen

from napkinmath.tui.layout import HORIZONTAL_BREAKPOINTS, breakpoint_classes


def test_the_breakpoint_classes_set_before_the_first_layout_are_the_ones_textual_sets_on_resize():
    """Equal at every width, so Textual's first resize changes no class and restyles nothing."""
    screen = Screen()
    for columns in range(0, 300):
        ours = {name for name, on in breakpoint_classes(columns).items() if on}
        assert ours == screen._get_breakpoint_classes(columns, HORIZONTAL_BREAKPOINTS), columns
        assert set(breakpoint_classes(columns)) == {name for _, name in HORIZONTAL_BREAKPOINTS}
