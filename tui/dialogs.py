"""Dialogs (modal screens): save as, open, the keys, the question before quitting with unsaved changes,
import a config.json, the local models, a one-line prompt, and a load test's figures. Each is pushed by the app's screen
stack and dismissed with its answer; untrusted text (paths, names) is shown through tui/safe_text.py.
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
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from .safe_text import plain

if TYPE_CHECKING:
    from napkinmath.core.sources.hf_cache import CachedModel


def profile_file_name(name: str) -> str:
    """A safe file name for a profile name: lowercase words joined by dashes, .toml."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return f"{slug or 'profile'}.toml"


class SaveAsScreen(ModalScreen[Path | None]):
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


class OpenScreen(ModalScreen[Path | None]):
    """Pick a profile: the user's own first, then the shipped examples."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, user_profiles: list[Path], examples: list[Path]) -> None:
        super().__init__()
        self.paths: list[Path] = [*user_profiles, *examples]
        self.user_count = len(user_profiles)

    def compose(self) -> ComposeResult:
        options: list[Option | None] = []
        for index, path in enumerate(self.paths):
            if index == self.user_count and self.user_count:
                options.append(None)
            where = "yours" if index < self.user_count else "example"
            options.append(Option(Text.assemble(plain(path.stem), (f"  {where}", "dim")), id=str(index)))
        with Vertical(classes="dialog"):
            yield Label("Open profile", classes="dialog-title")
            yield OptionList(*options, id="open-list")
            yield Label("Enter opens · Escape cancels", classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.paths[int(str(event.option.id))])

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
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


class LoadTestScreen(ModalScreen[None]):
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


class QuitScreen(ModalScreen[str | None]):
    """Unsaved changes: save first, quit anyway, or stay."""

    BINDINGS = [Binding("s", "choose('save')", "Save"), Binding("q,y", "choose('discard')", "Quit"),
                Binding("escape,n", "choose(None)", "Stay")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Unsaved changes", classes="dialog-title")
            yield Label("s: save, then quit   q: quit without saving   Escape: stay")

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)


class ImportConfigScreen(ModalScreen[Path | None]):
    """Ask for a config.json, a model folder, or a Hub repository (ORG/NAME) to import."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, start: Path) -> None:
        super().__init__()
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Import config.json", classes="dialog-title")
            yield Input(str(self.start), placeholder="path/to/config.json, a model folder, or ORG/NAME",
                        id="import-path")
            yield Label("A folder with *.safetensors, or a Hub repository (ORG/NAME, through huggingface_hub), "
                        "gives the exact weight bytes (headers only).", classes="dialog-hint")
            yield Label("Enter imports · Escape cancels", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(Path(event.value.strip()).expanduser())

    def action_cancel(self) -> None:
        self.dismiss(None)


class LocalModelsScreen(ModalScreen["CachedModel | None"]):
    """The models in the local HuggingFace cache; scanning runs in a worker and never blocks keys."""

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
            yield OptionList(id="models-list")
            yield Label("Enter imports · Escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.run_worker(self._scan, thread=True, exclusive=True)

    def _scan(self) -> None:
        models = self.list_models(self.cache)
        self.app.call_from_thread(self._show, models)

    def _show(self, models: list[CachedModel]) -> None:
        self.models = models
        status = self.query_one("#models-status", Label)
        status.update(plain(f"{len(models)} model(s) with a config.json in {self.cache}" if models else
                            f"No models in {self.cache} (set HF_HUB_CACHE or HF_HOME to look elsewhere)"))
        options = self.query_one("#models-list", OptionList)
        options.add_options([Option(Text.assemble(plain(model.repo_id),
                                                  ("  weights" if model.has_safetensors else "", "dim")),
                                    id=str(index)) for index, model in enumerate(models)])
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.models[int(str(event.option.id))])

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
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
