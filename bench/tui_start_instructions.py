"""Benchmark: machine instructions from process start to the first frame, napkinmath against a bare Textual app.

Run by hand: python bench/tui_start_instructions.py [--runs 2]   (needs valgrind and tmux)

Why instructions. bench/tui_latency.py (wall time, the issue's goal) and bench/tui_cpu.py (CPU time) move
with the machine's load by a few percent, more than most single start-up changes are worth; the count of
instructions does not (two runs of one tree differ by ~0.3%). Use this to judge a change, and
bench/tui_latency.py to state the goal.

Method. Each app runs in tmux (120x36) under ``valgrind --tool=callgrind``, started the way the ``napkin``
command starts it (cli/main.py, with PYTHONDONTWRITEBYTECODE unset as on a user's machine), and exits
as soon as the first frame that holds the plan (for napkinmath: the capacity panel rendered before it;
the bare app's first frame) has been written to the terminal (Textual's ``App._display``); the record
says how many frames came before it (before commit e29882f the first frame lacked the plan).
Callgrind's total ("Collected") counts every instruction of the process from its first: the
interpreter's start, imports, the profile, the first layout and render. One untimed run of each app
first writes bytecode and napkinmath's data cache (core/packaged_data.py). For a before/after, run it
on each commit (``git stash``, or a second worktree with its own virtual environment).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def child(record: str, kind: str, profile: str = "") -> None:
    """Run one app until the first frame holding the plan is written; record the frames before it and exit."""
    import gc

    gc.disable()  # as cli/main.py's run_app does before importing the app
    from textual.app import App

    shown = {"plan": kind == "bare"}
    display = App._display

    frames = [0]

    def first_frame(self: App[None], *args: object, **kwargs: object) -> None:
        display(self, *args, **kwargs)  # type: ignore[arg-type]
        if not shown["plan"]:
            frames[0] += 1
            return
        Path(record).write_text(f"frames_before_the_plan={frames[0]}\n")
        os._exit(0)

    App._display = first_frame  # type: ignore[method-assign]
    if kind == "bare":
        sys.path.insert(0, str(BENCH))
        import bare_app

        bare_app.BareApp().run()
        return
    from napkinmath.cli.main import main
    from napkinmath.tui.outputs import CapacityPanel

    render = CapacityPanel.render

    def rendered(self: CapacityPanel) -> object:
        shown["plan"] = True
        return render(self)

    CapacityPanel.render = rendered  # type: ignore[method-assign]
    main([profile])


def count(kind: str, scratch: Path) -> tuple[int, str]:
    """Instructions of one run of ``kind`` ("napkin" or "bare"), and what the child recorded. The tmux
    session (its size, PYTHONDONTWRITEBYTECODE unset) and the profile are bench/tui_latency.py's."""
    import tui_latency as latency

    tag = f"napkin-instr-{os.getpid()}-{kind}-{time.monotonic_ns()}"
    record, log = scratch / f"{tag}.record", scratch / f"{tag}.log"
    python = Path(sys.executable)
    latency.start(tag, f"NAPKIN_HOME={shlex.quote(str(scratch / 'home'))} "
                       f"valgrind --tool=callgrind --callgrind-out-file=/dev/null {shlex.quote(str(python))} "
                       f"{shlex.quote(str(Path(__file__).resolve()))} --child {shlex.quote(str(record))} {kind} "
                       f"{shlex.quote(latency.PROFILE)} 2> {shlex.quote(str(log))}")
    try:
        for _ in range(600):
            if not latency.alive(tag):
                break
            time.sleep(0.25)
    finally:
        latency.kill(tag)
    found = re.search(r"Collected : (\d+)", log.read_text() if log.exists() else "")
    if not found:
        raise RuntimeError(f"{kind}: no callgrind total in {log}")
    return int(found.group(1)), record.read_text().strip() if record.exists() else "no record"


def main() -> None:
    if len(sys.argv) > 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    import argparse

    sys.path.insert(0, str(BENCH))  # bench/tui_latency.py
    import statistics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="measured runs of each app (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        figures: dict[str, list[int]] = {"napkin": [], "bare": []}
        notes: dict[str, str] = {}
        for kind in figures:
            count(kind, scratch)  # bytecode and the data cache written, as on a second launch
            for _ in range(args.runs):
                instructions, note = count(kind, scratch)
                if not note.startswith("frames_before_the_plan="):
                    raise RuntimeError(f"{kind}: no frame with the plan ({note})")
                figures[kind].append(instructions)
                notes[kind] = note
    napkin, bare = (statistics.median(figures[kind]) for kind in ("napkin", "bare"))
    import importlib.util

    spec = importlib.util.find_spec("napkinmath.core")  # the package's own folder (an editable install hides it)
    where = Path(spec.origin).parent.parent if spec and spec.origin else "not found"
    print(f"napkinmath measured: {where} (the package {sys.executable} imports)")
    for kind, label in (("napkin", "napkinmath"), ("bare", "bare Textual")):
        runs = " ".join(f"{value / 1e6:.1f}" for value in figures[kind])
        print(f"{label:13} instructions to the first frame: {statistics.median(figures[kind]) / 1e6:8.1f} M "
              f"(runs: {runs}; {notes[kind]})")
    print(f"ratio {napkin / bare:.2f}x")


if __name__ == "__main__":
    main()
