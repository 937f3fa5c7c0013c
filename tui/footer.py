"""The planner's footer: Textual's, with every main key readable at 80 columns.

Textual's footer lists the bindings with ``show``; at 120 columns the action table's words fit
(tui/actions.py, ``description``), at 80 they would be cut after F6. In the narrow layout this footer
takes each row's ``footer_short`` word, leaves out the keys marked ``footer_narrow=False`` (units and
theme, which the palette and the key list keep) and the palette hint (ctrl+p is in the key list), so
that ?, ctrl+s, ctrl+o, ctrl+z, F4-F8 and ctrl+q all show.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from .actions import ACTIONS

_ROWS = {row.action: row for row in ACTIONS if row.action and row.footer}


class PlannerFooter(Footer):
    """The footer; ``narrow`` (set by the screen's layout) swaps in the short words."""

    narrow: reactive[bool] = reactive(False, recompose=True)

    def __init__(self, narrow: bool = False) -> None:
        super().__init__(compact=True)
        self.set_reactive(PlannerFooter.narrow, narrow)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if self.narrow:
                if isinstance(widget, FooterKey):
                    row = _ROWS.get(widget.action)
                    if widget.has_class("-command-palette") or (row is not None and not row.footer_narrow):
                        widget.display = False
                    elif row is not None and row.footer_short and widget.description:
                        widget.description = row.footer_short
            yield widget
