"""Benchmark: CPU time (not wall time) of napkinmath's TUI to its first plan and per keystroke, in tmux.

Run by hand: python bench/tui_cpu.py [--launches 5] [--keys 40] [--bare]

Why CPU. bench/tui_latency.py times what a user waits for, which on a shared, loaded machine mostly
measures the other processes. The CPU the app's own process spends is what a change to the app can
lower, and it barely moves with the load.

Method. The app runs in tmux (120x36) as a child of this script (``--child``), which starts it the way
the ``napkin`` command does (cli/main.py, with the collector off as there) after wrapping two methods
of the planner screen to write ``time.process_time()`` (CPU of all the process's threads since it
started, interpreter start-up and imports included) to a file:
  * first plan: when the first frame that holds the plan (the capacity panel rendered before it) has
    been written to the terminal (Textual's ``App._display``), as bench/tui_start_instructions.py;
  * fields: when it has mounted the input panes and the footer (the app is usable).
Per keystroke: in one more run, "Average context" is focused through the palette (as in
bench/tui_latency.py), then 40 Up/Down keys are sent, each after the previous key's figure changed on
screen; the process's utime+stime from /proc/<pid>/stat (10 ms ticks) over the keys, less the CPU the
idle app spends over the same wall time (the cursor's blink), divided by the keys.
``--bare``: the same figures for bench/bare_app.py (its first paint; keys on its Input).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The child imports nothing else before the app (its imports count in its CPU); the parent's imports
# (tmux helpers and the focus of bench/tui_latency.py) are inside the functions it runs.
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def child(record: str, argv: list[str]) -> int:
    """Run the app (or the bare app) as the napkin command does, writing the two CPU marks to ``record``."""
    import gc

    gc.disable()  # as cli/main.py's run_app does before importing the app
    profile_to = os.environ.get("NAPKIN_CPU_PROFILE")  # --profile: the start-up, then the keys, profiled
    profiler = None
    if profile_to:
        import cProfile
        import signal

        profiler = cProfile.Profile()
        profiler.enable()

        def keys_profiled(signum: int, frame: object) -> None:
            assert profiler is not None
            if signum == signal.SIGUSR1:
                profiler.clear()
                profiler.enable()
            else:
                profiler.disable()
                profiler.dump_stats(f"{profile_to}.keys")

        signal.signal(signal.SIGUSR1, keys_profiled)
        signal.signal(signal.SIGUSR2, keys_profiled)

    def mark(name: str) -> None:
        if profiler is not None and name == "first_plan":
            profiler.disable()
            profiler.dump_stats(f"{profile_to}.start")
        with open(record, "a", encoding="utf-8") as handle:
            handle.write(f"{name} {time.process_time():.6f}\n")

    if argv and argv[0] == "--bare":
        gc.enable()
        import bare_app

        mount = bare_app.BareApp.on_mount

        def bare_mount(self) -> None:  # noqa: ANN001
            mount(self)
            self.call_after_refresh(lambda: (mark("first_plan"), mark("fields")))

        bare_app.BareApp.on_mount = bare_mount
        bare_app.BareApp().run()
        return 0
    from textual.app import App

    from napkinmath.cli.main import main
    from napkinmath.tui.main_screen import MainScreen
    from napkinmath.tui.outputs import CapacityPanel

    mount_inputs, display, render = MainScreen._mount_inputs, App._display, CapacityPanel.render
    shown = {"plan": False, "marked": False}

    def rendered(self: CapacityPanel) -> object:
        shown["plan"] = True
        return render(self)

    def first_frame(self: App[None], *args: object, **kwargs: object) -> None:
        display(self, *args, **kwargs)  # type: ignore[arg-type]
        if shown["plan"] and not shown["marked"]:
            shown["marked"] = True
            mark("first_plan")

    async def marked(self: MainScreen) -> None:
        await mount_inputs(self)
        mark("fields")

    CapacityPanel.render = rendered  # type: ignore[method-assign]
    App._display = first_frame  # type: ignore[method-assign]

    MainScreen._mount_inputs = marked  # type: ignore[method-assign]
    return main(argv)


def cpu_ticks(pid: str) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))


def read_marks(record: Path, timeout: float = 60.0) -> dict[str, float]:
    begin = time.perf_counter()
    while time.perf_counter() - begin < timeout:
        text = record.read_text() if record.exists() else ""
        marks = {name: float(value) for name, value in (line.split() for line in text.splitlines())}
        if "fields" in marks:
            return marks
        time.sleep(0.02)
    raise TimeoutError(f"no marks in {record} after {timeout:.0f}s")


def measure(bare: bool, launches: int, keys: int, profile: str = "") -> dict[str, float]:
    import signal
    import statistics
    import tempfile

    import tui_latency as latency

    spec = latency.BARE_SPEC if bare else latency.NAPKIN_SPEC
    tag = f"napkin-cpu-{os.getpid()}-{'bare' if bare else 'app'}"
    me = f"{sys.executable} {Path(__file__).resolve()} --child"
    tail = "--bare" if bare else latency.PROFILE
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        firsts, fields = [], []
        for run in range(launches + 2):  # run 0 is the warm-up; the last one measures the keys
            record, home = Path(tmp) / f"marks{run}", tempfile.mkdtemp(dir=tmp)
            session = f"{tag}-{run}"
            env = f"NAPKIN_CPU_PROFILE={profile}" if profile and run == launches + 1 else ""
            latency.start(session, f"env NAPKIN_HOME={home} {env} {me} {record} {tail}")
            marks = read_marks(record)
            if 0 < run <= launches:
                firsts.append(marks["first_plan"])
                fields.append(marks["fields"])
            if run == launches + 1:
                latency.wait_for(session, spec.ready)
                time.sleep(1.0)
                latency.focus(spec, session)
                pid = latency.tmux("display", "-p", "-t", session, "#{pane_pid}").strip()
                time.sleep(0.5)
                if profile:
                    os.kill(int(pid), signal.SIGUSR1)
                before, begin = cpu_ticks(pid), time.perf_counter()
                samples, misses = latency.key_latencies(spec, session, keys)
                used, wall = cpu_ticks(pid) - before, time.perf_counter() - begin
                if profile:
                    os.kill(int(pid), signal.SIGUSR2)
                idle_before = cpu_ticks(pid)
                time.sleep(wall)
                idle = cpu_ticks(pid) - idle_before
                result["key_ms"] = (used - idle) * TICK_S * 1000 / keys
                result["key_gross_ms"] = used * TICK_S * 1000 / keys
                result["idle_ms"] = idle * TICK_S * 1000
                result["misses"] = misses
            latency.quit_app(session)
    result["first_plan_s"] = statistics.median(firsts)
    result["fields_s"] = statistics.median(fields)
    result["first_plan_all"] = firsts  # type: ignore[assignment]
    return result


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2], sys.argv[3:]))
    import argparse

    import tui_latency as latency

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=5, help="measured launches (default 5)")
    parser.add_argument("--keys", type=int, default=40, help="keystrokes (default 40)")
    parser.add_argument("--bare", action="store_true", help="also measure bench/bare_app.py")
    parser.add_argument("--profile", default="", help="write cProfile stats of the last run's start-up and "
                        "keys to PROFILE.start and PROFILE.keys (napkinmath only; its CPU figures include profiling)")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.1f}")
    try:
        for bare in ([False, True] if args.bare else [False]):
            r = measure(bare, args.launches, args.keys, "" if bare else args.profile)
            print(f"{'bare Textual' if bare else 'napkinmath':12}  CPU to first plan {r['first_plan_s']:.3f} s "
                  f"(runs: {' '.join(f'{x:.3f}' for x in r['first_plan_all'])}), to fields {r['fields_s']:.3f} s; "
                  f"CPU per key {r['key_ms']:.1f} ms (gross {r['key_gross_ms']:.1f}, idle over the run "
                  f"{r['idle_ms']:.0f} ms, misses {r['misses']:.0f})")
    finally:
        for session in list(latency.SESSIONS):
            latency.kill(session)
    print(f"load: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
