"""An engine's release number as a tuple, to compare a profile's version with the release that changed a default
(vLLM's memory accounting eras, SGLang's memory reserve)."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=128)
def release_tuple(version: str, default: str, parts: int) -> tuple[int, ...]:
    """The first ``parts`` numbers of a release, a missing patch number as 0: "0.5.6.post2" is (0, 5, 6) at 3
    parts, "0.11.2" is (0, 11) at 2; ``default``'s when the text is not a release (the profile validates versions,
    so that is a guard)."""
    match = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", version)
    if match is None:
        return release_tuple(default, default, parts)
    return tuple(int(number or 0) for number in match.groups())[:parts]
