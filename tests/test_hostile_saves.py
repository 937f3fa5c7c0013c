"""Saves that respect the file system (issue 16): symlinks written through, hard links kept, modes kept,
devices never replaced, a full disk survived, leftovers of killed saves cleaned up, and messages that say
what became of the file. (The app's overwrite prompt is tested with the app.)"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path

import pytest
from hostile_support import assert_refused, deadline, fifo, load_script, run_napkin, unchanged

from napkinmath.core.errors import ProfileError
from napkinmath.core.profile import atomic_write
from napkinmath.core.profile.atomic_write import remove_stale_temporaries, temp_name_pattern
from napkinmath.core.profile.files import load_profile, save_profile
from napkinmath.core.profile.paths import shipped_profile

PROFILE = load_profile(shipped_profile("llama-3.1-8b-1xl4.toml"))
OTHER = PROFILE.model_copy(update={"name": "the other one"})


def temporaries(folder: Path, name: str) -> list[str]:
    return [entry.name for entry in folder.iterdir() if temp_name_pattern(name).fullmatch(entry.name)]


# ---- symlinks ------------------------------------------------------------------------------------


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "store" / "real.toml"
    real.parent.mkdir()
    save_profile(OTHER, real)
    os.chmod(real, 0o640)
    link = tmp_path / "link.toml"
    link.symlink_to(Path("store") / "real.toml")
    save_profile(PROFILE, link)
    assert link.is_symlink() and os.readlink(link) == str(Path("store") / "real.toml")
    assert load_profile(real) == PROFILE and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert temporaries(tmp_path, "link.toml") == [] and temporaries(real.parent, "real.toml") == []


def test_a_chain_of_symlinks_is_followed_to_its_end(tmp_path):
    real = tmp_path / "real.toml"
    save_profile(OTHER, real)
    (tmp_path / "b.toml").symlink_to(real)
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    save_profile(PROFILE, tmp_path / "a.toml")
    assert (tmp_path / "a.toml").is_symlink() and (tmp_path / "b.toml").is_symlink()
    assert load_profile(real) == PROFILE


def test_a_dangling_symlink_creates_its_target(tmp_path):
    (tmp_path / "link.toml").symlink_to(tmp_path / "target.toml")
    save_profile(PROFILE, tmp_path / "link.toml")
    assert load_profile(tmp_path / "target.toml") == PROFILE and (tmp_path / "link.toml").is_symlink()


def test_a_symlink_loop_is_refused_and_nothing_is_written(tmp_path):
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    with unchanged(tmp_path), pytest.raises(ProfileError, match="too many levels of symbolic links") as caught:
        save_profile(PROFILE, tmp_path / "loop.toml")
    assert "nothing was written" in str(caught.value) and "loop.toml" in str(caught.value)


# ---- hard links: written in place, so every name sees the save -----------------------------------


def test_a_hard_linked_file_is_written_in_place(tmp_path):
    first, second = tmp_path / "first.toml", tmp_path / "second.toml"
    save_profile(OTHER, first)
    os.link(first, second)
    inode = first.stat().st_ino
    save_profile(PROFILE, first)
    assert first.stat().st_ino == second.stat().st_ino == inode and first.stat().st_nlink == 2
    assert load_profile(second) == PROFILE
    assert temporaries(tmp_path, "first.toml") == []


def test_a_hard_linked_file_that_shrinks_is_truncated(tmp_path):
    first = tmp_path / "first.toml"
    save_profile(PROFILE.model_copy(update={"description": "x" * 3000}), first)
    os.link(first, tmp_path / "second.toml")
    save_profile(PROFILE, first)
    assert load_profile(tmp_path / "second.toml") == PROFILE


# ---- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o664, 0o755])
def test_the_old_mode_is_kept(tmp_path, mode):
    path = tmp_path / "p.toml"
    save_profile(OTHER, path)
    os.chmod(path, mode)
    save_profile(PROFILE, path)
    assert stat.S_IMODE(path.stat().st_mode) == mode


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_0666_less_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        save_profile(PROFILE, tmp_path / "new.toml")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.toml").stat().st_mode) == 0o666 & ~umask


# ---- targets that are not regular files ----------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_dev_full_is_never_replaced_even_by_root(tmp_path, capsys):
    before = os.stat("/dev/full")
    profile = tmp_path / "p.toml"
    save_profile(PROFILE, profile)
    with unchanged(tmp_path):
        err = assert_refused(run_napkin(capsys, "calibrate", str(profile), "--measured", "decode=100@8", "--out",
                                        "/dev/full"), "/dev/full", "character device", "nothing was written")
    after = os.stat("/dev/full")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino
    assert "unchanged" not in err


def test_a_symlink_to_a_device_is_refused(tmp_path):
    (tmp_path / "null.toml").symlink_to("/dev/null")
    with unchanged(tmp_path), pytest.raises(ProfileError, match="character device"):
        save_profile(PROFILE, tmp_path / "null.toml")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_target_is_refused_without_blocking(tmp_path):
    fifo(tmp_path / "pipe.toml")
    with deadline(5), unchanged(tmp_path), pytest.raises(ProfileError, match="named pipe"):
        save_profile(PROFILE, tmp_path / "pipe.toml")


def test_a_folder_target_is_refused(tmp_path):
    (tmp_path / "dir.toml").mkdir()
    with unchanged(tmp_path), pytest.raises(ProfileError, match="a folder, not a regular file"):
        save_profile(PROFILE, tmp_path / "dir.toml")


# ---- a full disk (simulated: os.write / os.fsync raise ENOSPC, as a full ext4 does) ----------------


def _enospc_after(monkeypatch, name: str, calls_before: int = 0):
    real = getattr(os, name)
    count = {"n": 0}

    def failing(*args):
        count["n"] += 1
        if count["n"] > calls_before:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args)

    monkeypatch.setattr(atomic_write.os, name, failing)


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_a_full_disk_keeps_the_old_file_and_says_so(tmp_path, monkeypatch, where):
    path = tmp_path / "p.toml"
    save_profile(OTHER, path)
    before = path.read_bytes()
    _enospc_after(monkeypatch, where)
    with pytest.raises(ProfileError) as caught:
        save_profile(PROFILE, path)
    message = str(caught.value)
    assert "p.toml" in message and "no space left on device" in message and "the old file is unchanged" in message
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["p.toml"]


def test_a_full_disk_on_a_new_file_says_nothing_was_written(tmp_path, monkeypatch):
    _enospc_after(monkeypatch, "write")
    with pytest.raises(ProfileError) as caught:
        save_profile(PROFILE, tmp_path / "new.toml")
    assert "nothing was written" in str(caught.value) and "unchanged" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_found_before_a_hard_linked_file_is_touched(tmp_path, monkeypatch):
    first = tmp_path / "first.toml"
    save_profile(OTHER, first)
    os.link(first, tmp_path / "second.toml")
    before = first.read_bytes()
    _enospc_after(monkeypatch, "write")
    with pytest.raises(ProfileError, match="the old file is unchanged"):
        save_profile(PROFILE, first)
    assert first.read_bytes() == before and temporaries(tmp_path, "first.toml") == []


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def recording(descriptor):
        synced.append(stat.S_ISDIR(os.fstat(descriptor).st_mode))
        return real(descriptor)

    monkeypatch.setattr(atomic_write.os, "fsync", recording)
    save_profile(PROFILE, tmp_path / "p.toml")
    assert synced == [False, True]  # the temporary file, then the folder


# ---- leftovers of killed saves ------------------------------------------------------------------


def test_a_leftover_temporary_file_is_removed_by_the_next_save(tmp_path):
    leftover = tmp_path / ".p.toml.abc123_x.tmp"
    leftover.write_text("half a profi")
    other = tmp_path / ".q.toml.abc123_x.tmp"  # another file's: not ours to remove
    other.write_text("x")
    lookalike = tmp_path / ".p.toml.notours.tmp"  # not the writer's pattern
    lookalike.write_text("x")
    save_profile(PROFILE, tmp_path / "p.toml")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".p.toml.notours.tmp", ".q.toml.abc123_x.tmp", "p.toml"]


def test_a_temporary_file_held_by_a_live_save_is_left_alone(tmp_path):
    busy = tmp_path / ".p.toml.busy1234.tmp"
    busy.write_text("being written")
    descriptor = os.open(busy, os.O_RDONLY)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - a second process that holds the lock, like a save in progress
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(os.open(tmp_path / "locked", os.O_WRONLY | os.O_CREAT), b"1")
        import time

        time.sleep(30)
        os._exit(0)
    try:
        with deadline(5):
            while not (tmp_path / "locked").exists():
                pass
        assert remove_stale_temporaries(tmp_path, "p.toml") == 0 and busy.exists()
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(descriptor)
    assert remove_stale_temporaries(tmp_path, "p.toml") == 1 and not busy.exists()


def test_a_symlink_named_like_a_temporary_file_is_not_followed_or_removed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / ".p.toml.abcdefgh.tmp").symlink_to(victim)
    save_profile(PROFILE, tmp_path / "p.toml")
    assert (tmp_path / ".p.toml.abcdefgh.tmp").is_symlink() and victim.read_text() == "keep me"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill loop forks")
def test_50_saves_killed_with_sigkill_leave_no_corrupt_file_and_no_leftover(tmp_path):
    """The short run of scripts/kill_saves.py (400 kills there); see the README."""
    result = load_script("kill_saves").kill_loop(tmp_path, kills=50, seed=16)
    assert result.corrupt == 0
    assert result.temporaries_after_final_save == 0
    assert result.kills_leaving_temporaries > 0  # the kills did land mid-save, so the cleanup was exercised
