"""The napkinmath app: themes, settings and the screen stack around the planner screen.

The planner itself is ``MainScreen`` (tui/main_screen.py), driving an ``EditSession``
(tui/session.py). The app registers the themes, keeps the settings, and owns the app-wide keys of
the action table (tui/actions.py): theme and quit. While a dialog or the palette is open the theme key
does nothing here, so the dialog's own keys answer.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import signal
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

from napkinmath.core.profile.schema import Profile
from napkinmath.themes import APP_VARIABLE_DEFAULTS, THEMES

from .actions import ACTION_SCOPES, bindings
from .file_actions import opening_profile
from .main_screen import MainScreen
from .session import EditSession
from .settings import Settings, SettingsStore, load_settings
from .slow_calls import SlowCalls
from .stack import SinglePalette
from .textual_guards import install_guards

install_guards()

ACTIVE_UNDER_DIALOGS = {"quit"}  # app-wide actions that still run while a dialog or the palette is open
ANSI_THEME = "napkin-ansi"  # the theme of the terminal's own 16 colours


class NapkinApp(App[None], inherit_bindings=False):
    """A live what-if planner for serving an LLM."""

    CSS_PATH = "app.tcss"
    TITLE = "napkinmath"
    BINDINGS = bindings("app")  # all of the app's keys (Textual's own ctrl+q and ctrl+c are in the table too)

    def __init__(self, profile: Profile, path: Path | None = None, problem: str | None = None,
                 settings: Settings | None = None, slow: SlowCalls | None = None,
                 after_start: Callable[[], None] | None = None, fit_terminal: bool = False) -> None:
        """``problem``: why the profile asked for could not be opened (said at start); ``slow``: the slow
        calls (tests pass slower ones); ``after_start``: called once the inputs are on screen (the entry
        point freezes the garbage collector's view of them); ``fit_terminal``: take the ANSI theme where the
        terminal shows 16 colours or none (the entry point; tests draw the theme they ask for)."""
        super().__init__()
        self.store = SettingsStore(settings or Settings())
        self.problem = problem
        self._main = MainScreen(EditSession(profile, path), slow or SlowCalls(), self.store, after_start)
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = self.store.settings.theme
        self.theme_note = ""  # why the theme is not the one remembered (said once the screen is up)
        few_colours = self.console.color_system in (None, "standard", "windows")
        if fit_terminal and (few_colours or self.no_color) and self.theme != ANSI_THEME:
            # 16 colours turn the dark theme's VRAM segments into one white; NO_COLOR leaves only the glyphs.
            # For this run only: the remembered theme is kept for a terminal with more colours.
            self.theme = ANSI_THEME
            self.theme_note = ("NO_COLOR is set" if self.no_color else "a 16-colour terminal") + \
                ": the ANSI theme (F3 picks another)"
        self.deepest_stack = 1
        self.screens_shown: set[str] = set()

    @property
    def main(self) -> MainScreen:
        """The planner screen (always at the bottom of the screen stack)."""
        return self._main

    def get_default_screen(self) -> Screen[None]:
        return self._main

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(APP_VARIABLE_DEFAULTS)

    def on_mount(self) -> None:
        if self.theme_note:
            self._main.say(self.theme_note, timeout=4)
        if self.problem:
            self._main.say(self.problem, title="Could not open the profile", severity="error", timeout=12)

    async def run_action(self, action: str | ActionParseResult, default_namespace: DOMNode | None = None,
                         namespaces: Mapping[str, DOMNode] | None = None) -> bool:
        """Every key's and the palette's action sees what is typed: text waiting for a pause is applied first.
        No action once the app is quitting: keys typed while its screens are being removed ran bindings whose
        widgets were gone (undo, the palette's Down: NoMatches, found by scripts/key_fuzz.py)."""
        if self._exit:
            return False
        self._main.apply_typing()
        return await super().run_action(action, default_namespace, namespaces)

    def action_command_palette(self) -> None:
        """ctrl+p: the palette, over the planner only (never over a dialog or another palette: tui/stack.py)."""
        if self.use_command_palette and self.screen is self._main:
            self.push_screen(SinglePalette())  # no fixed id: one still being removed would clash (DuplicateIds)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Of Textual's system commands only Quit: its Theme opens a second, unguarded palette (the planner's
        palette has "Theme: ..." entries that are also remembered), Screenshot writes files in the working
        folder, and Keys/Maximize change a layout F1 and the panes already cover (tui/stack.py)."""
        yield SystemCommand("Quit", "Quit (asks if anything is unsaved)", self.action_quit)

    def push_screen(self, *args: Any, **kwargs: Any) -> Any:
        """Textual's, counting the deepest stack reached (``deepest_stack``; scripts/key_fuzz.py reads it)."""
        pushed = super().push_screen(*args, **kwargs)
        self.deepest_stack = max(self.deepest_stack, len(self.screen_stack))
        self.screens_shown.add(type(self.screen).__name__)
        return pushed

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """App-wide keys wait while a dialog or the palette is open (their own keys answer instead)."""
        if ACTION_SCOPES.get(action) == "app" and action not in ACTIVE_UNDER_DIALOGS:
            return not isinstance(self.screen, ModalScreen)
        return True

    def action_set_theme(self, name: str) -> None:
        """Switch to a theme and remember it (the palette's "Theme: ..." entries)."""
        self.theme = name
        self.store.remember(theme=name)

    def action_next_theme(self) -> None:
        names = [theme.name for theme in THEMES]
        following = names[(names.index(self.theme) + 1) % len(names)] if self.theme in names else names[0]
        self.action_set_theme(following)
        self._main.say(f"Theme: {following}", timeout=2)

    async def action_quit(self) -> None:
        """Quit, asking first when anything is unsaved."""
        self._main.request_quit()


def run_app(path: str | None) -> int:
    """Start the app on ``path``, the last profile used, or the default (the ``napkin`` command)."""
    settings = load_settings()
    profile, opened, problem = opening_profile(path, settings)
    # Everything built at start-up lives as long as the app: once the inputs are on screen, keep it out
    # of the cyclic collector's full passes, which otherwise walk every widget (about 90 ms, a few times
    # a minute while typing), and turn the collector back on (cli/main.py turned it off for the start).
    # Once, here at the entry point: not in every app a test creates.
    app = NapkinApp(profile, opened, problem, settings, after_start=_collect_from_now, fit_terminal=True)
    _dump_stacks_on_request()
    try:
        app.run()
    finally:
        _record_screens(app.deepest_stack, app.screens_shown)
    return app.return_code or 0  # Textual sets 1 when the app ended on an unhandled exception


def _dump_stacks_on_request() -> None:
    """For scripts/key_fuzz.py: with $NAPKIN_SCREEN_LOG set, SIGUSR1 writes every thread's stack beside it
    (a run that stops answering keys says where it waits)."""
    log = os.environ.get("NAPKIN_SCREEN_LOG")
    if log and hasattr(faulthandler, "register"):
        try:
            faulthandler.register(signal.SIGUSR1, file=open(f"{log}.stacks", "a"), all_threads=True)  # noqa: SIM115
        except (OSError, ValueError):
            pass


def _record_screens(depth: int, shown: set[str]) -> None:
    """For scripts/key_fuzz.py: append the deepest screen stack of this run and the screens it showed to
    $NAPKIN_SCREEN_LOG, if set (one line: the depth, then the screen classes)."""
    log = os.environ.get("NAPKIN_SCREEN_LOG")
    if log:
        try:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{depth} {','.join(sorted(shown))}\n")
        except OSError:
            pass


def _collect_from_now() -> None:
    gc.freeze()
    gc.enable()
