"""Baseline for bench/tui_latency.py: the smallest Textual app that does what one napkinmath edit does.

One Input (focused, "4096") that Up/Down nudge by 1, and one Static that follows Input.Changed.
Run by hand: python bench/bare_app.py   (Ctrl+Q quits)
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static


class NudgeInput(Input):
    BINDINGS = [Binding("up", "nudge(1)", "+", show=False), Binding("down", "nudge(-1)", "-", show=False)]

    def action_nudge(self, step: int) -> None:
        try:
            self.value = str(int(self.value) + step)
        except ValueError:
            return
        self.cursor_position = len(self.value)


class BareApp(App):
    def compose(self) -> ComposeResult:
        yield NudgeInput(value="4096", id="number")
        yield Static("value: 4096 doubled: 8192", id="out")

    def on_mount(self) -> None:
        self.query_one("#number").focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        try:
            doubled = str(int(event.value) * 2)
        except ValueError:
            doubled = "?"
        self.query_one("#out", Static).update(f"value: {event.value} doubled: {doubled}")


if __name__ == "__main__":
    BareApp().run()
