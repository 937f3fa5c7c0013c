"""The one way the core reads a file it did not write: regular files only, never more than a limit.

Every input file (profiles, the app's settings and last profile, config.json, safetensors headers and
their index, the HF cache's ``refs/main``, engine logs) goes through here, because a size guard that
trusts ``st_size`` is no guard: a FIFO or ``/dev/zero`` reports 0 bytes, then blocks forever or is read
until memory runs out. So (docs/design/hostile-input.md, "Reading"):

1. ``stat`` the path (symlinks followed: the HF cache is made of them) and refuse anything that is not a
   regular file BEFORE opening it: a folder, a FIFO, a device, a socket;
2. open it with ``O_NONBLOCK`` (a FIFO swapped in after the check cannot block the open) and check the
   open file again with ``fstat`` (whatever was swapped in is refused);
3. read at most ``limit + 1`` bytes whatever the size said, and refuse the file past ``limit``.

Every refusal is a ``ProfileError`` that names the file (escaped and bounded, ``untrusted.shown_path``)
and says what was wrong in words; none quotes the file's contents or an exception's text.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..errors import ProfileError
from ..untrusted import shown_path

_READ_CHUNK = 1 << 16
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

_OS_PROBLEMS = {
    errno.ENOENT: "no such file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ELOOP: "too many levels of symbolic links",
    errno.ENAMETOOLONG: "the name is too long",
}


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words ("a named pipe (FIFO)")."""
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def os_problem(error: OSError) -> str:
    """An OSError in words, without its text (which repeats the whole, unbounded file name)."""
    return _OS_PROBLEMS.get(error.errno or 0) or (error.strerror or "cannot be read").lower()


def _refuse_kind(path: Path, mode: int, what: str) -> ProfileError:
    if stat.S_ISDIR(mode):
        return ProfileError(f"{shown_path(path)}: is a folder, not a {what} file.")
    return ProfileError(f"{shown_path(path)}: is {kind_of(mode)}, not a regular file; napkinmath reads a {what} only "
                        "from a regular file.")


@contextmanager
def open_regular_file(path: str | os.PathLike[str], what: str) -> Iterator[tuple[BinaryIO, int]]:
    """The open file and its size in bytes, once it is known to be a regular file (steps 1 and 2 above).

    ``what`` names the file's role in messages ("profile", "config.json"). ProfileError otherwise.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise _refuse_kind(path, mode, what)
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        if error.errno == errno.ENOENT:
            raise ProfileError(f"{shown_path(path)}: no such file.") from None
        raise ProfileError(f"{shown_path(path)}: cannot read it ({os_problem(error)}).") from None
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode):
            raise _refuse_kind(path, opened.st_mode, what)
        yield handle, opened.st_size


def read_at_most(handle: BinaryIO, count: int, path: str | os.PathLike[str] = "") -> bytes:
    """Up to ``count`` bytes from ``handle`` (fewer only at the end of the file)."""
    parts: list[bytes] = []
    left = count
    try:
        while left > 0:
            part = handle.read(min(left, _READ_CHUNK))
            if not part:
                break
            parts.append(part)
            left -= len(part)
    except OSError as error:
        raise ProfileError(f"{shown_path(path)}: reading it failed ({os_problem(error)}).") from None
    return b"".join(parts)


def read_file_bytes(path: str | os.PathLike[str], limit: int, what: str, *, whole: bool = True) -> bytes:
    """A regular file's bytes, at most ``limit`` of them (step 3 above).

    ``whole``: refuse a longer file (a profile, a config); otherwise return its first ``limit`` bytes
    (a runaway log, read this far).
    """
    with open_regular_file(path, what) as (handle, _):
        data = read_at_most(handle, limit + 1 if whole else limit, path)
    if whole and len(data) > limit:
        raise ProfileError(f"{shown_path(path)}: more than {limit:,} bytes, far too large for a {what}; is this "
                           "the right file?")
    return data


def read_file_text(path: str | os.PathLike[str], limit: int, what: str) -> str:
    """A regular file of at most ``limit`` bytes of UTF-8 text; ProfileError naming the file otherwise."""
    data = read_file_bytes(path, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileError(f"{shown_path(path)}: not UTF-8 text; a {what} is a text file.") from None
