"""The Open (ctrl+o) and "Compare with…" (F6) dialog: the user's profiles, then the shipped examples.

The list starts on the first entry and filters with ``/`` (tui/filter_list.py). Under it, the
highlighted file's model, GPUs, users, $/user-month and the time it last changed (read and planned
in a worker thread, so a slow or odd file never holds the keys). The user's own profiles can be
renamed (r), duplicated (d; an example is duplicated into the user's folder) and deleted (Delete,
after a y; the file goes to .deleted/); tui/profile_files.py holds the rules that never lose a file.
The screen reports each move (``moved(old, new or None)``) so that the planner follows its file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Static
from textual.worker import get_current_worker

from napkinmath.core.errors import ProfileError

from .filter_list import Entry, FilteredList
from .profile_files import delete_profile, duplicate_profile, preview, rename_profile
from .safe_text import plain
from .stack import Dialog

Moved = Callable[[Path, Path | None], None]
# The dialog's rows besides the list's own: borders, title, the list's frame, preview, a message, keys.
DIALOG_ROWS_BESIDE_LIST = 14


def _entries(user: list[Path], examples: list[Path]) -> list[Entry]:
    entries = []
    for index, path in enumerate([*user, *examples]):
        where = "yours" if index < len(user) else "example"
        entries.append(Entry(str(path), Text.assemble(plain(path.stem), (f"  {where}", "dim")), f"{path.stem} {where}"))
    return entries


class OpenScreen(Dialog[Path | None]):
    """Pick a profile; preview it; rename, duplicate or delete one of the user's own."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("r", "rename", "Rename", show=False),
                Binding("d", "duplicate", "Duplicate", show=False),
                Binding("delete,x", "delete", "Delete", show=False)]
    DEFAULT_CSS = """
    OpenScreen #open-preview { height: 2; color: $text-muted; margin-top: 1; }
    OpenScreen #open-ask { display: none; margin-top: 1; height: auto; }
    OpenScreen #open-question { width: 1fr; }
    OpenScreen #open-ask.-asking { display: block; }
    OpenScreen #open-ask Input { border: none; height: 1; padding: 0 1; }
    OpenScreen #open-said { color: $text-muted; height: auto; }
    OpenScreen #open-said.-problem { color: $error; }
    """

    def __init__(self, user_profiles: list[Path], examples: list[Path], title: str = "Open profile",
                 verb: str = "opens", folder: Path | None = None, moved: Moved | None = None) -> None:
        super().__init__()
        self.user_profiles, self.examples = list(user_profiles), list(examples)
        self.title_text, self.verb = title, verb
        self.folder = folder if folder is not None else (user_profiles[0].parent if user_profiles else None)
        self.moved = moved
        self.asking: str | None = None  # "rename" or "delete" while the line under the list asks

    @property
    def paths(self) -> list[Path]:
        return [*self.user_profiles, *self.examples]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield FilteredList(_entries(self.user_profiles, self.examples), id="open-list")
            yield Static("", id="open-preview")
            with Vertical(id="open-ask"):
                yield Label("", id="open-question")
                yield Input(id="open-answer")
            yield Label("", id="open-said")
            yield Label(f"Enter {self.verb} · Escape cancels\n/ filters · d duplicates · yours: r renames, Del deletes",
                        classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(FilteredList).options.focus()
        self.query_one("#open-said").display = False

    def on_resize(self, event: events.Resize) -> None:
        """The list gives up rows on a short terminal, so that the preview and the keys stay on screen."""
        self.query_one(FilteredList).options.styles.max_height = max(3, min(12, int(event.size.height * 0.9)
                                                                             - DIALOG_ROWS_BESIDE_LIST))

    # ------------------------------------------------------------------ picking and preview
    def on_filtered_list_picked(self, event: FilteredList.Picked) -> None:
        if self.asking is None:
            self.dismiss(Path(event.key))

    def on_filtered_list_highlighted(self, event: FilteredList.Highlighted) -> None:
        self.query_one("#open-preview", Static).update("")
        if event.key is not None:
            path = Path(event.key)
            self.run_worker(lambda: self._preview(path), thread=True, exclusive=True, group="preview")

    def _preview(self, path: Path) -> None:
        lines = preview(path).lines
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_preview, path, lines)

    def _show_preview(self, path: Path, lines: tuple[str, ...]) -> None:
        if not self.gone and self.query_one(FilteredList).highlighted_key == str(path):
            self.query_one("#open-preview", Static).update(plain("\n".join(lines)))

    # ------------------------------------------------------------------ rename, duplicate, delete
    def _highlighted(self) -> Path | None:
        key = self.query_one(FilteredList).highlighted_key
        return Path(key) if key is not None else None

    def _own(self, action: str) -> Path | None:
        """The highlighted file if it is one of the user's own (examples are read-only), else say why not."""
        path = self._highlighted()
        if path is None:
            return None
        if path not in self.user_profiles:
            self._say(f"{path.name} is an example and stays as shipped; d duplicates it into your profiles, "
                      f"and the copy can be {action}d", problem=True)
            return None
        return path

    def action_rename(self) -> None:
        path = self._own("rename")
        if path is not None:
            self._ask("rename", f"Rename {path.name} to (Enter renames, Escape keeps it):", path.stem)

    def action_delete(self) -> None:
        path = self._own("delete")
        if path is not None:
            self._ask("delete", f"Delete {path.name}? It moves to .deleted/ in your profiles folder. "
                      "y and Enter deletes, Escape keeps it:", "")

    def action_duplicate(self) -> None:
        path, folder = self._highlighted(), self.folder
        if path is None or folder is None:
            return
        self._in_worker(lambda: duplicate_profile(path, folder), None)

    def _ask(self, what: str, question: str, value: str) -> None:
        self.asking = what
        self.query_one("#open-question", Label).update(plain(question))
        self.query_one("#open-ask").add_class("-asking")
        self.query_one("#open-preview").display = False  # the question takes its rows
        answer = self.query_one("#open-answer", Input)
        answer.value = value
        answer.focus()

    def _stop_asking(self) -> None:
        self.asking = None
        self.query_one("#open-ask").remove_class("-asking")
        self.query_one("#open-preview").display = True
        self.query_one(FilteredList).options.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "open-answer" or self.asking is None:
            return
        event.stop()
        path, what = self._highlighted(), self.asking
        self._stop_asking()
        if path is None:
            return
        if what == "rename":
            name = event.value
            self._in_worker(lambda: rename_profile(path, name), path)
        elif event.value.strip().lower() in ("y", "yes"):
            self._in_worker(lambda: delete_profile(path), path, deleted=True)

    def _in_worker(self, operation: Callable[[], Path], old: Path | None, deleted: bool = False) -> None:
        """Run a file operation off the UI thread, then show the list again on its result."""
        def work() -> None:
            try:
                result: Path | ProfileError = operation()
            except ProfileError as error:
                result = error
            self.app.call_from_thread(self._done, result, old, deleted)

        self.run_worker(work, thread=True, group="files")

    def _done(self, result: Path | ProfileError, old: Path | None, deleted: bool) -> None:
        if self.gone:
            return
        if isinstance(result, ProfileError):
            self._say(str(result), problem=True)
            return
        self._say("")
        if old is not None:
            self.user_profiles.remove(old)
            if self.moved is not None:
                self.moved(old, None if deleted else result)
        if deleted:
            self._say(f"{old.name if old else ''} moved to {result}")
        else:
            self.user_profiles.append(result)
            self.user_profiles.sort()
        keep = None if deleted else str(result)
        self.query_one(FilteredList).set_entries(_entries(self.user_profiles, self.examples), keep)

    def _say(self, text: str, problem: bool = False) -> None:
        said = self.query_one("#open-said", Label)
        said.update(plain(text))
        said.set_class(problem, "-problem")
        said.display = bool(text)

    def action_cancel(self) -> None:
        if self.asking is not None:
            self._stop_asking()
            return
        self.dismiss(None)
