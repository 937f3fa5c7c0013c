"""A dialog's pick list that starts highlighted and filters with ``/``.

``/`` opens a one-line filter above the list; each keystroke keeps the entries whose text holds every
typed word (case-insensitive), Up/Down move in the list meanwhile, Enter picks the highlighted entry,
Escape closes the filter (the whole list again) without closing the dialog. The list always has an
entry highlighted when it has any, so Enter picks something from the first key on.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option


@dataclass(frozen=True)
class Entry:
    """One pickable line: its id (answered when picked), how it shows, and the text the filter searches."""

    key: str
    shown: Text
    words: str


def matching(entries: list[Entry], typed: str) -> list[Entry]:
    """The entries whose words hold every word typed, in their order."""
    wanted = typed.lower().split()
    return [entry for entry in entries if all(word in entry.words.lower() for word in wanted)]


class FilteredList(Vertical):
    """An OptionList with a ``/`` filter; posts ``Highlighted`` and ``Picked`` with the entry's key."""

    BINDINGS = [Binding("slash", "open_filter", "Filter", show=False),
                Binding("escape", "close_filter", "Close filter", show=False)]
    DEFAULT_CSS = """
    FilteredList { height: auto; }
    FilteredList #filter { display: none; border: none; height: 1; padding: 0 1; }
    FilteredList.-filtering #filter { display: block; }
    FilteredList OptionList { height: auto; max-height: 12; }
    """

    class Highlighted(Message):
        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class Picked(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, entries: list[Entry], id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries = entries
        self.shown: list[Entry] = list(entries)

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter: type words", id="filter")
        yield OptionList(*self._options(self.entries), id="filter-options")

    def on_mount(self) -> None:
        self._highlight_first()

    @staticmethod
    def _options(entries: list[Entry]) -> list[Option]:
        return [Option(entry.shown, id=entry.key) for entry in entries]

    @property
    def options(self) -> OptionList:
        return self.query_one("#filter-options", OptionList)

    @property
    def highlighted_key(self) -> str | None:
        options = self.options
        if options.highlighted is None or not self.shown:
            return None
        return self.shown[options.highlighted].key

    def set_entries(self, entries: list[Entry], keep: str | None = None) -> None:
        """New entries (after a rename or a deletion), the filter kept, ``keep`` highlighted if still there."""
        self.entries = entries
        self._show(self.query_one("#filter", Input).value, keep)

    def _show(self, typed: str, keep: str | None = None) -> None:
        self.shown = matching(self.entries, typed)
        options = self.options
        options.clear_options()
        options.add_options(self._options(self.shown))
        keys = [entry.key for entry in self.shown]
        self._highlight_first(keys.index(keep) if keep in keys else 0)

    def _highlight_first(self, index: int = 0) -> None:
        options = self.options
        options.highlighted = index if self.shown else None
        self.post_message(self.Highlighted(self.highlighted_key))

    # ------------------------------------------------------------------ keys
    def action_open_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#filter", Input).focus()

    def action_close_filter(self) -> None:
        self.remove_class("-filtering")
        keep = self.highlighted_key
        self.query_one("#filter", Input).value = ""
        self._show("", keep)
        self.options.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_filter":  # Escape closes the filter first, and the dialog only when it is closed
            return self.has_class("-filtering")
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            event.stop()
            self._show(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            if self.highlighted_key is not None:
                self.post_message(self.Picked(self.highlighted_key))

    def on_key(self, event: events.Key) -> None:
        """Up and Down in the filter move the list's highlight."""
        if event.key in ("up", "down") and self.query_one("#filter", Input).has_focus:
            event.stop()
            if event.key == "up":
                self.options.action_cursor_up()
            else:
                self.options.action_cursor_down()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(str(event.option.id)))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Picked(str(event.option.id)))
