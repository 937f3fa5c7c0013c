"""Narrow guards for faults in Textual itself (pinned: textual==8.2.8, the newest release when this was
written), each replayed by a test in tests/test_tui_hostile.py. Remove a guard once a release fixes it.

* ``OptionList._move_page`` (PageUp/PageDown) reads ``_index_to_line[highlighted]``, which stays empty
  until the list has been laid out (``_update_lines`` returns early without a content region). PageDown
  in the same burst as the key that opened a list (ctrl+p then PageDown: the palette's CommandList; a
  Select's overlay) raised ``KeyError: 0`` and ended the app. Guarded: before the list has lines there
  is no page to move by, so the key does nothing. (The same KeyError was reported against SelectOverlay
  in kagan-sh/kagan-legacy#31.)
"""

from __future__ import annotations

from typing import Any

from textual.widgets import OptionList

_installed = False


def install_guards() -> None:
    """Install the guards once (the app module calls this at import)."""
    global _installed
    if _installed:
        return
    _installed = True
    original = OptionList._move_page

    def move_page(self: OptionList, direction: Any) -> None:
        if (self.highlighted or 0) not in self._index_to_line:  # not laid out yet: nothing to page through
            return
        original(self, direction)

    move_page.__doc__ = original.__doc__
    OptionList._move_page = move_page  # type: ignore[method-assign]
