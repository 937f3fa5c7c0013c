"""File operations of the planner: open, save, save as, export, the question before quitting, and the
profile to start on. The last file used is remembered in the settings (tui/settings.py).
"""

from __future__ import annotations

# The dialogs are imported where they are opened: not before the first plan is on screen (bench/tui_cpu.py).
import os
from collections.abc import Callable
from pathlib import Path

from napkinmath.core.errors import ProfileError
from napkinmath.core.profile.files import load_profile, save_profile, write_text_atomically
from napkinmath.core.profile.paths import (
    DEFAULT_PROFILE,
    napkin_home,
    shipped_profile,
    shipped_profiles,
    user_profiles_dir,
)
from napkinmath.core.profile.schema import Profile

from .base_screen import PlannerBase
from .settings import Settings
from .stack import open_after_closing

EXPORT_SUFFIXES = {"markdown": ".md", "vllm": ".sh"}


def opening_profile(path: str | None, settings: Settings) -> tuple[Profile, Path | None, str | None]:
    """The profile to start on: the file given, else the last one used, else the default; and why not, if it failed."""
    candidates: list[tuple[Path, bool]] = []
    if path is not None:
        candidates.append((Path(path), True))
    elif settings.last_profile:
        candidates.append((Path(settings.last_profile), False))
    for candidate, asked in candidates:
        try:
            return load_profile(candidate), candidate, None
        except ProfileError as error:
            if asked:
                default = load_profile(shipped_profile(DEFAULT_PROFILE))
                return default, None, f"{error} Opened the default profile instead."
    return load_profile(shipped_profile(DEFAULT_PROFILE)), shipped_profile(DEFAULT_PROFILE), None


def user_profile_files() -> list[Path]:
    """The user's own profiles, by name."""
    folder = user_profiles_dir()
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def writable_path(path: Path | None) -> Path | None:
    """Where ctrl+s may write without asking: the file opened, unless it is a shipped example."""
    if path is None:
        return None
    examples = {example.resolve() for example in shipped_profiles()}
    return None if path.resolve() in examples else path


def export_path(profile: Profile, kind: str) -> Path:
    """Where an export of ``kind`` ("markdown" or "vllm") is written: $NAPKIN_HOME/exports/<profile>.md|.sh"""
    from .dialogs import profile_file_name
    return napkin_home() / "exports" / (profile_file_name(profile.name).removesuffix(".toml") + EXPORT_SUFFIXES[kind])


class FileActions(PlannerBase):
    """Open, save, export and quit (palette and keys)."""

    def action_open(self) -> None:
        from .open_dialog import OpenScreen
        self.open_dialog(OpenScreen(user_profile_files(), shipped_profiles(), folder=user_profiles_dir(),
                                        moved=self.file_moved), self.open_profile)

    def open_profile(self, path: Path | None) -> None:
        """Open ``path``; with unsaved changes, ask first as quitting does (save, open anyway, or stay). The file
        is read in a worker: a file on a slow disk, or a FIFO, never holds the screen."""
        if path is None:
            return
        self.run_slow("open", f"Opening {path.name}", lambda: self.slow.load_profile(path),
                      lambda profile: self._open_read(profile, path), "Could not open")

    def _open_read(self, profile: Profile, path: Path) -> None:
        def opened() -> None:
            self.session.opened(profile, path)
            self.show_session(force=True)
            self.settings.remember(last_profile=str(path))

        if not self.session.dirty:
            opened()
            return

        def chosen(choice: str | None) -> None:
            if choice == "save":
                self.action_save(after=opened)
            elif choice == "discard":
                opened()

        from .dialogs import QuitScreen
        self.open_dialog(QuitScreen("open", path.name), chosen)

    def action_save(self, then_quit: bool = False, after: Callable[[], None] | None = None) -> None:
        """Save (ctrl+s); then quit, or run ``after`` (open the file picked), once it is saved."""
        path = writable_path(self.session.path)
        if path is None:
            self.action_save_as(then_quit, after)
        else:
            self.save_to(path, then_quit, after)

    def action_save_as(self, then_quit: bool = False, after: Callable[[], None] | None = None,
                       suggested: str | None = None) -> None:
        """Ask a name; a different profile that already has it is replaced only after asking (save as, the
        save before quitting or opening alike); "keep it" asks the name again."""

        def replace_or_rename(path: Path, replace: bool | None) -> None:
            if replace:
                self.save_to(path, then_quit, after)
            else:
                self.action_save_as(then_quit, after, path.stem)

        def saved(path: Path | None) -> None:
            if path is None:
                return
            if self.is_other_profile(path):
                from .dialogs import ReplaceScreen
                self.open_dialog(ReplaceScreen(path), lambda replace: replace_or_rename(path, replace))
            else:
                self.save_to(path, then_quit, after)

        from .dialogs import SaveAsScreen, profile_file_name

        name = suggested or profile_file_name(self.session.profile.name).removesuffix(".toml")
        self.open_dialog(SaveAsScreen(user_profiles_dir(), name), saved)

    def is_other_profile(self, path: Path) -> bool:
        """Whether saving to ``path`` would replace a file other than the one this session came from."""
        try:
            if not os.path.lexists(path):
                return False
            current = self.session.path
            return current is None or not path.resolve() == current.resolve()
        except (OSError, RuntimeError):  # a symlink loop: ask (the save will say what is wrong)
            return True

    def save_to(self, path: Path, then_quit: bool = False, after: Callable[[], None] | None = None) -> None:
        try:
            save_profile(self.session.profile, path)
        except ProfileError as error:
            self.say(str(error), title="Not saved", severity="error", timeout=10)
            return
        self.session.saved(path)
        self.show_session()
        self.settings.remember(last_profile=str(path))
        note = " (the refused fields keep their last good values)" if self.session.stale else ""
        self.say(f"Saved to {path}{note}", timeout=4)
        if then_quit:
            self.app.exit()
        elif after is not None:
            after()

    def action_export(self, kind: str) -> None:
        """Copy the Markdown report or the vllm serve command (OSC 52, where the terminal allows it) and
        write it to a file as well, since an app cannot tell whether the terminal honoured the copy."""
        from napkinmath.core.report.markdown import plan_markdown, vllm_command

        profile, result = self.session.profile, self.session.plan
        text = plan_markdown(profile, result) if kind == "markdown" else vllm_command(profile, result)
        path = export_path(profile, kind)
        self.app.copy_to_clipboard(text)
        try:
            write_text_atomically(path, text + "\n")
        except OSError as error:
            self.say(f"Copied to the clipboard; writing {path} failed ({error.strerror or error})", severity="warning")
            return
        self.say(f"Copied to the clipboard (OSC 52) and written to {path}", title="Exported", timeout=6)

    def request_quit(self) -> None:
        """Quit at once when nothing is unsaved; else ask: save first, quit anyway, or stay."""
        if not self.session.dirty:
            self.app.exit()
            return

        def chosen(choice: str | None) -> None:
            if choice == "save":
                self.action_save(then_quit=True)
            elif choice == "discard":
                self.app.exit()

        from .dialogs import QuitScreen

        if isinstance(self.app.screen, QuitScreen):
            return  # asking already
        open_after_closing(self, QuitScreen(), chosen)  # ctrl+q over a dialog, a chart or the palette: close, ask
