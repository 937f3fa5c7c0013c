"""What the planner screen's parts share: the edit session, the slow calls, the settings, safe notices,
a way to run slow work in a worker with a busy line, and the one call that shows the session again.

The main screen (tui/main_screen.py) is assembled from parts that each add one group of actions
(tui/file_actions.py, tui/discovery.py, tui/analysis_actions.py); they all derive from
``PlannerBase`` and use only its public members, never each other's internals.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Label, LoadingIndicator
from textual.worker import get_current_worker

from napkinmath.core.errors import ProfileError
from napkinmath.core.profile.schema import Profile

from .safe_text import plain, printable
from .session import EditSession
from .settings import SettingsStore
from .slow_calls import SlowCalls
from .stack import open_over

T = TypeVar("T")


class BusyLine(Horizontal):
    """A spinner and what is running, shown at the bottom while slow work runs in a worker."""

    DEFAULT_CSS = """
    BusyLine { dock: bottom; height: 1; margin-bottom: 1; background: $panel; }  /* above the footer */
    BusyLine LoadingIndicator { width: 8; height: 1; min-height: 1; background: $panel; }
    BusyLine Label { width: 1fr; color: $text-muted; }
    """

    def __init__(self, doing: str) -> None:
        super().__init__(id="busy")
        self.text = Label(plain(doing), id="busy-text")

    def compose(self) -> ComposeResult:
        yield LoadingIndicator()
        yield self.text

    def show(self, doing: str) -> None:
        self.text.update(plain(doing))


class PlannerBase(Screen[None]):
    """The planner screen's shared base (see the module docstring)."""

    def __init__(self, session: EditSession, slow: SlowCalls, settings: SettingsStore) -> None:
        super().__init__()
        self.session = session
        self.slow = slow
        self.settings = settings
        self.busy: dict[str, str] = {}  # worker group -> what it is doing, while it runs

    def show_session(self, force: bool = False) -> None:
        """Show what the session holds (plan, fields, title). ``force``: a whole new profile, so even the
        field being typed in and the refused ones show the profile's values."""
        raise NotImplementedError

    def say(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
            timeout: float | None = None) -> None:
        """A notice. The message and title are shown as plain text (they may quote file names, model
        names or tool output): never parsed as markup, control characters made visible."""
        self.app.notify(printable(message), title=printable(title), severity=severity, timeout=timeout, markup=False)

    def open_dialog(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> bool:
        """Push a dialog or an analysis screen over the planner, only while the planner is the top screen
        (one screen at a time: tui/stack.py); False when something is open already."""
        return open_over(self, screen, callback)

    def file_moved(self, old: Path, new: Path | None) -> None:
        """The Open dialog renamed (``new``) or deleted (None) a file: the planner follows the one it edits."""
        if self.session.path is not None and self.session.path == old:
            self.session.path = new
            if new is None:
                self.session.dirty = True  # only on screen now: saving asks for a name, quitting asks first
            self.show_session()
        if self.settings.settings.last_profile == str(old):
            self.settings.remember(last_profile=str(new) if new else "")

    def replace_profile(self, profile: Profile, dirty: bool = True) -> None:
        """A whole new profile (a calibration, a recommended deployment): undoable with ctrl+z."""
        self.session.replace(profile, dirty=dirty)
        self.show_session(force=True)

    def load_section(self, section: str, fields: dict[str, Any], session_preset: str | None = None) -> bool:
        """Replace [hardware] or [model] whole; False (after saying why) when the core refuses it."""
        refused = self.session.load_section(section, fields, session_preset)
        if refused is not None:
            self.say(refused, title="Not applied", severity="error", timeout=12)
            return False
        self.show_session(force=True)
        return True

    # ------------------------------------------------------------------ slow work
    def run_slow(self, group: str, doing: str, call: Callable[[], T], done: Callable[[T], None],
                 refused_title: str, failed: Callable[[str], bool] | None = None) -> None:
        """Run ``call`` in a worker thread (one per ``group``: a new one supersedes a running one) while
        the busy line says ``doing``; then ``done(result)`` on the UI thread, or the core's refusal as
        a notice titled ``refused_title`` (unless ``failed(reason)`` shows it and says True). The screen
        keeps answering keys meanwhile."""

        def finish(result: T | ProfileError) -> None:
            self.busy.pop(group, None)
            self._show_busy()
            if isinstance(result, ProfileError):
                if failed is None or not failed(str(result)):
                    self.say(str(result), title=refused_title, severity="error", timeout=12)
            else:
                done(result)

        def work() -> None:
            result: T | ProfileError
            try:
                result = call()
            except ProfileError as error:
                result = error
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(finish, result)

        self.busy[group] = doing
        self._show_busy()
        self.run_worker(work, name=group, group=group, thread=True, exclusive=True)

    def _show_busy(self) -> None:
        lines = self.query(BusyLine)
        if not self.busy:
            for line in lines:
                line.display = False
            return
        doing = "   ".join(f"{text}…" for text in self.busy.values())
        if lines:
            lines.first().display = True
            lines.first().show(doing)
        else:
            self.mount(BusyLine(doing))  # mounted on first use: nothing to build at start-up
