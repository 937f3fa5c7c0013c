"""The TOML data files shipped in the package (catalogs, fitted coefficients), parsed once per version.

Python's own TOML reader is pure Python: the GPU and model catalogs and the performance coefficients
take ~13 ms to parse on a small machine, a tenth of the app's time to its first plan beyond a bare
Textual app's (bench/tui_latency.py, bench/tui_cpu.py). The parsed tables are kept in the user's cache
folder as ``marshal`` data named after a hash of the file's bytes, the way Python keeps bytecode:
a changed file (an upgrade, an edit in a development checkout) has another hash and is parsed again.

The cache can only make reading faster, never change what is read: anything wrong with it (no cache
folder, a read-only disk, a truncated or foreign file, data ``marshal`` cannot hold, a FIFO, a device or
a folder where the file should be, a file far larger than any table) falls back to parsing the file, and
a cached table is used only when it loads as a ``dict``. It is read as core/sources/files.py reads an
untrusted file (docs/design/hostile-input.md, "Reading"): opened without blocking, a regular file only,
never more than a limit; that module sits above this one, so the few lines are its own. ``$NAPKIN_CACHE``
names another folder; set to the empty string, it turns the cache off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat
import sys
import tempfile
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

FORMAT = f"{sys.implementation.cache_tag}-m{marshal.version}"  # a new Python may marshal differently
CACHED_BYTES_PER_TOML_BYTE = 20  # marshal data is 0.7-0.95x its TOML (the shipped files); far beyond: not ours


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
    table = _read_cached(cached, limit=CACHED_BYTES_PER_TOML_BYTE * len(data) + (1 << 20))
    if table is None:
        table = tomllib.loads(data.decode("utf-8"))
        _write_cached(cached, table)
    return table


def _read_cached(path: Path, limit: int) -> dict[str, Any] | None:
    """The cached table at ``path``, or None: not there, not a regular file, over ``limit`` bytes, or not a
    marshalled dict. Opened with O_NONBLOCK, so a FIFO put there cannot hang the start."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            blob = handle.read(limit + 1)
        if len(blob) > limit:
            return None
        table = marshal.loads(blob)
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
