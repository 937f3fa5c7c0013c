"""Input widgets: a number input that Up/Down nudge, and a labelled field row that reports edits.

Data down, edits up: a row shows what the app gives it and hands each edit to the app
(``edit_field``); selects post ``CatalogChosen``. Only the app changes the profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Select

from napkinmath.tui.fields import Field


class NumberInput(Input):
    """An Input for one number: Up/Down step it, Shift+Up/Down take a big step."""

    BINDINGS = [
        Binding("up", "nudge(1, False)", "+", show=False),
        Binding("down", "nudge(-1, False)", "-", show=False),
        Binding("shift+up", "nudge(1, True)", "++", show=False),
        Binding("shift+down", "nudge(-1, True)", "--", show=False),
    ]

    def __init__(self, field: Field, value: str, **kwargs) -> None:
        # No Textual validators (the core validates): validating toggled classes on every input at start-up.
        super().__init__(value=value, compact=True, select_on_focus=False, validate_on=[], **kwargs)
        self.field = field
        self.cursor_blink = False  # a blinking cursor repaints forever, which costs over SSH

    def action_nudge(self, direction: int, big: bool) -> None:
        self.value = self.field.nudged(self.value, direction, big)
        self.cursor_position = len(self.value)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Tell the app straight away: bubbling through six containers costs a frame (bench/tui_latency.py)."""
        event.stop()
        if isinstance(self.parent, FieldRow):
            self.parent.report_edit(event.value)


@dataclass
class CatalogChosen(Message):
    """The user picked a catalog entry or a precision in a select."""

    path: str
    value: str | None  # None: the row's unset choice (the field omitted from the profile)


class FieldRow(Horizontal):
    """Label, input and unit on one line; the reason on a line under it while the value is refused.

    The reason's label is mounted only when needed: a row is three widgets, not six, which keeps
    start-up and every restyle cheaper (bench/tui_latency.py).
    """

    DEFAULT_CSS = """
    FieldRow { height: 1; }
    FieldRow .field-label { width: 1fr; min-width: 8; color: $text-muted; padding-right: 1; }
    FieldRow NumberInput { width: 9; }
    FieldRow .field-unit { width: 6; padding-left: 1; color: $text-muted; }
    FieldRow.-invalid NumberInput { color: $error; text-style: bold; }
    """

    def __init__(self, field: Field, value: str) -> None:
        super().__init__(id=field.widget_id + "-row")
        self.field = field
        self.initial = value
        self.shown = value  # the text last set or typed; a Changed event carrying it is no edit
        self.reason: str | None = None
        self.error_label: Label | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.field.row_label, classes="field-label")
        yield NumberInput(self.field, self.initial, id=self.field.widget_id)
        yield Label(self.field.unit, classes="field-unit")

    @property
    def input(self) -> NumberInput:
        return self.query_one(NumberInput)

    def report_edit(self, text: str) -> None:
        """Hand the edit to the app, unless it is the echo of a value the app gave us.

        A direct call, not a message: a message reaches the app a step later, after the screen has
        already painted the keystroke's echo, so the new figures wait a whole frame more.
        bench/tui_latency.py measured 49 ms from key to figure with a message, 37 ms with this call
        (bare Textual: 27 ms).
        """
        if text == self.shown:
            return
        self.shown = text
        self.app.edit_field(self.field, text)

    def show_error(self, reason: str | None) -> None:
        """Mark the row refused, with the reason under it, or clear it. Nothing happens when unchanged."""
        if reason == self.reason:
            return
        self.reason = reason
        self.set_class(reason is not None, "-invalid")
        if self.error_label is None:
            if reason is None:
                return
            # Created on the first refusal, then kept and only hidden: removal is asynchronous, and a
            # new label mounted before the old one is gone would collide with it (the fuzz test found it).
            self.error_label = Label(f"↳ {reason}", classes="field-error", id=f"{self.field.widget_id}-error")
            self.parent.mount(self.error_label, after=self)
            return
        self.error_label.display = reason is not None
        if reason is not None:
            self.error_label.update(f"↳ {reason}")

    def show_value(self, text: str, force: bool = False) -> None:
        """Replace the text, unless the user is typing here (never fight the cursor) and not ``force``."""
        if self.input.value == text or (self.input.has_focus and not force):
            return
        self.shown = text
        with self.input.prevent(Input.Changed):
            self.input.value = text


class ChoiceRow(Horizontal):
    """A label and a compact Select of catalog ids or precisions."""

    DEFAULT_CSS = """
    ChoiceRow { height: 1; }
    ChoiceRow .field-label { width: 1fr; min-width: 8; color: $text-muted; padding-right: 1; }
    ChoiceRow Select { width: 17; }
    """

    def __init__(self, path: str, label: str, options: list[tuple[str, str]], value: str | None, widget_id: str,
                 unset: str | None = None, title: str | None = None) -> None:
        """``unset``: the option that stands for the field being omitted (None in the profile); ``title``: the
        name the command palette goes to it by (the label when omitted)."""
        super().__init__(id=widget_id + "-row")
        self.path = path
        self.label = label
        self.title = title or label
        self.options = options
        self.unset = unset
        self.initial = unset if value is None and unset is not None else value
        self.widget_id = widget_id

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="field-label")
        value = self.initial if self.initial in {v for _, v in self.options} else Select.NULL
        yield Select(self.options, value=value, allow_blank=True, compact=True, id=self.widget_id,
                     prompt="custom")

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL or event.value == self.initial:  # not a choice: the echo of our own value
            return
        self.initial = str(event.value)
        self.post_message(CatalogChosen(self.path, None if self.initial == self.unset else self.initial))

    def add_option(self, label: str, value: str) -> None:
        """Offer one more choice (an imported model, for this session)."""
        self.options = [*self.options, (label, value)]
        select = self.query_one(Select)
        with select.prevent(Select.Changed):
            select.set_options(self.options)

    def show_value(self, value: str | None) -> None:
        if value is None and self.unset is not None:
            value = self.unset
        select = self.query_one(Select)
        wanted = value if value in {v for _, v in self.options} else Select.NULL
        self.initial = value
        if select.value != wanted:
            with select.prevent(Select.Changed):
                select.value = wanted
