"""Shared checks of the hostile-input suite (tests/test_hostile_*.py, issue 16).

Every case runs the real ``napkin`` entry point in-process and asserts the same four things: the exit
status, that no traceback or exception text reached the user, that the message names the item, and that
no file changed. ``deadline`` turns a hang into a failure instead of a stuck suite.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import signal
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXIT_REFUSED = 2
# What an exception's text looks like when it leaks: a traceback, a class name, Python's own phrasing.
LEAKS = re.compile(r"Traceback|internal error|\b(?:Value|Key|Type|Index|Attribute|Recursion|Overflow|ZeroDivision|"
                   r"Memory|OS|Unicode\w*|JSONDecode|TOMLDecode|Validation|Assertion|Runtime|NoMatches|DuplicateIds)"
                   r"(?:Error|Exception)\b|\bErrno\b|errors\.pydantic\.dev|sys\.set_int_max_str_digits")
MESSAGE_CHARS = 4_000  # a refusal is one paragraph, whatever the input's size


def napkin_main() -> Callable[[list[str]], int]:
    """The function the ``napkin`` console script runs, read from pyproject.toml (so a moved CLI is found)."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["napkin"].partition(":")
    return getattr(importlib.import_module(module), function)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the block takes longer than ``seconds`` (main thread only)."""

    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: it hangs")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_napkin(capsys, *argv: str, seconds: float = 20) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of one ``napkin`` command run in-process."""
    capsys.readouterr()
    with deadline(seconds):
        code = napkin_main()(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean(text: str) -> None:
    """No traceback, no exception text, no terminal control, and one bounded paragraph."""
    assert not LEAKS.search(text), text[:2000]
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, text[:2000]
    assert len(text) <= MESSAGE_CHARS, f"{len(text):,} characters: {text[:300]}…"


def assert_refused(result: tuple[int, str, str], *names: str) -> str:
    """Exit 2, nothing on stdout, a clean message on stderr that names every one of ``names``."""
    code, out, err = result
    assert code == EXIT_REFUSED, (code, out[:500], err[:500])
    assert out == "", out[:500]
    assert_clean(err)
    for name in names:
        assert name in err, (name, err[:1000])
    return err


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder`` (not following links): kind, bytes of regular files, mode, link target."""
    entries: dict[str, tuple] = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            entries[str(path)] = ("link", os.readlink(path))
        elif path.is_file():
            content = path.read_bytes() if info.st_size <= 2**20 else (info.st_size, info.st_mtime_ns)
            entries[str(path)] = ("file", content, info.st_mode, info.st_ino)
        else:
            entries[str(path)] = ("other", info.st_mode)
    return entries


@contextlib.contextmanager
def unchanged(folder: Path) -> Iterator[None]:
    """Assert that nothing under ``folder`` was created, removed or changed by the block."""
    before = snapshot(folder)
    yield
    assert snapshot(folder) == before, "a file changed"


def fifo(path: Path) -> Path:
    """A named pipe nobody writes to: reading it blocks forever, so only a refusal passes."""
    os.mkfifo(path)
    return path


def load_script(name: str):
    """A module from scripts/ (the long-run tools the suite runs briefly): scripts/NAME.py."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


needs_dev_zero = pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
