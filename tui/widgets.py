"""Input widgets: a number input that Up/Down nudge, and a labelled field row that reports edits.

Data down, edits up: a row shows what the screen gives it and hands each edit to the callback the
screen gave it (the keystroke path: see ``FieldRow.report_edit``); selects post ``CatalogChosen``.
Only the screen's edit session changes the profile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, Select
from textual.widgets._select import SelectCurrent

from .fields import Field
from .messages import CatalogChosen
from .safe_text import plain


class FieldEditor(Protocol):
    """What a field row reports to (the planner screen)."""

    def edit_field(self, field: Field, text: str, final: bool = True) -> None:
        """Typed text to apply; ``final`` False while the field keeps the cursor (typing paused)."""

    def nudged_text(self, field: Field, text: str, direction: int, big: bool) -> str:
        """The text after one Up (+1) or Down (-1) press."""


# How long typing may pause before the typed value is applied (Enter, Tab and Up/Down apply at once):
# long enough that "1e308" is never applied as "1e3" on the way, short enough to feel live.
APPLY_AFTER_S = 0.5


class NumberInput(Input):
    """An Input for one number: Up/Down step it, Shift+Up/Down take a big step. Focus selects the number,
    so typing replaces it, as in a spreadsheet; ``?`` is left to the app (the key list)."""

    BINDINGS = [
        Binding("up", "nudge(1, False)", "+", show=False),
        Binding("down", "nudge(-1, False)", "-", show=False),
        Binding("shift+up", "nudge(1, True)", "++", show=False),
        Binding("shift+down", "nudge(-1, True)", "--", show=False),
    ]

    def __init__(self, field: Field, value: str, id: str | None = None) -> None:
        # No Textual validators (the core validates): validating toggled classes on every input at start-up.
        super().__init__(value=value, compact=True, select_on_focus=True, validate_on=[], id=id)
        self.field = field
        self.cursor_blink = False  # a blinking cursor repaints forever, which costs over SSH

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """``?`` opens the key list from anywhere: no number has one (Textual drops the bindings of keys the
        focused Input would consume)."""
        return character != "?" and super().check_consume_key(key, character)

    def action_nudge(self, direction: int, big: bool) -> None:
        row = self.parent if isinstance(self.parent, FieldRow) else None
        text = (row.editor.nudged_text(self.field, self.value, direction, big) if row is not None
                else self.field.nudged(self.value, direction, big))
        self.value = text
        self.cursor_position = len(self.value)
        if row is not None:
            row.apply_now(text)  # Up/Down stay live: no pause

    def on_input_changed(self, event: Input.Changed) -> None:
        """Tell the row straight away: bubbling through six containers costs a frame (bench/tui_latency.py)."""
        event.stop()
        if isinstance(self.parent, FieldRow):
            self.parent.report_edit(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if isinstance(self.parent, FieldRow):
            self.parent.apply_now(self.value)

    def on_input_blurred(self, event: Input.Blurred) -> None:
        event.stop()
        if isinstance(self.parent, FieldRow):
            self.parent.apply_pending()


class FieldRow(Horizontal):
    """Label, input and unit on one line; the reason on a line under it while the value is refused.

    Typed text is applied after a short pause (``APPLY_AFTER_S``), on Enter or when the field loses the
    cursor; Up/Down apply at once. The reason's label is mounted only when needed: a row is three
    widgets, not six, which keeps start-up and every restyle cheaper (bench/tui_latency.py).
    """

    DEFAULT_CSS = """
    FieldRow { height: 1; }
    FieldRow .field-label { width: 1fr; min-width: 8; color: $text-muted; padding-right: 1; }
    FieldRow NumberInput { width: 9; }
    FieldRow .field-unit { width: 6; padding-left: 1; color: $text-muted; }
    FieldRow.-invalid NumberInput { color: $error; text-style: bold; }
    """

    def __init__(self, field: Field, value: str, editor: FieldEditor) -> None:
        """``editor``: the screen, which applies edits and knows the Up/Down rules that depend on other
        fields (the GPU count steps between whole replicas)."""
        super().__init__(id=field.widget_id + "-row")
        self.field = field
        self.editor = editor
        self.initial = value
        self.shown = value  # the text last set or applied; a Changed event carrying it is no edit
        self.pending: str | None = None  # typed, not yet applied
        self.provisional = False  # a value was applied during a pause: the entry is still open
        self.timer: Timer | None = None
        self.reason: str | None = None
        self.error_label: Label | None = None
        # Kept, not queried: the screen asks every row on every keystroke (bench/tui_latency.py).
        self.input = NumberInput(self.field, value, id=self.field.widget_id)

    def compose(self) -> ComposeResult:
        yield Label(self.field.row_label, classes="field-label")
        yield self.input
        yield Label(self.field.unit, classes="field-unit")

    def report_edit(self, text: str) -> None:
        """A keystroke: applied once typing pauses, unless it is the echo of a value the screen gave us."""
        if text == self.shown and self.pending is None:
            return
        self.pending = text
        if self.timer is not None:
            self.timer.stop()
        self.timer = self.set_timer(APPLY_AFTER_S, self.apply_for_now)

    def apply_now(self, text: str) -> None:
        """Apply ``text`` at once (Enter, Up/Down)."""
        self.pending = text
        self.apply_pending()

    def apply_for_now(self) -> None:
        """Typing paused: apply what is typed, for now (the entry ends with Enter, Tab or Up/Down)."""
        self.apply_pending(final=False)

    def apply_pending(self, final: bool = True) -> None:
        """Hand the typed text to the screen, if any is waiting; ``final``: the entry ends here.

        A callback, not a message: a message reaches the screen a step later, after it has already
        painted the keystroke's echo, so the new figures wait a whole frame more.
        bench/tui_latency.py measured 49 ms from key to figure with a message, 37 ms with this call
        (bare Textual: 27 ms).
        """
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        text, self.pending = self.pending, None
        if text is None or text == self.shown:
            if final and self.provisional:  # the entry ends on the text applied during the pause
                self.provisional = False
                self.editor.edit_field(self.field, self.shown, True)
            return
        self.shown = text
        self.provisional = not final
        self.editor.edit_field(self.field, text, final)

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
            self.error_label = Label(plain(f"↳ {reason}"), classes="field-error", id=f"{self.field.widget_id}-error")
            if isinstance(self.parent, Widget) and self.parent.is_attached and self.is_attached:
                self.parent.mount(self.error_label, after=self)  # (not while the app is shutting down)
            return
        self.error_label.display = reason is not None
        if reason is not None:
            self.error_label.update(plain(f"↳ {reason}"))

    def show_value(self, text: str, force: bool = False) -> None:
        """Replace the text, unless the user is typing here (never fight the cursor) and not ``force``."""
        if force:
            self.pending, self.provisional = None, False
            if self.timer is not None:
                self.timer.stop()
                self.timer = None
        if self.input.value == text or ((self.input.has_focus or self.pending is not None) and not force):
            return
        self.shown = text
        with self.input.prevent(Input.Changed):
            self.input.value = text


class NameRow(Horizontal):
    """The profile's name: typed over, it is the user's (Enter or leaving the field applies it); emptied,
    the automatic name comes back and follows the model, GPUs and precision again."""

    DEFAULT_CSS = """
    NameRow { height: 1; }
    NameRow .field-label { width: 6; color: $text-muted; }
    NameRow Input { width: 1fr; }
    """

    def __init__(self, name: str, on_rename: Callable[[str], None]) -> None:
        super().__init__(id="name-row")
        self.on_rename = on_rename
        self.input = Input(name, compact=True, id="field-name", placeholder="automatic")
        self.input.cursor_blink = False

    def compose(self) -> ComposeResult:
        yield Label("Name", classes="field-label")
        yield self.input

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.on_rename(event.value)

    def on_input_blurred(self, event: Input.Blurred) -> None:
        event.stop()
        self.on_rename(event.value)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()

    def show_name(self, name: str, force: bool = False) -> None:
        if self.input.value != name and (force or not self.input.has_focus):
            with self.input.prevent(Input.Changed):
                self.input.value = name


class ChoiceSelect(Select[str]):
    """A Select whose list may say more than its closed face: the list shows each GPU's memory,
    bandwidth and rent beside its id, the closed select only the id (``faces``)."""

    def __init__(self, *args: Any, faces: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.faces = faces or {}
        super().__init__(*args, **kwargs)

    def watch_value(self, value: object) -> None:
        face = self.faces.get(str(value)) if value is not Select.NULL else None
        if face is not None:
            self.query_one(SelectCurrent).update(face)


class ChoiceRow(Horizontal):
    """A label and a compact Select of catalog ids or precisions."""

    DEFAULT_CSS = """
    ChoiceRow { height: 1; }
    ChoiceRow .field-label { width: 1fr; min-width: 8; color: $text-muted; padding-right: 1; }
    ChoiceRow Select { width: 17; }
    """

    def __init__(self, path: str, label: str, options: Sequence[tuple[RenderableType, str]], value: str | None,
                 widget_id: str,
                 unset: str | None = None, title: str | None = None, faces: dict[str, str] | None = None) -> None:
        """``unset``: the option that stands for the field being omitted (None in the profile); ``title``: the
        name the command palette goes to it by (the label when omitted); ``faces``: what the closed select
        shows for a value whose list entry says more."""
        super().__init__(id=widget_id + "-row")
        self.path = path
        self.label = label
        self.title = title or label
        self.options = list(options)
        self.values = {value for _, value in options}
        self.unset = unset
        self.initial = unset if value is None and unset is not None else value
        self.widget_id = widget_id
        shown = self.initial if self.initial in self.values else Select.NULL
        # Kept, not queried: the screen asks every row on every keystroke.
        self.label_widget = Label(label, classes="field-label")
        self.select: Select[str] = ChoiceSelect(self.options, value=shown, allow_blank=True, compact=True,
                                                id=widget_id, prompt="custom", faces=faces)

    def compose(self) -> ComposeResult:
        yield self.label_widget
        yield self.select

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL or event.value == self.initial:  # not a choice: the echo of our own value
            return
        self.initial = str(event.value)
        self.post_message(CatalogChosen(self.path, None if self.initial == self.unset else self.initial))

    def add_option(self, label: str, value: str) -> None:
        """Offer one more choice (an imported model, for this session); its label is shown as plain text."""
        self.offer([*self.options, (plain(label), value)])

    def offer(self, options: Sequence[tuple[RenderableType, str]], label: str | None = None) -> None:
        """Offer these choices, under ``label`` when given (the version select follows the engine); nothing to do
        when they are the ones offered."""
        if label is not None and label != self.label:
            self.label = label
            self.label_widget.update(label)
        options = list(options)
        if options == self.options:
            return
        self.options, self.values = options, {value for _, value in options}
        with self.select.prevent(Select.Changed):
            self.select.set_options(self.options)

    def show_value(self, value: str | None) -> None:
        if value is None and self.unset is not None:
            value = self.unset
        wanted = value if value in self.values else Select.NULL
        self.initial = value
        if self.select.value != wanted:
            with self.select.prevent(Select.Changed):
                self.select.value = wanted
