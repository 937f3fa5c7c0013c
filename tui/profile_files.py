"""The Open dialog's file operations on the user's profiles: rename, duplicate, delete, and what a row
previews. Plain Python (no Textual); the dialog runs these in a worker thread.

Never lose a file:
- a new name is one plain file name inside the profiles folder (no folder part, no leading dot, no
  control character, at most ``NAME_LIMIT`` characters; ``.toml`` is added): anything that would land
  elsewhere is refused, naming what is allowed;
- rename and duplicate never replace an existing file: rename makes a hard link under the new name
  (which fails if that name exists) before removing the old one, duplicate creates its copy exclusively;
- delete moves the file into ``.deleted/`` in the profiles folder (stamped with the time, never over
  another), from where it can be put back by hand; the Open list does not show that folder.
Only regular files are read (a FIFO or device under a profile's name is refused, never waited on).
"""

from __future__ import annotations

import errno
import os
import stat
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.files import MAX_PROFILE_BYTES, load_profile
from napkinmath.core.report.formatting import money

NAME_LIMIT = 100
DELETED_FOLDER = ".deleted"


def checked_name(text: str, folder: Path) -> Path:
    """The profile file ``text`` names inside ``folder``; ProfileError when it would be anything else."""
    name = text.strip()
    if name.lower().endswith(".toml"):
        name = name[:-5]
    allowed = "a plain file name: letters, digits, spaces, dots, dashes or underscores, not starting with a dot"
    if not name:
        raise ProfileError(f"a name is required ({allowed})")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise ProfileError(f"{name!r}: names a folder; a profile's name stays inside {folder} ({allowed})")
    if name.startswith("."):
        raise ProfileError(f"{name!r}: starts with a dot, which would hide it ({allowed})")
    if any(not char.isprintable() for char in name):
        raise ProfileError(f"{name!r}: holds a control character ({allowed})")
    if len(name) > NAME_LIMIT:
        raise ProfileError(f"{len(name)} characters is too long a name (at most {NAME_LIMIT})")
    target = folder / f"{name}.toml"
    if target.resolve().parent != folder.resolve():
        raise ProfileError(f"{name!r}: would not stay inside {folder} ({allowed})")
    return target


def read_profile_bytes(path: Path) -> bytes:
    """A profile file's bytes: a regular file, at most MAX_PROFILE_BYTES, never a FIFO waited on."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise ProfileError(f"{path}: cannot read it ({error.strerror or error}).") from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise ProfileError(f"{path}: not a regular file, so not a profile.")
        if info.st_size > MAX_PROFILE_BYTES:
            raise ProfileError(f"{path}: {info.st_size:,} bytes is far too large for a profile.")
        return os.read(handle, MAX_PROFILE_BYTES + 1)[:MAX_PROFILE_BYTES]
    finally:
        os.close(handle)


def rename_profile(path: Path, new_name: str) -> Path:
    """Rename a profile within its folder; refuses a name taken or one that would leave the folder."""
    target = checked_name(new_name, path.parent)
    if target == path:
        return path
    try:
        os.link(path, target)  # fails if the name is taken: never replaces a file
    except FileExistsError:
        raise ProfileError(f"{target.name} already exists; choose another name (nothing was renamed)") from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise ProfileError(f"{path.name}: not renamed ({error.strerror or error})") from None
        if target.exists():  # a file system without hard links: check, then rename
            raise ProfileError(f"{target.name} already exists; choose another name (nothing was renamed)") from None
        os.rename(path, target)
        return target
    path.unlink()
    return target


def duplicate_profile(path: Path, folder: Path) -> Path:
    """Copy a profile (one of the user's or an example) into ``folder`` as NAME-copy.toml (-copy-2, ...)."""
    data = read_profile_bytes(path)
    folder.mkdir(parents=True, exist_ok=True)
    stem = path.stem[:NAME_LIMIT - 10]
    for number in range(1, 1000):
        target = folder / (f"{stem}-copy.toml" if number == 1 else f"{stem}-copy-{number}.toml")
        try:
            with open(target, "xb") as stream:  # exclusive: never over an existing file
                stream.write(data)
            return target
        except FileExistsError:
            continue
        except OSError as error:
            raise ProfileError(f"{target}: not written ({error.strerror or error})") from None
    raise ProfileError(f"{path.name}: 999 copies already; rename some first")


def delete_profile(path: Path) -> Path:
    """Move a profile into the profiles folder's .deleted/ (the returned path), from where it can be restored."""
    bin_folder = path.parent / DELETED_FOLDER
    bin_folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for number in range(1, 1000):
        suffix = "" if number == 1 else f"-{number}"
        target = bin_folder / f"{path.stem}.{stamp}{suffix}.toml"
        try:
            os.link(path, target)
        except FileExistsError:
            continue
        except OSError as error:
            raise ProfileError(f"{path.name}: not deleted ({error.strerror or error})") from None
        path.unlink()
        return target
    raise ProfileError(f"{path.name}: not deleted (too many deleted copies of it)")


@dataclass(frozen=True)
class Preview:
    """What the Open list shows of the highlighted file."""

    lines: tuple[str, ...]


def preview(path: Path) -> Preview:
    """Model, GPUs, users and $/user-month of a profile file, and when it was last changed; or why not."""
    try:
        changed = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    except OSError as error:
        return Preview((f"cannot read it ({error.strerror or error})",))
    try:
        read_profile_bytes(path)  # regular and small, before the TOML reader opens it
        profile = load_profile(path)
    except ProfileError as error:
        return Preview((f"changed {changed}", f"does not open: {error}"))
    result = plan(profile)
    hardware, work = profile.hardware, profile.workload
    cost = money(result.cost.per_user_month) if result.cost.per_user_month is not None else "nobody served"
    return Preview((f"{profile.model.name} on {hardware.count:,} × {hardware.name}",
                    f"{work.users:,} users · {cost} per user-month · changed {changed}"))
