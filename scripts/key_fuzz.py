"""Random keys through a real terminal (tmux): does the app crash or stack screens? (issue 16)

The app runs in a tmux pane of the given size, on a copy of a shipped profile, with $NAPKIN_HOME in a
temporary folder. Keys are sent in bursts of 1-6 (so fast-key races happen), drawn from a vocabulary
that reaches every screen and dialog: the command palette (and its commands by name), help, open, save,
save-as, compare, charts, recommend, import, local models, the calibration prompt, PageUp/PageDown,
the F-keys, ctrl+s/ctrl+o, and hostile text ("[/]", "1e-308", an ESC sequence). After each burst the
pane is checked:

* a crash: the pane died with a traceback on screen or a non-zero exit status;
* stacked screens: the app writes the deepest screen stack it reached to $NAPKIN_SCREEN_LOG; more than
  the main screen plus one dialog (plus the palette over it) fails.

A clean quit (ctrl+q was among the keys) restarts the app and the run goes on. The suite runs a short,
seeded run at each size (tests/test_key_fuzz.py); long runs are by hand:

    .venv/bin/python scripts/key_fuzz.py --keys 20000 --size 80x24 --seed 1
    .venv/bin/python scripts/key_fuzz.py --keys 20000 --size 120x36 --seed 2

Prints one line of counts; exits 1 on any crash or stacked screen, with the pane's text and the
last keys sent in --report (default key_fuzz_report.txt).
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SESSION_PREFIX = "napkin-fuzz"
MAX_SCREENS = 3  # the main screen, one dialog, and the command palette over it
QUIT_WITHIN_S = 20.0  # the app must quit within this after Escape, Escape, ctrl+q, q (sent again every 0.3 s)
PALETTE_COMMANDS = ("Import config.json", "Browse local models", "Detect GPUs", "Calibrate from a vLLM log",
                    "Calibrate from a measurement", "Import config.json", "Browse local models",
                    "Calibrate from a vLLM log", "Calibrate from a measurement", "Export: Markdown", "Export: vllm",
                    "Save profile as",
                    "Compare with a profile", "Compare with the baseline", "Recommend", "Charts", "Open profile",
                    "Show keys", "Pin", "Undo", "Redo", "Units: GB", "Units: GiB", "Theme", "llama", "users",
                    "h100", "dark")
HOSTILE_TEXT = ("[/]", "[bold red]X[/]", "[@click=app.quit]x[/]", "1e-308", "5e-324", "inf", "nan", "-1", "0",
                "99999999999999999999", "1e400", "\x1b]0;PWNED\x07", "../../etc/passwd", "/dev/zero", "128k")
# tmux key names, weighted: (key, weight)
KEYS: tuple[tuple[str, int], ...] = (
    ("C-p", 10), ("F1", 5), ("?", 3), ("F2", 3), ("F3", 3), ("F4", 4), ("F5", 5), ("F6", 5), ("F7", 5),
    ("F8", 1), ("F9", 1), ("F10", 1), ("F11", 1), ("F12", 1), ("C-o", 6), ("C-s", 5), ("C-z", 4), ("C-y", 3),
    ("PageUp", 6), ("PageDown", 6), ("Home", 2), ("End", 2), ("Escape", 14), ("Enter", 14), ("Tab", 12),
    ("BTab", 6), ("Up", 10), ("Down", 10), ("Left", 6), ("Right", 6), ("S-Up", 3), ("S-Down", 3),
    ("BSpace", 6), ("DC", 2), ("Space", 3), ("C-q", 1), ("C-c", 1), ("C-l", 1), ("C-a", 1), ("C-e", 1),
    ("C-w", 1), ("C-u", 1), ("C-k", 1), ("C-t", 1), ("C-b", 1), ("C-f", 1), ("C-d", 1), ("C-r", 1), ("/", 2),
) + tuple((character, 1) for character in "0123456789.-kmeyn") + tuple((c, 1) for c in "abcdefghijlopqrstuvwxz")


@dataclass
class FuzzResult:
    keys: int = 0
    bursts: int = 0
    restarts: int = 0
    crashes: list[str] = field(default_factory=list)
    deepest_stack: int = 0
    screens: set[str] = field(default_factory=set)
    stuck: str = ""  # the pane, when the app would not quit at the end
    seconds: float = 0.0


SOCKET = f"{SESSION_PREFIX}-{os.getpid()}"  # a private tmux server: its options never touch the user's


def _tmux(*args: str, check: bool = True) -> str:
    done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


class Pane:
    """One app in one tmux session."""

    def __init__(self, workdir: Path, size: tuple[int, int], napkin: str, profile: Path, seed: int) -> None:
        self.workdir = workdir
        self.size = size
        self.session = f"{SESSION_PREFIX}-{os.getpid()}-{seed}"
        self.status = workdir / "status"
        self.screens = workdir / "screens"
        # The terminal without signal keys and flow control: keys sent while the app starts or exits (when
        # the terminal is not raw) must not stop it (ctrl+z), kill it (ctrl+c) or freeze the output (ctrl+s).
        self.command = (f"stty -isig -ixon 2>/dev/null; {shlex.quote(napkin)} {shlex.quote(str(profile))}; "
                        f"echo $? > {shlex.quote(str(self.status))}")
        self.environment = {"NAPKIN_HOME": str(workdir / "home"), "NAPKIN_SCREEN_LOG": str(self.screens),
                            "HF_HUB_CACHE": str(workdir / "hf"), "TERM": "xterm-256color", "COLORTERM": "truecolor"}

    def start(self) -> None:
        self.status.unlink(missing_ok=True)
        width, height = self.size
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in self.environment.items())
        _tmux("kill-session", "-t", self.session, check=False)
        config = self.workdir / "tmux.conf"
        config.write_text("set -g history-limit 200000\nset -g remain-on-exit on\n")
        for attempt in range(3):  # killing the last session ends the server; a new-session can reach it dying
            try:
                _tmux("-f", str(config), "new-session", "-d", "-s", self.session, "-x", str(width), "-y",
                      str(height), f"env {exports} sh -c {shlex.quote(self.command)}")
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                time.sleep(0.5)
        self.wait_for_screen()

    def wait_for_screen(self, timeout_s: float = 20) -> None:
        give_up = time.monotonic() + timeout_s
        while time.monotonic() < give_up:
            if self.dead() or len(self.text().strip()) > 40:
                return
            time.sleep(0.1)

    def send(self, keys: list[str]) -> None:
        for key in keys:
            if key.startswith("sleep:"):  # let the palette's search find the command before Enter
                time.sleep(float(key[6:]))
            elif key.startswith("text:"):
                _tmux("send-keys", "-t", self.session, "-l", key[5:], check=False)
            else:
                _tmux("send-keys", "-t", self.session, key, check=False)

    def dead(self) -> bool:
        return _tmux("display", "-p", "-t", self.session, "#{pane_dead}", check=False).strip() == "1"

    def text(self) -> str:
        return _tmux("capture-pane", "-p", "-J", "-S", "-", "-t", self.session, check=False)

    def exit_status(self) -> int | None:
        try:
            return int(self.status.read_text().strip())
        except (OSError, ValueError):
            return None

    def runs(self) -> list[tuple[int, set[str]]]:
        """(deepest stack, screens shown) of each app run so far, as the app logged them at exit."""
        try:
            lines = self.screens.read_text().splitlines()
        except OSError:
            return []
        found = []
        for line in lines:
            depth, _, names = line.partition(" ")
            if depth.isdigit():
                found.append((int(depth), set(filter(None, names.split(",")))))
        return found

    def dump_stacks(self) -> str:
        """Every thread's stack of the app (SIGUSR1: the app registers faulthandler when logging screens)."""
        shell = _tmux("display", "-p", "-t", self.session, "#{pane_pid}", check=False).strip()
        children = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True, check=False).stdout.split()
        for pid in children:
            try:
                os.kill(int(pid), signal.SIGUSR1)
            except (OSError, ValueError):
                pass
        time.sleep(1)
        try:
            return Path(f"{self.screens}.stacks").read_text()[-8000:]
        except OSError:
            return "(no stacks written)"

    def stop(self) -> None:
        socket = _tmux("display", "-p", "#{socket_path}", check=False).strip()
        _tmux("kill-server", check=False)
        if socket:
            Path(socket).unlink(missing_ok=True)  # the private server's socket file


def _burst(rng: random.Random) -> list[str]:
    keys, weights = zip(*KEYS, strict=True)
    roll = rng.random()
    if roll < 0.10:  # a palette command by name (sometimes Enter at once, sometimes after the search)
        closing = ["Escape", "Escape", "sleep:0.2"] if rng.random() < 0.6 else []  # from the planner, mostly
        wait = [] if rng.random() < 0.3 else ["sleep:0.4"]
        return [*closing, "C-p", f"text:{rng.choice(PALETTE_COMMANDS)}", *wait,
                *(["Enter"] if rng.random() < 0.85 else [])]
    if roll < 0.15:  # hostile text into whatever has focus
        return [f"text:{rng.choice(HOSTILE_TEXT)}", *(["Enter"] if rng.random() < 0.5 else [])]
    return rng.choices(keys, weights=weights, k=rng.randint(1, 6))


def fuzz(keys: int, size: tuple[int, int], seed: int, report: Path | None = None, napkin: str | None = None,
         pause_s: float = 0.03) -> FuzzResult:
    """Send ``keys`` random keys to the app at ``size``; the counts of what went wrong."""
    napkin = napkin or shutil.which("napkin") or str(Path(sys.executable).with_name("napkin"))
    rng = random.Random(seed)
    result = FuzzResult()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="napkin-fuzz-") as folder:
        workdir = Path(folder)
        (workdir / "home" / "profiles").mkdir(parents=True)
        (workdir / "hf").mkdir()
        from napkinmath.core.profile.paths import shipped_profile

        profile = workdir / "fuzz.toml"
        profile.write_bytes(shipped_profile("llama-3.1-70b-2xh100-fp8.toml").read_bytes())
        pane = Pane(workdir, size, napkin, profile, seed)
        pane.start()
        recent: list[str] = []
        try:
            while result.keys < keys:
                burst = _burst(rng)
                pane.send(burst)
                recent = (recent + burst)[-60:]
                result.keys += sum(1 for key in burst if not key.startswith("sleep:"))
                result.bursts += 1
                time.sleep(pause_s)
                if not pane.dead():
                    continue
                time.sleep(0.2)  # let the status file and the traceback land
                text, status = pane.text(), pane.exit_status()
                if _crashed(text, status):
                    result.crashes.append(_crash_report(text, status, recent))
                    if report is not None:
                        report.write_text("\n\n".join(result.crashes))
                result.restarts += 1
                pane.start()
            time.sleep(0.5)
            text = pane.text()
            if _crashed(text, pane.exit_status() if pane.dead() else 0):
                result.crashes.append(_crash_report(text, pane.exit_status(), recent))
        finally:
            if not pane.dead():  # let the app log its screens: quit it (Escape closes what is open)
                # a time, not 20 tries of 0.3 s (6 s and more): generous for a loaded machine (the suite's four
                # workers on two cores, plus other jobs), where this test failed once, in a way not recorded
                give_up = time.monotonic() + QUIT_WITHIN_S
                while True:
                    pane.send(["Escape", "Escape", "C-q", "q"])
                    time.sleep(0.3)
                    if pane.dead() or time.monotonic() > give_up:
                        break
                if not pane.dead():
                    stacks = pane.dump_stacks()
                    result.stuck = f"the app did not quit; last keys: {recent}\n{pane.text()[-3000:]}\n{stacks}"
                    if report is not None:
                        report.write_text("\n\n".join([*result.crashes, result.stuck]))
            runs = pane.runs()
            result.deepest_stack = max((depth for depth, _ in runs), default=0)
            result.screens = set().union(*(names for _, names in runs)) if runs else set()
            pane.stop()
    result.seconds = time.perf_counter() - started
    return result


def _crashed(text: str, status: int | None) -> bool:
    """A traceback on screen (Rich's box, or a plain one) or a failing exit status."""
    return "Traceback" in text or "─ locals ─" in text or status not in (0, None)


def _crash_report(text: str, status: int | None, recent: list[str]) -> str:
    start = text.find("Traceback")
    shown = text[start:] if start >= 0 else text[-4000:]
    return f"exit status {status}; last keys: {recent}\n{shown[-6000:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--size", default="80x24", help="WIDTHxHEIGHT of the terminal")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pause", type=float, default=0.03, help="seconds between bursts")
    parser.add_argument("--report", type=Path, default=Path("key_fuzz_report.txt"))
    arguments = parser.parse_args(argv)
    if shutil.which("tmux") is None:
        print("key_fuzz: tmux is not installed", file=sys.stderr)
        return 2
    width, _, height = arguments.size.partition("x")
    result = fuzz(arguments.keys, (int(width), int(height)), arguments.seed, arguments.report,
                  pause_s=arguments.pause)
    print(f"keys {result.keys} in {result.bursts} bursts at {arguments.size}, seed {arguments.seed}: "
          f"{len(result.crashes)} crashes, {result.restarts} restarts, deepest screen stack {result.deepest_stack}, "
          f"{result.seconds:.0f} s; screens shown: {', '.join(sorted(result.screens))}")
    for crash in result.crashes:
        print("\n" + crash.splitlines()[0])
    if result.stuck:
        print("\n" + result.stuck)
    return 1 if result.crashes or result.stuck or result.deepest_stack > MAX_SCREENS else 0


if __name__ == "__main__":
    sys.exit(main())
