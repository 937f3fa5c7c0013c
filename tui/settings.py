"""What the app remembers between runs: theme, units and the last profile (settings.toml in $NAPKIN_HOME)."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from napkinmath.core.errors import ProfileError
from napkinmath.core.profile.files import write_text_atomically
from napkinmath.core.profile.paths import napkin_home
from napkinmath.core.sources.files import read_file_text
from napkinmath.themes import DEFAULT_THEME, THEMES

MAX_SETTINGS_BYTES = 100_000  # three short keys


@dataclass(frozen=True)
class Settings:
    """What the app remembers between runs."""

    theme: str = DEFAULT_THEME
    units: str = "GiB"
    last_profile: str = ""


def settings_path() -> Path:
    return napkin_home() / "settings.toml"


def load_settings() -> Settings:
    """The saved settings; defaults for anything missing, unreadable or out of range (never an error)."""
    try:  # the core's reader: a FIFO or a device in its place cannot hang the start (sources/files.py)
        data = tomllib.loads(read_file_text(settings_path(), MAX_SETTINGS_BYTES, "settings file"))
    except (ProfileError, RecursionError, ValueError):  # unreadable, not a regular file, not TOML, nested
        return Settings()
    settings = Settings()
    if data.get("theme") in {theme.name for theme in THEMES}:
        settings = replace(settings, theme=data["theme"])
    if data.get("units") in ("GiB", "GB"):
        settings = replace(settings, units=data["units"])
    if isinstance(data.get("last_profile"), str) and len(data["last_profile"]) <= 4096:
        settings = replace(settings, last_profile=data["last_profile"])
    return settings


def save_settings(settings: Settings) -> None:
    """Write the settings atomically; a failure to save them is not worth interrupting the user."""
    try:
        import tomli_w  # only to write: not imported on the way to the first frame

        write_text_atomically(settings_path(), tomli_w.dumps(asdict(settings)))
    except OSError:
        pass


class SettingsStore:
    """The settings in use, saved at each change (the app's theme, the planner's units and last file)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def remember(self, **changes: str) -> None:
        """Keep a setting for next time."""
        self.settings = replace(self.settings, **changes)
        save_settings(self.settings)
