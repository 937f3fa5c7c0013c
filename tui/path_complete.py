"""Tab completion of a typed path, as a shell completes it (the import dialog). Plain Python.

The text keeps the user's own spelling of its folder part ("~/mo" completes to "~/models/", not to
the expanded home); the folder is listed once (at most ``LISTED_LIMIT`` entries, so a huge folder
cannot stall), names are matched by prefix (hidden ones only when the prefix starts with a dot),
and the text grows by the prefix all matches share; a lone folder gets its "/".
"""

from __future__ import annotations

import os
from dataclasses import dataclass

LISTED_LIMIT = 5000


@dataclass(frozen=True)
class Completion:
    text: str  # the completed text (unchanged when nothing matches)
    choices: tuple[str, ...]  # the names that match, folders with a trailing "/", sorted


def complete_path(text: str) -> Completion:
    """Complete ``text`` as a path (see the module docstring)."""
    folder_text, _, partial = text.rpartition("/")
    if "/" in text:
        folder_text += "/"
    folder = os.path.expanduser(folder_text) if folder_text else "."
    matches: list[str] = []
    try:
        with os.scandir(folder) as listing:
            for count, entry in enumerate(listing):
                if count >= LISTED_LIMIT:
                    break
                if entry.name.startswith(partial) and (partial.startswith(".") or not entry.name.startswith(".")):
                    try:
                        is_folder = entry.is_dir()
                    except OSError:
                        is_folder = False
                    matches.append(entry.name + ("/" if is_folder else ""))
    except OSError:
        return Completion(text, ())
    if not matches:
        return Completion(text, ())
    matches.sort()
    shared = os.path.commonprefix([name.rstrip("/") for name in matches])
    if len(matches) == 1:
        shared = matches[0]
    return Completion(folder_text + shared if len(shared) >= len(partial) else text, tuple(matches))
