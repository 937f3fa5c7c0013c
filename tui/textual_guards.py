"""Narrow guards for faults in Textual itself (pinned: textual==8.2.8, the newest release when this was
written), each replayed by a test in tests/test_tui_hostile.py. Remove a guard once a release fixes it.

* ``OptionList._move_page`` (PageUp/PageDown) reads ``_index_to_line[highlighted]``, which stays empty
  until the list has been laid out (``_update_lines`` returns early without a content region). PageDown
  in the same burst as the key that opened a list (ctrl+p then PageDown: the palette's CommandList; a
  Select's overlay) raised ``KeyError: 0`` and ended the app. Guarded: before the list has lines there
  is no page to move by, so the key does nothing. (The same KeyError was reported against SelectOverlay
  in kagan-sh/kagan-legacy#31.)
* **Mount after removal.** A widget removed before its message loop started (a dialog pushed and popped
  in one burst: ctrl+o then ctrl+q with unsaved changes) is marked ``_pruning``, and its compose then
  mounts nothing (``Widget.mount`` returns early while pruning); when the app is quitting (ctrl+o then
  ctrl+q) nothing is attached any more and compose mounts nothing either. In both cases ``Mount`` and
  ``Resize`` are still dispatched, and every handler that looks up the widget's own children (the
  documented pattern) raised ``NoMatches`` and ended the app (the Open dialog's ``on_mount``, found by
  scripts/key_fuzz.py at 80x24; its FilteredList's too). Guarded: a widget being removed, or no longer
  attached, gets no ``Mount`` or ``Resize`` handlers; nobody will see it.
* **Watchers of removed widgets are never dropped** (Textualize/textual#6666, open). ``data_bind`` stores
  ``(widget, setter)`` on the bound object's watcher list, which Textual prunes only when the watched
  value changes. The Footer re-composes its keys on every focus change, each key bound to the footer's
  ``compact``, which never changes: the list grew by one removed key per footer key per focus change
  (5,226 entries after 200 Tabs at 80x24, every removed key kept alive), and each new binding scans the
  whole list (``_watch``), so every key got slower until the app stopped answering (the 80x24 fuzz run
  could not quit it in 6 s; its stack was in that scan). Guarded: before a node
  starts watching, the watcher list loses the entries of nodes that are closing, as Textual's own
  pruning does when the value changes.
"""

from __future__ import annotations

from typing import Any

import textual.dom
from textual import events
from textual.message_pump import MessagePump
from textual.widgets import OptionList

_installed = False
_NOT_FOR_REMOVED = (events.Mount, events.Resize)  # events whose handlers assume the composed children


def install_guards() -> None:
    """Install the guards once (the app module calls this at import)."""
    global _installed
    if _installed:
        return
    _installed = True
    _guard_move_page()
    _guard_mount_after_removal()
    _guard_watcher_leak()


def _guard_move_page() -> None:
    original = OptionList._move_page

    def move_page(self: OptionList, direction: Any) -> None:
        if (self.highlighted or 0) not in self._index_to_line:  # not laid out yet: nothing to page through
            return
        original(self, direction)

    move_page.__doc__ = original.__doc__
    OptionList._move_page = move_page  # type: ignore[method-assign]


def being_removed(node: object) -> bool:
    """Whether ``node`` (a widget, a screen) is being removed or is gone: its children may be missing."""
    return bool(getattr(node, "_pruning", False) or getattr(node, "_closing", False))


def _guard_mount_after_removal() -> None:
    original = MessagePump.on_event

    async def on_event(self: MessagePump, event: events.Event) -> None:
        if isinstance(event, _NOT_FOR_REMOVED) and (being_removed(self) or not self.is_attached):
            return
        await original(self, event)

    on_event.__doc__ = original.__doc__
    MessagePump.on_event = on_event  # type: ignore[method-assign]


def _guard_watcher_leak() -> None:
    original = textual.dom._watch

    def watch(node: Any, obj: Any, attribute_name: str, callback: Any, *, init: bool = True) -> None:
        watchers = getattr(obj, "__watchers", {}).get(attribute_name)
        if watchers:
            watchers[:] = [(owner, call) for owner, call in watchers if not being_removed(owner)]
        original(node, obj, attribute_name, callback, init=init)

    textual.dom._watch = watch
