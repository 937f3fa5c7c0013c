"""Undo and redo of profile changes. Profiles are immutable, so the history is just the old ones."""

from __future__ import annotations

from napkinmath.core.profile.schema import Profile

HISTORY_LIMIT = 500


class History:
    """Two stacks of profiles. Consecutive edits of one field merge into one step (typing "16384" is
    one change to undo, not five)."""

    def __init__(self) -> None:
        self.undo_stack: list[Profile] = []
        self.redo_stack: list[Profile] = []
        self.last_field: str | None = None

    def record(self, before: Profile, field: str | None = None) -> None:
        """Remember the profile as it was before a change; ``field`` names a field edit to merge."""
        if field is None or field != self.last_field or not self.undo_stack:
            self.undo_stack.append(before)
            del self.undo_stack[:-HISTORY_LIMIT]
        self.redo_stack.clear()
        self.last_field = field

    def forget(self, back_to: Profile, field: str) -> None:
        """The edits of ``field`` merging into the last step were taken back to ``back_to``, the profile
        before them: drop that step, which would undo nothing."""
        if self.last_field == field and self.undo_stack and self.undo_stack[-1] == back_to:
            self.undo_stack.pop()
            self.last_field = None

    def undo(self, current: Profile) -> Profile | None:
        if not self.undo_stack:
            return None
        self.redo_stack.append(current)
        self.last_field = None
        return self.undo_stack.pop()

    def redo(self, current: Profile) -> Profile | None:
        if not self.redo_stack:
            return None
        self.undo_stack.append(current)
        self.last_field = None
        return self.redo_stack.pop()
