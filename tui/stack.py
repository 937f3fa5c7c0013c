"""One screen at a time: the planner, at most one dialog (or analysis screen) over it, and the palette.

Fast keys race the screen stack (issue 16, found by scripts/key_fuzz.py through a real terminal):

* **A screen answers once.** A double Enter, or Enter and Escape in one burst, reach a dialog twice
  before it is gone; Textual's ``Screen.dismiss`` would then set its result future twice
  (``InvalidStateError``) and pop whatever screen is on top, down to the planner
  (``ScreenStackError``). ``Dialog`` and ``Page`` dismiss only while they are the top screen, once.
* **Nothing opens over a dialog.** The planner's keys do not fire under a dialog (its bindings are not
  in the dialog's chain), but a palette command or a worker's result can still ask for a screen while
  one is open; ``open_over`` pushes only when the planner itself is the top screen, so a screen is
  never pushed twice and dialogs never stack. ``open_after_closing`` closes what is open and then pushes
  (ctrl+q over a dialog asks at once): Textual defers the pop, so the push waits behind it.
* **The palette opens over the planner only**, and answers once too (``SinglePalette``): ctrl+p while a
  dialog or a palette is already open does nothing, so two palettes never exist
  (``DuplicateIds: '--command-palette'``). Textual's own system commands that open a second kind of
  palette (``Theme``) or write files (``Screenshot``) are left out of it (``NapkinApp.get_system_commands``);
  the planner's palette has its own theme entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual import on, work
from textual.await_complete import AwaitComplete
from textual.command import CommandList, CommandPalette
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, OptionList

from .textual_guards import being_removed

T = TypeVar("T")


def _has_left(screen: Screen[Any]) -> bool:
    """Whether ``screen`` has dismissed itself already."""
    return bool(getattr(screen, "_napkin_left", False))


def _already_left(screen: Screen[Any]) -> bool:
    """Whether ``screen`` has dismissed itself already or is not the top screen (someone else is)."""
    return _has_left(screen) or screen.app.screen is not screen


def _gone(screen: Screen[Any]) -> bool:
    """Dismissed already, or no longer mounted: a worker's late result must not touch its widgets."""
    return _has_left(screen) or not screen.is_attached


def _nothing() -> AwaitComplete:
    return AwaitComplete()  # a finished awaitable: what dismiss returns when there is nothing to do


def _leave_once(screen: Screen[Any], dismiss: Callable[[Any], AwaitComplete], result: Any) -> AwaitComplete:
    """``dismiss(result)`` once, and only while ``screen`` is the top screen; a finished awaitable otherwise.
    A helper both ``Dialog`` and ``Page`` call rather than a shared base class: Textual collects
    ``DEFAULT_CSS`` along the first-base chain, so a ``Screen`` base placed before ``ModalScreen`` would drop
    the modal's CSS (the help screen's snapshot changed)."""
    if _already_left(screen):
        return _nothing()
    screen._napkin_left = True  # type: ignore[attr-defined]
    return dismiss(result)


class Dialog(ModalScreen[T]):
    """A modal dialog that dismisses once, and only while it is the top screen. ``leaving``: dismissed
    already (a worker's late result must not touch its widgets, being removed)."""

    @property
    def leaving(self) -> bool:
        return _has_left(self)

    @property
    def gone(self) -> bool:
        """Dismissed, or no longer mounted: what a worker's callback checks before touching widgets."""
        return _gone(self)

    def dismiss(self, result: T | None = None) -> AwaitComplete:
        return _leave_once(self, super().dismiss, result)


class Page(Screen[T]):
    """A full screen over the planner (charts, compare, recommend) that leaves once, like ``Dialog``.
    ``leaving``: dismissed already (a worker's late result must not touch its widgets, being removed)."""

    @property
    def leaving(self) -> bool:
        return _has_left(self)

    @property
    def gone(self) -> bool:
        """Dismissed, or no longer mounted: what a worker's callback checks before touching widgets."""
        return _gone(self)

    def dismiss(self, result: T | None = None) -> AwaitComplete:
        return _leave_once(self, super().dismiss, result)

    def action_back(self) -> None:
        """Escape: back to the planner (a second Escape in the same burst does nothing)."""
        self.dismiss(None)


_TEXTUALS_SEARCH = CommandPalette._gather_commands.__wrapped__  # type: ignore[attr-defined]  # under @work


class SinglePalette(CommandPalette):
    """Textual's command palette, leaving once (a double Enter or Enter + Escape in one burst), and whose
    search stops when it leaves: Textual 8.2.8 lets a search start or refresh the list of a palette being
    removed, which then fails on the missing CommandList (``NoMatches``)."""

    def dismiss(self, result: None = None) -> AwaitComplete:
        return _leave_once(self, self._stop_and_dismiss, result)

    def _stop_and_dismiss(self, result: None) -> AwaitComplete:
        self._cancel_gather_commands()
        self._stop_no_matches_countdown()
        return super().dismiss(result)

    # Once dismissed, the palette's children are being removed while keys, timers and messages queued to it
    # still arrive (a burst: Enter, then Down or PageDown); each of Textual's handlers looks up its
    # CommandList and would fail (NoMatches). A leaving palette does nothing.
    # A palette being removed without a dismiss (the app quitting: the 80x24 and 120x36 fuzz runs, Down or
    # PageDown at the end: NoMatches CommandList in _action_command_list) has no list either.
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.leaving or being_removed(self) or not self.is_attached or not self.query(CommandList):
            return False
        return super().check_action(action, parameters)

    @on(Input.Submitted)
    @on(OptionList.OptionSelected)
    def _nothing_when_leaving(self, event: Input.Submitted | OptionList.OptionSelected) -> None:
        if self.leaving:
            event.prevent_default()
            event.stop()

    def _start_no_matches_countdown(self, search_value: str) -> None:
        if not self.leaving:
            super()._start_no_matches_countdown(search_value)

    async def _watch__show_busy(self) -> None:
        if _gone(self):
            return
        try:
            await super()._watch__show_busy()
        except NoMatches:  # removed between the check and the query
            return

    @property
    def leaving(self) -> bool:
        return _has_left(self)

    @work(exclusive=True, group=CommandPalette._GATHER_COMMANDS_GROUP)
    async def _gather_commands(self, search_value: str) -> None:
        """Textual's search, skipped when the palette is leaving: a search queued before the palette was
        dismissed still starts afterwards (Textual 8.2.8 starts a worker even if it was cancelled while
        pending), and its first step looks up the CommandList that is being removed."""
        if self.leaving or not self.query(CommandList):
            return
        try:
            await _TEXTUALS_SEARCH(self, search_value)
        except NoMatches:
            if self.is_attached and not self.leaving:
                raise  # not the race: a real fault, let it show

    @on(Input.Changed)
    def _no_search_when_leaving(self, event: Input.Changed) -> None:
        """Selecting a command writes it into the input, and that change arrives after the palette has been
        dismissed: Textual would start a search on the closing palette, whose list is gone (``NoMatches:
        CommandList`` from its worker). Handled here first (subclass handlers run first), and stopped."""
        if self.leaving:
            event.prevent_default()
            event.stop()

    def _watch__list_visible(self) -> None:
        if _gone(self):
            return  # leaving: the list may be gone already, and nobody will see it
        try:
            super()._watch__list_visible()
        except NoMatches:  # removed between the check and the query (the worker runs on its own timer)
            return


def open_over(planner: Screen[Any], screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> bool:
    """Push ``screen`` over ``planner`` if the planner is the top screen; False (and nothing pushed) when a
    dialog, an analysis screen or the palette is open."""
    if planner.app.screen is not planner:
        return False
    planner.app.push_screen(screen, callback)
    return True


def open_after_closing(planner: Screen[Any], screen: Screen[Any],
                       callback: Callable[[Any], None] | None = None) -> None:
    """Close whatever is over ``planner`` (a dialog, an analysis screen, the palette), then push ``screen`` over
    it. Textual pops in a later callback (``pop_until_active``), so pushing right after it found the closing
    screen still on top and pushed nothing (ctrl+q over a dialog closed it without asking); the push is
    queued behind the pops instead, and ``open_over`` still refuses it if something else opened meanwhile."""
    if planner.app.screen is planner:
        open_over(planner, screen, callback)
        return
    planner.pop_until_active()
    planner.app.call_later(open_over, planner, screen, callback)
