"""Dialogs (modal screens): save as, the keys, the question before quitting or opening with unsaved
changes, import a config.json, the local models, a one-line prompt, and a load test's figures (Open is
tui/open_dialog.py). Each is pushed by the app's screen stack and dismissed with its answer; untrusted
text (paths, names) is shown through tui/safe_text.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Label, Static
from textual.worker import get_current_worker

from .filter_list import Entry, FilteredList
from .safe_text import plain
from .stack import Dialog

if TYPE_CHECKING:
    from napkinmath.core.sources.hf_cache import CachedModel


def profile_file_name(name: str) -> str:
    """A safe file name for a profile name: lowercase words joined by dashes, .toml."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return f"{slug or 'profile'}.toml"


class SaveAsScreen(Dialog[Path | None]):
    """Ask a profile name; dismiss with the path to save to (in the user's profile folder)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, folder: Path, suggested: str) -> None:
        super().__init__()
        self.folder = folder
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Save profile as", classes="dialog-title")
            yield Input(self.suggested, placeholder="a name, e.g. llama-70b-h100", id="save-name")
            yield Label(plain(f"in {self.folder}"), classes="dialog-hint", id="save-hint")
            yield Label("Enter saves · Escape cancels", classes="dialog-hint")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#save-hint", Label).update(plain(f"as {self.folder / profile_file_name(event.value)}"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(self.folder / profile_file_name(event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(Dialog[None]):
    """Every key of the app, from the action table (tui/actions.py, ``help_rows``). Taller than 80x24: the
    list scrolls, with its scrollbar shown and the keys that scroll it named."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close")]
    DEFAULT_CSS = """
    HelpScreen #help-scroll { height: auto; max-height: 60vh; scrollbar-size-vertical: 1; }
    """

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        width = max(len(key) for key, _ in self.keys) + 2
        listing = Text("\n").join(Text.assemble((key.ljust(width), "bold"), description)
                                   for key, description in self.keys)
        with Vertical(classes="dialog"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(listing, id="help-keys")
            yield Label("Escape closes · Up/Down, PgUp/PgDn scroll", classes="dialog-hint", id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)


class LoadTestScreen(Dialog[None]):
    """What a closed-loop load test would measure (core/tools/loadtest_view.py's lines, shown as text)."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close")]

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Load test", classes="dialog-title")
            yield Static(plain("\n".join(self.lines)), id="load-test-figures")
            yield Label("Escape closes", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)


class QuitScreen(Dialog[str | None]):
    """Unsaved changes: save first, go on anyway (quit, or open another file), or stay."""

    BINDINGS = [Binding("s", "choose('save')", "Save"), Binding("y", "choose('discard')", "Go on"),
                Binding("q", "go_on('quit')", "Quit"), Binding("o", "go_on('open')", "Open"),
                Binding("escape,n", "choose(None)", "Stay")]

    def __init__(self, doing: str = "quit", opening: str = "") -> None:
        super().__init__()
        self.doing, self.opening = doing, opening  # "quit" or "open"; the file about to be opened

    def compose(self) -> ComposeResult:
        key = self.doing[0]
        with Vertical(classes="dialog"):
            yield Label("Unsaved changes", classes="dialog-title")
            if self.opening:
                yield Label(plain(f"Opening {self.opening} replaces the profile you have edited."))
            yield Label(f"s: save, then {self.doing}   {key}: {self.doing} without saving   Escape: stay")

    def action_go_on(self, doing: str) -> None:
        """q quits from the question before quitting, o opens from the one before opening."""
        if doing == self.doing:
            self.dismiss("discard")

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)


class ReplaceScreen(Dialog[bool]):
    """Another profile already has this name: replace it, or keep it (and go back to naming)."""

    BINDINGS = [Binding("y", "choose(True)", "Replace"), Binding("escape,n", "choose(False)", "Keep")]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Replace the existing profile?", classes="dialog-title")
            yield Label(plain(f"{self.path} exists and is another profile."), classes="dialog-hint")
            yield Label("y: replace it   n / Escape: keep it", classes="dialog-hint")

    def action_choose(self, replace: bool) -> None:
        self.dismiss(replace)


class ImportConfigScreen(Dialog[str | None]):
    """Ask for a config.json, a model folder, or a Hub repository (ORG/NAME) to import. Tab completes a
    path (the folder is listed in a worker); ``problem``: why the last try failed, shown over the text kept."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("tab", "complete", "Complete", priority=True)]
    DEFAULT_CSS = """
    ImportConfigScreen .dialog-hint, ImportConfigScreen #import-problem { width: 1fr; }
    """

    def __init__(self, start: str, problem: str = "") -> None:
        super().__init__()
        self.start, self.problem = start, problem

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Import config.json", classes="dialog-title")
            yield Input(self.start, placeholder="path/to/config.json, a model folder, or ORG/NAME",
                        id="import-path")
            yield Label(plain(f"Not imported: {self.problem}"), id="import-problem", classes="field-error")
            yield Label("", id="import-choices", classes="dialog-hint")
            yield Label("A folder with *.safetensors, or a Hub repository (ORG/NAME, through huggingface_hub), "
                        "gives the exact weight bytes (headers only).", classes="dialog-hint")
            yield Label("Enter imports · Tab completes a path · Escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#import-problem").display = bool(self.problem)
        self.query_one("#import-choices").display = False

    def action_complete(self) -> None:
        from .path_complete import complete_path

        typed = self.query_one("#import-path", Input).value

        def work() -> None:
            completion = complete_path(typed)
            self.app.call_from_thread(self._completed, typed, completion.text, completion.choices)

        self.run_worker(work, thread=True, exclusive=True, group="complete")

    def _completed(self, typed: str, text: str, choices: tuple[str, ...]) -> None:
        if self.gone:  # dismissed meanwhile: its widgets are being removed
            return
        field = self.query_one("#import-path", Input)
        if field.value != typed:  # typed on meanwhile: that text wins
            return
        field.value = text
        field.cursor_position = len(text)
        shown = self.query_one("#import-choices", Label)
        shown.display = len(choices) > 1
        more = f"  (+{len(choices) - 12} more)" if len(choices) > 12 else ""
        shown.update(plain("  ".join(choices[:12]) + more))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class LocalModelsScreen(Dialog["CachedModel | None"]):
    """The models in the local HuggingFace cache; scanning runs in a worker and never blocks keys. The list
    starts on its first model and filters with / (tui/filter_list.py)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, cache: Path, list_models: Callable[[Path], list[CachedModel]]) -> None:
        super().__init__()
        self.cache = cache
        self.list_models = list_models
        self.models: list[CachedModel] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Local models", classes="dialog-title")
            yield Label(plain(f"Scanning {self.cache}…"), id="models-status", classes="dialog-hint")
            yield FilteredList([], id="models-list")
            yield Label("Enter imports · / filters · Escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.run_worker(self._scan, thread=True, exclusive=True)

    def _scan(self) -> None:
        models = self.list_models(self.cache)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, models)

    def _show(self, models: list[CachedModel]) -> None:
        if self.gone:  # Escape while the scan ran
            return
        self.models = models
        status = self.query_one("#models-status", Label)
        status.update(plain(f"{len(models)} model(s) with a config.json in {self.cache}" if models else
                            f"No models in {self.cache} (set HF_HUB_CACHE or HF_HOME to look elsewhere)"))
        listing = self.query_one(FilteredList)
        listing.set_entries([Entry(str(index), Text.assemble(plain(model.repo_id),
                                                             ("  weights" if model.has_safetensors else "", "dim")),
                                   model.repo_id) for index, model in enumerate(models)])
        listing.options.focus()

    def on_filtered_list_picked(self, event: FilteredList.Picked) -> None:
        self.dismiss(self.models[int(event.key)])

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptScreen(Dialog[str | None]):
    """Ask for one line of text (a path, a measurement)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str, hint: str, value: str = "") -> None:
        super().__init__()
        self.title_text, self.placeholder, self.hint, self.value = title, placeholder, hint, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label(self.hint, classes="dialog-hint")
            yield Label("Enter applies · Escape cancels", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
