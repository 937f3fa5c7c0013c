"""Profile files: TOML read with tomllib, written with tomli-w (docs/design/interfaces.md).

Loading refuses unknown keys by name, files from a newer schema, files that are not TOML, not regular
files or absurdly large (read through ``sources.files``, never past the limit), nesting and integers no
parser should be asked to handle, and every out-of-range value, each with one paragraph naming the file
and field. Saving writes the whole effective profile by ``atomic_write``'s rules: atomically, through
symlinks, never over a device, keeping the file's mode.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ProfileError, validation_problems
from ..sources.files import read_file_text
from ..untrusted import INT_DIGITS_LIMIT, data_problem, excerpt, shown_path
from .atomic_write import SaveError, write_text_atomically
from .schema import SCHEMA_VERSION, Profile

__all__ = ["MAX_PROFILE_BYTES", "SaveError", "load_profile", "profile_from_dict", "profile_from_toml_text",
           "profile_to_dict", "profile_to_toml", "save_profile", "write_text_atomically"]

MAX_PROFILE_BYTES = 1_000_000  # a profile is a few hundred bytes; anything this big is a mistake


def profile_from_toml_text(text: str, source: str = "profile") -> Profile:
    """Parse and validate profile text; ProfileError names the source and the field."""
    shown = shown_path(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{shown}: not valid TOML ({error}). Fix the syntax or start from a file in "
                           "profiles/.") from None
    except RecursionError:
        raise ProfileError(f"{shown}: not a profile: its tables or arrays are nested too deep to read.") from None
    except ValueError:  # tomllib's int(): CPython refuses to convert more than 4,300 digits
        raise ProfileError(f"{shown}: holds an integer of more than {INT_DIGITS_LIMIT:,} digits; no profile value "
                           "is that large.") from None
    return profile_from_dict(data, source)


def _check_schema(data: dict[str, Any], source: str) -> None:
    schema = data.get("schema", SCHEMA_VERSION)
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise ProfileError(f"{shown_path(source)}: schema must be a whole number >= 1 (got {excerpt(schema)}).")
    if schema > SCHEMA_VERSION:
        raise ProfileError(
            f"{source}: written for profile schema {schema}, but this napkinmath reads schema {SCHEMA_VERSION} and "
            f"older. Upgrade napkinmath to open it."
        )


def profile_from_dict(data: dict[str, Any], source: str = "profile") -> Profile:
    """Validate a parsed profile (migrating older schemas; there are none yet)."""
    if not isinstance(data, dict):
        raise ProfileError(f"{shown_path(source)}: a profile is a TOML table of sections, got {type(data).__name__}.")
    problem = data_problem(data)
    if problem:
        raise ProfileError(f"{shown_path(source)}: {problem}; this is not a profile.")
    _check_schema(data, source)
    missing = [section for section in ("hardware", "model") if section not in data]
    problems = [f"[{section}] is missing; the plan cannot do without it (give a catalog id: "
                f"{'gpu' if section == 'hardware' else 'preset'} = \"...\")" for section in missing]
    try:
        profile = Profile.model_validate(data)
    except ValidationError as error:  # every problem at once: the missing sections, then the fields
        problems += validation_problems(error, skip={(section,) for section in missing})
        raise ProfileError(f"{shown_path(source)}: {'; '.join(problems)}.") from None
    except ProfileError as error:
        raise ProfileError(f"{shown_path(source)}: {error}") from None
    return profile


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Read and validate a profile file."""
    text = read_file_text(path, MAX_PROFILE_BYTES, "profile")
    return profile_from_toml_text(text, str(path))


def _without_none(value: Any) -> Any:
    """TOML has no null: drop unset optional fields (they reload as the same defaults)."""
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    return value


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """The whole effective profile as plain data, in the file's key order (an empty
    ``engine.calibrated`` is left out: nothing was calibrated)."""
    data = _without_none(profile.model_dump(mode="json", by_alias=True))
    if not data["engine"].get("calibrated"):
        data["engine"].pop("calibrated", None)
    return data


def profile_to_toml(profile: Profile) -> str:
    """The profile as TOML text."""
    import tomli_w  # only to write: not imported on the way to the app's first frame

    return tomli_w.dumps(profile_to_dict(profile))


def save_profile(profile: Profile, path: str | os.PathLike[str]) -> Path:
    """Write the whole effective profile (``atomic_write``'s rules); ProfileError says what became of the file.

    Returns the path given (a symlink stays the name the user knows; its target holds the text)."""
    path = Path(path)
    try:
        write_text_atomically(path, profile_to_toml(profile))
    except SaveError as error:
        raise ProfileError(str(error)) from None
    return path
