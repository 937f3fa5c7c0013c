"""Where user files live: the platform's config folder (platformdirs), or $NAPKIN_HOME."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from platformdirs import user_config_path

DEFAULT_PROFILE = "llama-3.1-70b-2xh100-fp8.toml"


def napkin_home() -> Path:
    """The user's napkinmath folder: $NAPKIN_HOME if set, else the platform's user config folder."""
    override = os.environ.get("NAPKIN_HOME")
    return Path(override).expanduser() if override else user_config_path("napkinmath", appauthor=False)


def user_profiles_dir() -> Path:
    return napkin_home() / "profiles"


def shipped_profiles() -> list[Path]:
    """The example profiles that ship with the package, sorted by name."""
    folder = resources.files("napkinmath.profiles")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml"))


def shipped_profile(name: str) -> Path:
    return Path(str(resources.files("napkinmath.profiles").joinpath(name)))
