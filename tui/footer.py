"""The planner's footer: Textual's, with every main key readable from 80 columns up.

Textual's footer lists the bindings with ``show`` in one line and cuts what does not fit. This one
picks one of three forms by the terminal's width (tui/layout.py, ``footer_form``): "full", the action
table's words (tui/actions.py, ``description``); "short", each row's ``footer_short`` word; "narrow",
the short words without the keys marked ``footer_narrow=False`` (units, theme, problems: the key list
and the palette keep them) and without the palette hint (ctrl+p is in the key list), so that ?,
ctrl+s, ctrl+o, ctrl+z and F4-F8 and ctrl+q all show at 80 columns.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from .actions import ACTIONS
from .layout import FooterForm

_ROWS = {row.action: row for row in ACTIONS if row.action and row.footer}


class PlannerFooter(Footer):
    """The footer in the form the screen's width allows (``form``)."""

    form: reactive[FooterForm] = reactive[FooterForm]("full", recompose=True)

    def __init__(self, form: FooterForm = "full") -> None:
        super().__init__(compact=True)
        self.set_reactive(PlannerFooter.form, form)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if self.form != "full" and isinstance(widget, FooterKey):
                row = _ROWS.get(widget.action)
                if self.form == "narrow" and (widget.has_class("-command-palette")
                                              or (row is not None and not row.footer_narrow)):
                    widget.display = False
                elif row is not None and row.footer_short and widget.description:
                    widget.description = row.footer_short
            yield widget
