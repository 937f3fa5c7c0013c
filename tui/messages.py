"""Messages the planner's widgets post up to the screen (data down, messages up)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class CatalogChosen(Message):
    """The user picked a catalog entry, a precision or a choice in a select."""

    path: str  # "section.key" in the profile
    value: str | None  # None: the row's unset choice (the field omitted from the profile)

