"""Benchmark: napkinmath's TUI latency and memory in a real terminal (tmux), next to a bare Textual app.

Run by hand: python bench/tui_latency.py [--keys 40] [--launches 5]

Method. Each app runs in its own tmux session (120x36) started with `exec`, so the pane's pid is
the app's python process. Both apps are measured the same way, in the same run:
  * keystroke-to-figure: focus a numeric field (napkinmath: "Average context" via the command palette;
    bare app: its only Input), then for each sample capture the screen, send one key with
    `tmux send-keys`, and poll `tmux capture-pane -p` until a region that only the *output* changes
    differs from the capture taken just before the key (napkinmath: the plan panels from "Memory per
    GPU" down, not the input rows; bare app: the Static's line, not the Input's). Keys go Up 10 times,
    then Down 10 times, and so on, so every key changes a figure; a sample that shows no change
    within 3 s is counted as a miss. The timer starts before the send-keys process is spawned.
  * launch-to-first-plan: from spawning `tmux new-session` until the screen shows "Users served <n>"
    (bare app: "value: 4096"), with a fresh NAPKIN_HOME each time; one untimed warm-up launch per app
    first, so neither app pays for a cold file cache, unwritten bytecode or an empty data cache (the
    parsed catalogs, core/packaged_data.py): what a user's second launch finds. Both apps run with
    PYTHONDONTWRITEBYTECODE unset, as on a user's machine; where it is set (this project's sandbox sets
    it), every launch would compile napkinmath's ~70 modules from source again, ~60 ms.
  * peak memory: VmHWM of the app's process from /proc/<pid>/status after the keystroke run, just
    before quitting (MB = 10^6 bytes).
Limits. Every poll spawns a tmux client (its cost is printed as "poll cost"), so a figure is known
only to within about one poll, and the polling competes with the app for CPU on a small machine.
Latencies include tmux's own delivery and screen parsing, which are equal for both apps; they do not
include the real terminal emulator's drawing. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAPKIN = str(Path(sys.executable).parent / "napkin")
PROFILE = str(ROOT / "profiles" / "llama-3.1-70b-2xh100-fp8.toml")
SIZE = ("120", "36")
SESSIONS: set[str] = set()


def tmux(*args: str, check: bool = True) -> str:
    done = subprocess.run(["tmux", *args], capture_output=True, text=True)
    if check and done.returncode:
        raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def capture(session: str) -> str:
    done = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else ""


def alive(session: str) -> bool:
    return subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0


def start(session: str, command: str) -> None:
    """Run ``command`` in a new tmux session; bytecode may be written (see the module docstring)."""
    tmux("new-session", "-d", "-s", session, "-x", SIZE[0], "-y", SIZE[1],
         "exec env -u PYTHONDONTWRITEBYTECODE " + command)
    SESSIONS.add(session)


def kill(session: str) -> None:
    tmux("kill-session", "-t", session, check=False)
    SESSIONS.discard(session)


def wait_for(session: str, pattern: re.Pattern, timeout: float = 30.0) -> float:
    """Seconds (from now) until the pattern is on screen; polls as fast as practical."""
    begin = time.perf_counter()
    while time.perf_counter() - begin < timeout:
        if pattern.search(capture(session)):
            return time.perf_counter() - begin
        time.sleep(0.001)
    raise TimeoutError(f"{pattern.pattern!r} not on screen after {timeout:.0f}s:\n{capture(session)}")


def quit_app(session: str) -> None:
    tmux("send-keys", "-t", session, "C-q", check=False)
    for attempt in range(40):
        time.sleep(0.05)
        if not alive(session):
            break
        if attempt == 10:  # napkinmath asks about unsaved changes: q quits without saving
            tmux("send-keys", "-t", session, "q", check=False)
    kill(session)


class Spec:
    def __init__(self, name, command, ready, region_start, usable=None):
        self.name, self.command, self.ready, self.region_start = name, command, ready, region_start
        self.usable = usable or ready

    def cmd(self, home: str) -> str:
        return self.command.format(home=shlex.quote(home))

    def region(self, screen: str) -> str:
        """The screen from the first line holding region_start down, less the footer line."""
        lines = screen.splitlines()
        for index, line in enumerate(lines):
            if self.region_start in line:
                return "\n".join(lines[index:-1])
        return ""


NAPKIN_SPEC = Spec("napkinmath", f"env NAPKIN_HOME={{home}} {shlex.quote(NAPKIN)} {shlex.quote(PROFILE)}",
                   re.compile(r"Users served\s+[\d,]+"), "Memory per GPU",
                   usable=re.compile(r"Avg ctx\s+\d+"))  # the input panes are built after the first paint
BARE_SPEC = Spec("bare Textual", f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'bench' / 'bare_app.py'))}",
                 re.compile(r"value: 4096"), "value:")


def focus(spec: Spec, session: str) -> None:
    if spec is NAPKIN_SPEC:
        tmux("send-keys", "-t", session, "C-p")
        time.sleep(0.5)
        tmux("send-keys", "-t", session, "-l", "Go to: Average context")
        wait_for(session, re.compile(r"workload\.avg_context_tokens"))  # the palette has found it (slow when loaded)
        time.sleep(0.3)
        tmux("send-keys", "-t", session, "Enter")
        time.sleep(0.5)
    # check the focus: one Up must change the figures, then Down puts the value back
    for key in ("Up", "Down"):
        before = spec.region(capture(session))
        tmux("send-keys", "-t", session, key)
        time.sleep(0.5)
        if spec.region(capture(session)) == before:
            raise RuntimeError(f"{spec.name}: {key} did not change the figures; focus failed?\n{capture(session)}")


def key_latencies(spec: Spec, session: str, keys: int) -> tuple[list[float], int]:
    samples, misses = [], 0
    for index in range(keys):
        key = "Up" if (index // 10) % 2 == 0 else "Down"
        time.sleep(0.15)  # let the previous frame finish
        before = spec.region(capture(session))
        begin = time.perf_counter()
        subprocess.run(["tmux", "send-keys", "-t", session, key], capture_output=True)
        while True:
            elapsed = time.perf_counter() - begin
            if spec.region(capture(session)) != before:
                samples.append(elapsed * 1000)
                break
            if elapsed > 3.0:
                misses += 1
                break
            time.sleep(0.001)
    return samples, misses


def peak_mb(session: str) -> tuple[float, str]:
    pid = tmux("display", "-p", "-t", session, "#{pane_pid}").strip()
    status = Path(f"/proc/{pid}/status").read_text()
    kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return kb * 1024 / 1e6, cmdline.strip()


def poll_cost_ms(session: str, count: int = 50) -> float:
    timings = []
    for _ in range(count):
        begin = time.perf_counter()
        capture(session)
        timings.append((time.perf_counter() - begin) * 1000)
    return statistics.median(timings)


def measure(spec: Spec, keys: int, launches: int) -> dict:
    tag = f"napkin-bench-{os.getpid()}-{spec.name.split()[0]}"
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        times, usable = [], []
        for run in range(launches + 1):  # run 0 is the warm-up
            session, home = f"{tag}-l{run}", tempfile.mkdtemp(dir=tmp)
            begin = time.perf_counter()
            start(session, spec.cmd(home))
            wait_for(session, spec.ready)
            painted = time.perf_counter() - begin
            wait_for(session, spec.usable)
            if run:
                times.append(painted)
                usable.append(time.perf_counter() - begin)
            quit_app(session)
        result["launch"] = statistics.median(times)
        result["usable"] = statistics.median(usable)
        session = f"{tag}-keys"
        start(session, spec.cmd(tempfile.mkdtemp(dir=tmp)))
        wait_for(session, spec.ready)
        time.sleep(1.0)
        focus(spec, session)
        result["poll"] = poll_cost_ms(session)
        samples, result["misses"] = key_latencies(spec, session, keys)
        result["samples"] = samples
        result["median"] = statistics.median(samples) if samples else float("nan")
        result["p90"] = statistics.quantiles(samples, n=10)[-1] if len(samples) > 1 else float("nan")
        result["mb"], result["process"] = peak_mb(session)
        quit_app(session)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=40, help="keystrokes per app (default 40)")
    parser.add_argument("--launches", type=int, default=5, help="timed launches per app (default 5)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{tmux('-V').strip()}, {platform.platform()}")
    try:
        bare = measure(BARE_SPEC, args.keys, args.launches)
        napkin = measure(NAPKIN_SPEC, args.keys, args.launches)
    finally:
        for session in list(SESSIONS):
            kill(session)
    rows = [("keystroke→figure median (ms)", "median", "{:.1f}"), ("keystroke→figure p90 (ms)", "p90", "{:.1f}"),
            ("keys changed / missed", None, None), ("poll cost, one capture-pane (ms)", "poll", "{:.1f}"),
            (f"launch→first plan median of {args.launches} (s)", "launch", "{:.3f}"),
            (f"launch→fields on screen median of {args.launches} (s)", "usable", "{:.3f}"),
            ("peak resident VmHWM (MB)", "mb", "{:.1f}")]
    print(f"\n{'':44}{'napkinmath':>14}{'bare Textual':>14}{'ratio':>8}")
    for label, key, fmt in rows:
        if key is None:
            cells = [f"{len(r['samples'])}/{r['misses']}" for r in (napkin, bare)]
            print(f"{label:44}{cells[0]:>14}{cells[1]:>14}")
            continue
        ratio = f"{napkin[key] / bare[key]:>7.2f}x" if key != "poll" else ""
        print(f"{label:44}{fmt.format(napkin[key]):>14}{fmt.format(bare[key]):>14}{ratio}")
    goals = [
        ("keystroke→figure median within 1.5x of bare", napkin["median"] <= 1.5 * bare["median"]
         and not napkin["misses"], f"{napkin['median'] / bare['median']:.2f}x"),
        ("first plan on screen within 1.8x of bare first paint", napkin["launch"] <= 1.8 * bare["launch"],
         f"{napkin['launch'] / bare['launch']:.2f}x"),
        ("napkinmath under 100 MB resident", napkin["mb"] < 100, f"{napkin['mb']:.1f} MB"),
    ]
    print("\ngoals:")
    for label, ok, figure in goals:
        print(f"  {'PASS' if ok else 'FAIL'}  {label} ({figure})")
    print(f"\nprocesses measured: {napkin['process']!r}; {bare['process']!r}")
    for name, r in (("napkinmath", napkin), ("bare", bare)):
        print(f"{name} samples (ms): " + " ".join(f"{s:.0f}" for s in r["samples"]))


if __name__ == "__main__":
    main()
