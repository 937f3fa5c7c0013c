"""Profile files: TOML read with tomllib, written with tomli-w (docs/design/interfaces.md).

Loading refuses unknown keys by name, files from a newer schema, files that are not TOML or are
absurdly large, and every out-of-range value, each with one paragraph naming the file and field.
Saving writes the whole effective profile atomically: a temporary file in the same folder,
flushed and synced, then renamed over the old one.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from ..errors import ProfileError, validation_problems
from .schema import SCHEMA_VERSION, Profile

MAX_PROFILE_BYTES = 1_000_000  # a profile is a few hundred bytes; anything this big is a mistake


def profile_from_toml_text(text: str, source: str = "profile") -> Profile:
    """Parse and validate profile text; ProfileError names the source and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{source}: not valid TOML ({error}). Fix the syntax or start from a file in "
                           "profiles/.") from None
    return profile_from_dict(data, source)


def _check_schema(data: dict[str, Any], source: str) -> None:
    schema = data.get("schema", SCHEMA_VERSION)
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise ProfileError(f"{source}: schema must be a whole number >= 1 (got {schema!r}).")
    if schema > SCHEMA_VERSION:
        raise ProfileError(
            f"{source}: written for profile schema {schema}, but this napkinmath reads schema {SCHEMA_VERSION} and "
            f"older. Upgrade napkinmath to open it."
        )


def profile_from_dict(data: dict[str, Any], source: str = "profile") -> Profile:
    """Validate a parsed profile (migrating older schemas; there are none yet)."""
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a TOML table of sections, got {type(data).__name__}.")
    _check_schema(data, source)
    missing = [section for section in ("hardware", "model") if section not in data]
    problems = [f"[{section}] is missing; the plan cannot do without it (give a catalog id: "
                f"{'gpu' if section == 'hardware' else 'preset'} = \"...\")" for section in missing]
    try:
        profile = Profile.model_validate(data)
    except ValidationError as error:  # every problem at once: the missing sections, then the fields
        problems += validation_problems(error, skip={(section,) for section in missing})
        raise ProfileError(f"{source}: {'; '.join(problems)}.") from None
    except ProfileError as error:
        raise ProfileError(f"{source}: {error}") from None
    return profile


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Read and validate a profile file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_PROFILE_BYTES:
            raise ProfileError(f"{path}: {size:,} bytes is far too large for a profile (limit {MAX_PROFILE_BYTES:,}); "
                               f"is this the right file?")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise ProfileError(f"{path}: is a folder, not a profile file.") from None
    except PermissionError:
        raise ProfileError(f"{path}: permission denied.") from None
    except OSError as error:
        raise ProfileError(f"{path}: cannot read it ({error.strerror or error}).") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not UTF-8 text; a profile is a TOML file.") from None
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
    return tomli_w.dumps(profile_to_dict(profile))


def write_text_atomically(path: Path, text: str) -> None:
    """Write text to a temporary file in the same folder, sync it, then rename it over ``path``.

    Raises OSError; the old file is untouched and no temporary file is left behind on failure.
    """
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_profile(profile: Profile, path: str | os.PathLike[str]) -> Path:
    """Write the whole effective profile atomically; the old file survives any failure."""
    path = Path(path)
    try:
        write_text_atomically(path, profile_to_toml(profile))
    except OSError as error:
        raise ProfileError(f"{path}: writing failed ({error.strerror or error}); the old file is unchanged.") from None
    return path

