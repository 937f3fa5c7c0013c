"""Saving a file so that a crash, a full disk or an odd target never loses it (docs/design/hostile-input.md).

``write_text_atomically(path, text)``:

* **Symlinks are written through:** the file the link points to is saved (and the link kept), as an
  editor does; a chain of links is followed to its end, a loop is refused.
* **Only regular files are replaced:** a target that exists and is a folder, a device (``/dev/full``), a
  FIFO or a socket is refused before anything is written, whoever runs the program (root included).
* **Atomic for a file with one name:** the text goes into ``.NAME.XXXXXXXX.tmp`` beside it (created with
  ``O_EXCL``), is synced, then renamed over the file, and the folder is synced so the rename survives a
  power cut. A failure at any step (disk full at ``write`` or ``fsync``) removes the temporary file and
  leaves the old file as it was.
* **Hard links are written in place:** renaming would give only this name the new text and leave the
  others stale, so a file with more than one link is overwritten where it is (every name sees the
  save). The new text is first written and synced to a temporary file, so a full disk is found before
  the file is touched; the in-place write itself is not atomic (a kill during it can leave the file
  mixed), which is the price of keeping the link.
* **Permissions are kept:** a replaced file keeps its mode (and, where allowed, its owner); a new file
  gets ``0o666`` less the umask, like any file a program creates.
* **Stale temporary files are cleaned up:** every writer holds an exclusive ``flock`` on its temporary
  file while it writes, and the lock dies with the process (even on SIGKILL). Each save first deletes
  this file's own ``.NAME.XXXXXXXX.tmp`` files that nobody holds: leftovers of a killed save.

Every failure is a ``SaveError`` (an ``OSError``) whose text names the file and says whether the old
file is unchanged.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from ..sources.files import kind_of, os_problem
from ..untrusted import shown_path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, so stale files are only cleaned when old
    fcntl = None  # type: ignore[assignment]

_TEMP_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"  # tempfile.mkstemp's, so older leftovers match too
_TEMP_TOKEN = 8
_WRITE_CHUNK = 1 << 20
_UNLOCKED_STALE_S = 3600.0  # without flock: a temporary file this old is a leftover


class SaveError(OSError):
    """A save that failed or was refused; ``str()`` is the whole message (file, reason, what became of it)."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(code, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def temp_name_pattern(name: str) -> re.Pattern[str]:
    """The names of this writer's temporary files for a file called ``name``."""
    return re.compile(rf"\.{re.escape(name)}\.[{_TEMP_LETTERS}]{{{_TEMP_TOKEN}}}\.tmp")


def _write_target(path: Path) -> Path:
    """The file a save of ``path`` writes: ``path`` itself, or the end of its chain of symlinks."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


def _existing(target: Path, shown: str) -> os.stat_result | None:
    """The target's status (None when it does not exist yet); SaveError when it is not a regular file."""
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SaveError(f"{shown}: cannot save there ({os_problem(error)}); nothing was written.",
                        error.errno or 0) from None
    if not stat.S_ISREG(status.st_mode):
        raise SaveError(f"{shown}: is {kind_of(status.st_mode)}, not a regular file; napkinmath saves only to regular "
                        "files, so nothing was written. Choose a file name instead.", errno.EINVAL)
    return status


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view[:_WRITE_CHUNK])
        view = view[written:]


def _lock(descriptor: int) -> bool:
    """Hold an exclusive lock on an open temporary file; False when someone else holds it."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """A new, locked, empty temporary file beside the target (mode 0o666 less the umask)."""
    import secrets  # here, not at import: the app writes nothing before its first frame

    for _ in range(100):
        token = "".join(secrets.choice(_TEMP_LETTERS) for _ in range(_TEMP_TOKEN))
        temporary = folder / f".{name}.{token}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        if _lock(descriptor) and os.fstat(descriptor).st_nlink > 0:
            return descriptor, temporary
        os.close(descriptor)  # a cleaner got it first (and removes it): take another name
    raise FileExistsError(errno.EEXIST, "could not create a temporary file")


def remove_stale_temporaries(folder: Path, name: str) -> int:
    """Delete this user's leftover temporary files of ``name`` in ``folder`` that no writer holds; how many."""
    pattern = temp_name_pattern(name)
    removed = 0
    try:
        entries = [entry for entry in os.scandir(folder) if pattern.fullmatch(entry.name)]
    except OSError:
        return 0
    for entry in entries:
        try:
            status = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
                continue
            descriptor = os.open(entry.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
                                 | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            if fcntl is not None:
                held = not _lock(descriptor)
            else:  # pragma: no cover
                import time

                held = time.time() - status.st_mtime < _UNLOCKED_STALE_S
            if not held and os.path.samestat(os.fstat(descriptor), status):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            pass
        finally:
            os.close(descriptor)
    return removed


def _sync_folder(folder: Path) -> None:
    """fsync the folder so a rename in it is durable; file systems that cannot are skipped."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(descriptor)


def _keep_owner_and_mode(descriptor: int, old: os.stat_result | None) -> None:
    if old is None:
        return  # a new file: O_CREAT already applied 0o666 less the umask
    os.fchmod(descriptor, stat.S_IMODE(old.st_mode) & 0o777)
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(descriptor, old.st_uid, old.st_gid)
        except OSError:
            pass  # not allowed (not root): the file becomes the saver's, as with any editor


def _overwrite_in_place(target: Path, data: bytes, old: os.stat_result) -> None:
    # O_NONBLOCK: a FIFO swapped in since the check fails to open (ENXIO) instead of blocking; the samestat
    # check below refuses anything else swapped in.
    descriptor = os.open(target, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not os.path.samestat(os.fstat(descriptor), old):
            raise SaveError(f"{shown_path(target)}: changed while it was being saved; nothing was written.")
        _write_all(descriptor, data)
        os.ftruncate(descriptor, len(data))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_text_atomically(path: str | os.PathLike[str], text: str) -> Path:
    """Save ``text`` as ``path`` by the rules above; the file written (a symlink's target). SaveError otherwise."""
    path = Path(path)
    shown = shown_path(path)
    data = text.encode("utf-8")
    target = _write_target(path)
    old = _existing(target, shown)
    outcome = "the old file is unchanged" if old is not None else "nothing was written"
    folder = target.parent if str(target.parent) else Path(".")
    temporary: Path | None = None
    try:
        if target == path:
            folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(folder, target.name)
        descriptor, temporary = _create_temporary(folder, target.name)
        try:
            _keep_owner_and_mode(descriptor, old)
            _write_all(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if old is not None and old.st_nlink > 1:
            os.unlink(temporary)  # the space it proved free is what the in-place write needs
            temporary = None
            outcome = "the file may be partly written (it has several hard links, so it is written in place)"
            _overwrite_in_place(target, data, old)
        else:
            os.replace(temporary, target)
            temporary = None
        outcome = "the new text is in place, but the folder could not be synced (a power cut may undo the save)"
        _sync_folder(folder)
    except SaveError:
        raise
    except OSError as error:
        raise SaveError(f"{shown}: saving failed ({os_problem(error)}); {outcome}.", error.errno or 0) from None
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    return target
