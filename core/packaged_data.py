"""The TOML data files shipped in the package (catalogs, fitted coefficients), parsed once per version.

Python's own TOML reader is pure Python: the GPU and model catalogs and the performance coefficients
take ~13 ms to parse on a small machine, a tenth of the app's time to its first plan beyond a bare
Textual app's (bench/tui_latency.py, bench/tui_cpu.py). The parsed tables are kept in the user's cache
folder as ``marshal`` data named after a hash of the file's bytes, the way Python keeps bytecode:
a changed file (an upgrade, an edit in a development checkout) has another hash and is parsed again.

The cache can only make reading faster, never change what is read: anything wrong with it (no cache
folder, a read-only disk, a truncated or foreign file, data ``marshal`` cannot hold) falls back to
parsing the file, and a cached table is used only when it loads as a ``dict``. ``$NAPKIN_CACHE``
names another folder; set to the empty string, it turns the cache off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

FORMAT = f"{sys.implementation.cache_tag}-m{marshal.version}"  # a new Python may marshal differently


def cache_folder() -> Path | None:
    """$NAPKIN_CACHE if set (None when empty: no cache), else the platform's user cache folder."""
    override = os.environ.get("NAPKIN_CACHE")
    if override is not None:
        return Path(override) if override else None
    from platformdirs import user_cache_path

    return user_cache_path("napkinmath", appauthor=False)


def packaged_toml(package: str, *parts: str) -> dict[str, Any]:
    """The parsed TOML file ``parts`` inside ``package``: from the cache when it holds this file's bytes."""
    return parsed_toml(resources.files(package).joinpath(*parts).read_bytes(), parts[-1])


def parsed_toml(data: bytes, name: str) -> dict[str, Any]:
    """``data`` (the bytes of the file ``name``) parsed, or read back from the cache under its hash."""
    folder = cache_folder()
    if folder is None:
        return tomllib.loads(data.decode("utf-8"))
    cached = folder / f"{name}.{hashlib.blake2b(data, digest_size=16).hexdigest()}.{FORMAT}.marshal"
    table = _read_cached(cached)
    if table is None:
        table = tomllib.loads(data.decode("utf-8"))
        _write_cached(cached, table)
    return table


def _read_cached(path: Path) -> dict[str, Any] | None:
    try:
        table = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return table if isinstance(table, dict) else None


def _write_cached(path: Path, table: dict[str, Any]) -> None:
    """Write whole or not at all (a temporary file renamed over the name); any failure leaves no cache."""
    try:
        blob = marshal.dumps(table)
    except ValueError:  # a value marshal cannot hold (TOML dates): parse every time
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(blob)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass
