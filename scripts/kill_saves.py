"""Kill saves with SIGKILL and count what is left behind (issue 16: "0 corrupt files, 0 stale temp files").

A child process saves a profile over and over, alternating between two versions, with napkinmath's own
``write_text_atomically``; the parent kills it with SIGKILL after a random 1-30 ms, then checks that the
file on disk is one of the two versions, whole, and counts the temporary files the killed save left. After
the last kill one more save must leave no temporary file at all (it removes the leftovers, which nobody
holds a lock on). The suite runs 50 kills (tests/test_hostile_saves.py); for the long run:

    .venv/bin/python scripts/kill_saves.py --kills 400 --seed 1

Prints one line of counts and exits 1 if any file was corrupt or a leftover survived the final save.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from napkinmath.core.profile.atomic_write import temp_name_pattern, write_text_atomically
from napkinmath.core.profile.files import load_profile, profile_to_toml
from napkinmath.core.profile.paths import shipped_profile


@dataclass(frozen=True)
class KillResult:
    kills: int
    corrupt: int  # times the file was neither version, whole
    kills_leaving_temporaries: int  # kills after which a temporary file was on disk
    temporaries_after_final_save: int
    seconds: float


def two_versions() -> tuple[str, str]:
    """Two different, valid profiles as TOML text, each a few kilobytes (long descriptions widen the window)."""
    profile = load_profile(shipped_profile("llama-3.1-8b-1xl4.toml"))
    first = profile.model_copy(update={"description": "A" * 3900, "name": "version A"})
    second = profile.model_copy(update={"description": "B" * 3900, "name": "version B"})
    return profile_to_toml(first), profile_to_toml(second)


def _saver(target: Path, texts: tuple[str, str]) -> None:  # pragma: no cover - runs in the killed child
    try:
        while True:
            for text in texts:
                write_text_atomically(target, text)
    finally:
        os._exit(0)


def temporaries(folder: Path, name: str) -> list[str]:
    pattern = temp_name_pattern(name)
    return [entry.name for entry in folder.iterdir() if pattern.fullmatch(entry.name)]


def kill_loop(folder: Path, kills: int, seed: int) -> KillResult:
    """Run ``kills`` save-and-SIGKILL rounds in ``folder`` (POSIX: fork and SIGKILL)."""
    rng = random.Random(seed)
    texts = two_versions()
    target = folder / "saved.toml"
    write_text_atomically(target, texts[0])
    corrupt = left = 0
    started = time.perf_counter()
    for _ in range(kills):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            _saver(target, texts)
        time.sleep(rng.uniform(0.001, 0.030))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if target.read_text(encoding="utf-8") not in texts:
            corrupt += 1
        if temporaries(folder, target.name):
            left += 1
    write_text_atomically(target, texts[1])
    return KillResult(kills, corrupt, left, len(temporaries(folder, target.name)), time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folder", type=Path, help="where to save (default: a new temporary folder)")
    arguments = parser.parse_args(argv)
    if arguments.folder:
        arguments.folder.mkdir(parents=True, exist_ok=True)
        result = kill_loop(arguments.folder, arguments.kills, arguments.seed)
    else:
        with tempfile.TemporaryDirectory() as folder:
            result = kill_loop(Path(folder), arguments.kills, arguments.seed)
    print(f"kills {result.kills}, corrupt files {result.corrupt}, kills that left a temporary file "
          f"{result.kills_leaving_temporaries}, temporary files after the next save "
          f"{result.temporaries_after_final_save}, {result.seconds:.1f} s (seed {arguments.seed})")
    return 1 if result.corrupt or result.temporaries_after_final_save else 0


if __name__ == "__main__":
    sys.exit(main())
