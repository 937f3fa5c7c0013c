"""Hostile GPU tools (issue 16): nvidia-smi / rocm-smi that print absurd numbers, endless or endless-line
output, hang, or leave a child holding the pipe, and detection flags no process can honour. Detection
answers in bounded time with one clean sentence (``napkin detect`` exit 1), bad flags exit 2, and no
process the tool started outlives the detection."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from fake_tools import install
from hostile_support import assert_clean, assert_refused, deadline, run_napkin

from napkinmath.core.sources.gpu_detect import EXIT_GRACE_S, detect_gpus

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake tools are POSIX shell scripts")

SLEEP = shutil.which("sleep") or "/bin/sleep"
YES = shutil.which("yes") or "/usr/bin/yes"
HEAD = shutil.which("head") or "/usr/bin/head"
TR = shutil.which("tr") or "/usr/bin/tr"
CAT = shutil.which("cat") or "/bin/cat"
TOUCH = shutil.which("touch") or "/usr/bin/touch"
H100_LINE = "0, NVIDIA H100 80GB HBM3, 81559, 550.54.15, Disabled"


def alive(pid: int, settle_s: float = 2.0) -> bool:
    """Whether a process still runs ``settle_s`` after the check began (SIGKILL is delivered asynchronously;
    a zombie waiting for its parent's reaping counts as ended)."""
    give_up = time.monotonic() + settle_s
    while _running(pid):
        if time.monotonic() > give_up:
            return True
        time.sleep(0.02)
    return False


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: fall back to signal 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state not in ("Z", "X")


def detect_fails(capsys, *names: str) -> str:
    code, out, err = run_napkin(capsys, "detect")
    assert code == 1 and out == "", (code, out, err)
    assert_clean(err)
    for name in names:
        assert name in err, (name, err)
    return err


@pytest.mark.parametrize("memory", ["inf", "-inf", "nan", "1e400", "-1", "0", "1e30"])
def test_nvidia_memory_must_be_positive_and_finite(fake_path, capsys, memory):
    install(fake_path, "nvidia-smi", f"echo '0, NVIDIA H100 80GB HBM3, {memory}, 550.54.15, Disabled'")
    detect_fails(capsys, "nvidia-smi line 1", "memory.total", "finite")


@pytest.mark.parametrize("vram", ["1e400", "inf", "NaN", "-5"])
def test_rocm_vram_must_be_positive_and_finite(fake_path, capsys, vram):
    install(fake_path, "rocm-smi", f"{CAT} <<'EOF'\n" + json.dumps(
        {"card0": {"Card Series": "AMD Instinct MI300X OAM", "VRAM Total Memory (B)": vram}}) + "\nEOF")
    detect_fails(capsys, "rocm-smi card0", "VRAM total", "finite")


def test_rocm_json_nested_too_deep(fake_path, capsys):
    install(fake_path, "rocm-smi", f"{CAT} <<'EOF'\n{{\"card0\": " + "[" * 5000 + "]" * 5000 + "}\nEOF")
    detect_fails(capsys, "rocm-smi", "nested too deep")


def test_a_10_mb_line_is_a_clear_refusal(fake_path, capsys):
    install(fake_path, "nvidia-smi", f"{YES} x | {HEAD} -c 10000000 | {TR} -d '\\n'")
    err = detect_fails(capsys, "nvidia-smi")
    assert "field larger than field limit" not in err
    assert "more than 1,000,000 bytes" in err or "characters long" in err


def test_a_long_line_under_the_output_cap_names_its_length(fake_path, capsys):
    install(fake_path, "nvidia-smi", f"{YES} x | {HEAD} -c 200000 | {TR} -d '\\n'")
    detect_fails(capsys, "nvidia-smi line 1", "100,000 characters long")


def test_endless_output_is_cut_off(fake_path, capsys):
    install(fake_path, "nvidia-smi", f"exec {YES} '{H100_LINE}'")
    with deadline(10):
        detect_fails(capsys, "nvidia-smi", "more than 1,000,000 bytes")


@pytest.mark.parametrize("timeout", ["nan", "inf", "1e308", "-1", "0", "-inf", "601"])
def test_timeout_must_be_a_finite_number_above_zero(fake_path, tmp_path, capsys, timeout):
    marker = tmp_path / "started"
    install(fake_path, "nvidia-smi", f"{TOUCH} '{marker}'\nexec {SLEEP} 30")
    with deadline(5):
        assert_refused(run_napkin(capsys, "detect", "--timeout", timeout), "--timeout")
    assert not marker.exists(), "the tool was started although the timeout was refused"


def test_a_timed_out_tool_and_its_children_are_killed(fake_path, tmp_path):
    pids = tmp_path / "pids"
    install(fake_path, "nvidia-smi", f"echo $$ > '{pids}'\n{SLEEP} 60 &\necho $! >> '{pids}'\nwait")
    detection = detect_gpus(timeout_s=0.5)
    assert detection.problem.startswith("nvidia-smi did not answer within 0.5 s")
    for pid in map(int, pids.read_text().split()):
        assert not alive(pid), f"process {pid} outlived the detection"


def test_a_grandchild_holding_stdout_does_not_turn_an_answer_into_a_timeout(fake_path, tmp_path):
    pids = tmp_path / "pids"
    install(fake_path, "nvidia-smi", f"echo '{H100_LINE}'\n{SLEEP} 60 &\necho $! > '{pids}'\nexit 0")
    started = time.monotonic()
    detection = detect_gpus(timeout_s=5)
    assert time.monotonic() - started < 5 * EXIT_GRACE_S + 2
    assert [gpu.catalog_id for gpu in detection.gpus] == ["h100-sxm"] and detection.problem is None
    assert not alive(int(pids.read_text())), "the grandchild outlived the detection"


def test_an_interrupted_detection_still_kills_the_tool(fake_path, tmp_path, monkeypatch):
    """The process group is killed in a finally: an exception while reading (here a KeyboardInterrupt)
    does not leave the tool running."""
    from napkinmath.core.sources import gpu_detect

    pids = tmp_path / "pids"
    install(fake_path, "nvidia-smi", f"echo $$ > '{pids}'\nexec {SLEEP} 60")
    real_collect = gpu_detect._collect

    def interrupted(process, timeout_s):
        deadline_at = time.monotonic() + 5
        while not pids.exists() and time.monotonic() < deadline_at:
            time.sleep(0.01)
        raise KeyboardInterrupt

    monkeypatch.setattr(gpu_detect, "_collect", interrupted)
    with pytest.raises(KeyboardInterrupt):
        detect_gpus(timeout_s=5)
    monkeypatch.setattr(gpu_detect, "_collect", real_collect)
    time.sleep(0.1)
    assert not alive(int(pids.read_text()))


@pytest.mark.parametrize("name", ["[/]", "[bold red]GPU[/]", "[@click=app.quit]x[/]", "GPU\x1b]0;PWNED\x07",
                                  "A\x9b2J", "X" * 3000],
                         ids=["close_tag", "styled", "click", "osc_title", "c1_csi", "long"])
def test_hostile_gpu_names_are_kept_as_escaped_text(fake_path, capsys, name):
    install(fake_path, "nvidia-smi", f"{CAT} <<'EOF'\n" + f"0, {name}, 81559, 550.54.15, Disabled" + "\nEOF")
    code, out, err = run_napkin(capsys, "detect")
    assert code == 0 and err == ""
    assert_clean(out.replace("\n", " ")[:3000])
    shown = name.replace("\x1b", "\\x1b").replace("\x07", "\\x07").replace("\x9b", "\\x9b")
    assert shown[:100] in out
    code, out, err = run_napkin(capsys, "detect", "--json")
    gpu = json.loads(out)["gpus"][0]
    assert "\x1b" not in gpu["name"] and len(gpu["name"]) <= 120
