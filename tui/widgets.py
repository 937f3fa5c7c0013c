"""Input widgets: a number input that Up/Down nudge, and a labelled field row that reports edits.

Data down, messages up: a row shows what the app gives it and posts ``FieldEdited`` when the
user types; only the app changes the profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
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
        super().__init__(value=value, compact=True, select_on_focus=False, **kwargs)
        self.field = field
        self.cursor_blink = False  # a blinking cursor repaints forever, which costs over SSH

    def action_nudge(self, direction: int, big: bool) -> None:
        self.value = self.field.nudged(self.value, direction, big)
        self.cursor_position = len(self.value)


class FieldEdited(Message):
    """The user changed a field's text (the app parses and validates it)."""

    def __init__(self, field: Field, text: str) -> None:
        super().__init__()
        self.field = field
        self.text = text

    def can_replace(self, message: Message) -> bool:
        """A burst of keystrokes in one field collapses to its latest text."""
        return isinstance(message, FieldEdited) and message.field is self.field


@dataclass
class CatalogChosen(Message):
    """The user picked a catalog entry or a precision in a select."""

    path: str
    value: str


class FieldRow(Vertical):
    """Label, input and unit on one line; the reason under it when the value is refused."""

    DEFAULT_CSS = """
    FieldRow { height: auto; }
    FieldRow > Horizontal { height: 1; }
    FieldRow .field-label { width: 1fr; min-width: 8; color: $text-muted; padding-right: 1; }
    FieldRow NumberInput { width: 9; }
    FieldRow .field-unit { width: 6; padding-left: 1; color: $text-muted; }
    FieldRow .field-error { color: $error; display: none; height: auto; }
    FieldRow.-invalid .field-error { display: block; }
    FieldRow.-invalid NumberInput { color: $error; text-style: bold; }
    """

    def __init__(self, field: Field, value: str) -> None:
        super().__init__(id=field.widget_id + "-row")
        self.field = field
        self.initial = value
        self.shown = value  # the text last set or typed; a Changed event carrying it is no edit

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.field.row_label, classes="field-label")
            yield NumberInput(self.field, self.initial, id=self.field.widget_id)
            yield Label(self.field.unit, classes="field-unit")
        yield Label("", classes="field-error")

    @property
    def input(self) -> NumberInput:
        return self.query_one(NumberInput)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value == self.shown:  # the echo of a value the app gave us, not an edit
            return
        self.shown = event.value
        self.post_message(FieldEdited(self.field, event.value))

    def show_error(self, reason: str | None) -> None:
        self.set_class(reason is not None, "-invalid")
        self.query_one(".field-error", Label).update(f"↳ {reason}" if reason else "")

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

    def __init__(self, path: str, label: str, options: list[tuple[str, str]], value: str | None, widget_id: str) -> None:
        super().__init__(id=widget_id + "-row")
        self.path = path
        self.label = label
        self.options = options
        self.initial = value
        self.widget_id = widget_id

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="field-label")
        value = self.initial if self.initial in {v for _, v in self.options} else Select.BLANK
        yield Select(self.options, value=value, allow_blank=True, compact=True, id=self.widget_id,
                     prompt="custom")

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.BLANK or event.value == self.initial:  # not a choice: the echo of our own value
            return
        self.initial = str(event.value)
        self.post_message(CatalogChosen(self.path, str(event.value)))

    def show_value(self, value: str | None) -> None:
        select = self.query_one(Select)
        wanted = value if value in {v for _, v in self.options} else Select.BLANK
        self.initial = value
        if select.value != wanted:
            with select.prevent(Select.Changed):
                select.value = wanted
