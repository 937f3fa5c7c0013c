"""Detect the local GPUs with ``nvidia-smi`` (NVIDIA) or ``rocm-smi`` (AMD) and turn them into a [hardware] table.

Pure standard library: the tools are found with ``shutil.which`` on ``PATH`` and run with a timeout
in their own process group; nothing here imports the UI. ``detect_gpus`` raises only for a bad timeout: whatever goes
wrong comes back as a ``Detection`` with no GPUs and a one-sentence ``problem`` a user can act on.
Reading their output and matching the catalog: ``smi_output.py``.

Commands run (see ``NVIDIA_SMI_ARGS`` / ``ROCM_SMI_ARGS``)::

    nvidia-smi --query-gpu=index,name,memory.total,driver_version,mig.mode.current --format=csv,noheader,nounits
    rocm-smi --showproductname --showmeminfo vram --json
"""

from __future__ import annotations

import math
import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ProfileError
from ..untrusted import excerpt, printable
from .smi_output import (
    NVIDIA_SMI_ARGS,
    ROCM_SMI_ARGS,
    DetectedGpu,
    parse_nvidia_smi_csv,
    parse_rocm_smi_json,
)


@dataclass(frozen=True)
class Detection:
    """What ``detect_gpus`` found, which tool said so, and why nothing (or not everything) was found."""

    gpus: tuple[DetectedGpu, ...]
    source: str  # "nvidia-smi" | "rocm-smi" | "none"
    problem: str | None  # one sentence a user can act on, or None when all is well


# ---------------------------------------------------------------------------------------------
# Running the tools


def _known_nvidia_failure(output: str) -> str | None:
    lowered = output.lower()
    if any(f"{verb} communicate with the nvidia driver" in lowered for verb in ("couldn't", "could not")):
        return ("nvidia-smi could not talk to the NVIDIA driver: install or load the driver (check `nvidia-smi` by "
                "hand), or enter the GPU by hand")
    if "no devices were found" in lowered:
        return ("nvidia-smi found no NVIDIA GPU (the driver is loaded but sees no device): check the GPU is visible to "
                "this machine or container, or enter the GPU by hand")
    if "driver/library version mismatch" in lowered:
        return ("nvidia-smi reports a driver/library version mismatch: reboot (or reload the NVIDIA kernel module) and "
                "try again, or enter the GPU by hand")
    if "failed to initialize nvml" in lowered:
        return (f"nvidia-smi could not start NVML ({_first_line(output)}): check the driver installation, or enter the "
                "GPU by hand")
    return None


def _first_line(text: str) -> str:
    """The tool's first non-blank line, cut to 160 characters and with its control characters escaped."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return printable(line, 160)


@dataclass(frozen=True)
class _Tool:
    command: str
    args: tuple[str, ...]
    parse: Callable[[str], list[DetectedGpu]]
    known_failure: Callable[[str], str | None]


_TOOLS: tuple[_Tool, ...] = (
    _Tool("nvidia-smi", NVIDIA_SMI_ARGS, parse_nvidia_smi_csv, _known_nvidia_failure),
    _Tool("rocm-smi", ROCM_SMI_ARGS, parse_rocm_smi_json, lambda output: None),
)


class _Timeout(Exception):
    pass


class _TooMuchOutput(Exception):
    pass


MAX_OUTPUT_BYTES = 1_000_000  # a GPU line is ~100 bytes; a tool printing more than this is not answering
EXIT_GRACE_S = 0.5  # after the tool exits, how long its output may still trickle in (a child holding the pipe)
MAX_TIMEOUT_S = 600.0


def check_timeout_s(timeout_s: float) -> float:
    """A detection timeout: a finite number of seconds above 0 and at most 600; ProfileError otherwise."""
    if (isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or not math.isfinite(timeout_s)
            or not 0 < timeout_s <= MAX_TIMEOUT_S):
        raise ProfileError(f"--timeout {excerpt(timeout_s)}: give the seconds to wait for nvidia-smi / rocm-smi, a "
                           f"number above 0 and at most {MAX_TIMEOUT_S:g}")
    return float(timeout_s)


def _collect(process: subprocess.Popen, timeout_s: float) -> tuple[bytes, bytes, bool]:
    """(stdout, stderr, whether the tool exited) read until both pipes close, the deadline passes, or the
    tool has exited and ``EXIT_GRACE_S`` more have passed (a grandchild may hold the pipes open forever)."""
    deadline = time.monotonic() + timeout_s
    chunks: dict[int, list[bytes]] = {}
    total = 0
    with selectors.DefaultSelector() as selector:
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                selector.register(stream.fileno(), selectors.EVENT_READ)
                chunks[stream.fileno()] = []
        exited_at: float | None = None
        while selector.get_map():
            now = time.monotonic()
            if exited_at is None and process.poll() is not None:
                exited_at = now
            end = deadline if exited_at is None else min(deadline, exited_at + EXIT_GRACE_S)
            if now >= end:
                break
            for key, _ in selector.select(timeout=min(end - now, 0.05)):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fd)
                    continue
                chunks[key.fd].append(data)
                total += len(data)
                if total > MAX_OUTPUT_BYTES:
                    raise _TooMuchOutput
    finished = process.poll() is not None
    if not finished and time.monotonic() < deadline:  # both pipes closed: wait for the exit itself
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
            finished = True
        except subprocess.TimeoutExpired:
            pass
    out = b"".join(chunks.get(process.stdout.fileno(), [])) if process.stdout else b""
    err = b"".join(chunks.get(process.stderr.fileno(), [])) if process.stderr else b""
    return out, err, finished


def _run(path: str, args: tuple[str, ...], timeout_s: float) -> tuple[int, str, str]:
    """Run a tool in its own process group and read at most ``MAX_OUTPUT_BYTES`` of its output. Whatever
    happens (a timeout, too much output, an interrupt), the whole group is killed in ``finally``, so nothing
    it started outlives the detection."""
    process = subprocess.Popen(
        [path, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr, finished = _collect(process, timeout_s)
    finally:
        _kill(process)
    if not finished:
        raise _Timeout
    return process.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the tool's process group (it leads its own session), close the pipes and reap the tool."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        elif process.poll() is None:  # pragma: no cover - Windows
            process.kill()
    except OSError:
        pass  # the group is already gone
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process SIGKILL cannot end (uninterruptible I/O)
        pass


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _try_tool(tool: _Tool, path: str, timeout_s: float) -> Detection:
    try:
        code, stdout, stderr = _run(path, tool.args, timeout_s)
    except _Timeout:
        return Detection((), tool.command, f"{tool.command} did not answer within {_seconds(timeout_s)}: the driver "
                                           f"may be hung; try `{tool.command}` by hand, or enter the GPU by hand")
    except _TooMuchOutput:
        return Detection((), tool.command, f"{tool.command} printed more than {MAX_OUTPUT_BYTES:,} bytes, far more "
                                           "than a list of GPUs: run it by hand to see why, or enter the GPU by hand")
    except OSError as error:
        return Detection((), tool.command, f"{tool.command} at {path} could not be run ({error.strerror or error}): "
                                           "check its permissions, or enter the GPU by hand")
    combined = f"{stdout}\n{stderr}"
    known = tool.known_failure(combined)
    if known:
        return Detection((), tool.command, known)
    if code != 0:
        detail = _first_line(stderr) or _first_line(stdout) or "no message"
        return Detection((), tool.command, f"{tool.command} failed with exit code {code} ({detail}): run it by hand to "
                                           "see why, or enter the GPU by hand")
    try:
        gpus = tool.parse(stdout)
    except ValueError as error:
        return Detection((), tool.command, f"{tool.command} printed something napkinmath could not read ({error}); "
                                           "enter the GPU by hand")
    return Detection(tuple(gpus), tool.command, _caveats(gpus))


def _caveats(gpus: list[DetectedGpu]) -> str | None:
    mig = [gpu for gpu in gpus if gpu.mig_enabled]
    if not mig:
        return None
    which = ", ".join(str(gpu.index) for gpu in mig)
    plural = "s" if len(mig) > 1 else ""
    return (
        f"GPU{plural} {which} {'are' if plural else 'is'} in MIG mode: the memory shown is the whole card's, "
        "and each MIG slice gets only part of it, so plan one slice by hand (`nvidia-smi -L` lists them)"
    )


def detect_gpus(timeout_s: float = 5.0) -> Detection:
    """Find the local GPUs: nvidia-smi first, then rocm-smi (each found with ``shutil.which``).

    ``timeout_s`` must be a finite number of seconds in (0, 600] (``check_timeout_s``: ProfileError
    otherwise, the one exception). A tool missing from PATH is skipped. A tool that is there but fails
    (no driver, no device, a hang past ``timeout_s``, output that cannot be read) gives its problem,
    unless the next tool then finds GPUs. With neither tool on PATH:
    ``Detection((), "none", "no nvidia-smi or rocm-smi on PATH ...")``.
    """
    timeout_s = check_timeout_s(timeout_s)
    first_failure: Detection | None = None
    try:
        for tool in _TOOLS:
            path = shutil.which(tool.command)
            if path is None:
                continue
            detection = _try_tool(tool, path, timeout_s)
            if detection.gpus:
                return detection
            first_failure = first_failure or detection
    except Exception as error:  # noqa: BLE001 - detection must never take the program down
        return Detection((), "none", f"GPU detection failed unexpectedly ({type(error).__name__}: "
                                     f"{printable(str(error), 160)}); enter the GPU by hand")
    if first_failure is not None:
        return first_failure
    return Detection((), "none", "no nvidia-smi or rocm-smi on PATH: install the GPU driver tools, or enter the GPU by "
                                 "hand")


# ---------------------------------------------------------------------------------------------
# Profile [hardware] section

_NOTES_MAX = 1200  # GpuSpec.notes max_length


def _model_key(gpu: DetectedGpu) -> tuple[str, str, int]:
    # Same catalog id, or the same reported name and memory (to the MiB), count as one model.
    return (gpu.vendor, gpu.catalog_id or gpu.name, round(gpu.memory_mib))


def hardware_section(detection: Detection) -> dict:
    """A profile ``[hardware]`` table for the detected GPUs.

    * Known GPU: ``{"gpu": catalog_id, "count": n, "memory_gib": reported}``; the reported memory
      overrides the catalog's (they normally agree within 3 %), everything else comes from the catalog.
    * Unknown GPU: ``{"name": ..., "vendor": ..., "memory_gib": ..., "count": n, "bandwidth_tb_s": None,
      "tflops": None, "notes": ...}``. The two ``None`` values are placeholders the CALLER MUST
      REPLACE before validating or saving: ``bandwidth_tb_s`` (per GPU, decimal TB/s) and ``tflops``
      (a table of dense TFLOP/s with at least one of ``bf16``, ``fp16`` or ``fp32``), from the GPU's
      datasheet. TOML has no null, and a profile with them missing fails validation naming them.
    * Mixed GPUs: the section describes the most common model only (ties: a catalog GPU first, then
      the one with the lowest index) and ``count`` is how many of THAT model there are; ``notes`` says
      which GPUs were left out. napkinmath plans identical GPUs, so plan the others separately.
    * MIG mode on: ``notes`` says the memory is the whole card's and a slice gets only part of it.

    ``notes`` (a ``[hardware]`` field) is present only when there is something to say. Raises
    ValueError when the detection found no GPU (its ``problem`` says why).
    """
    if not detection.gpus:
        raise ValueError(f"no GPU was detected: {detection.problem or 'nothing found'}")
    groups: dict[tuple[str, str, int], list[DetectedGpu]] = {}
    for gpu in sorted(detection.gpus, key=lambda gpu: gpu.index):
        groups.setdefault(_model_key(gpu), []).append(gpu)
    chosen_key = min(groups, key=lambda key: (-len(groups[key]), groups[key][0].catalog_id is None,
                                              groups[key][0].index))
    chosen = groups[chosen_key]
    first = chosen[0]
    count = len(chosen)
    memory_gib = first.memory_gib
    notes: list[str] = []

    if len(groups) > 1:
        mix = ", ".join(f"{len(members)}x {members[0].name}" for members in groups.values())
        left_out = sum(len(members) for key, members in groups.items() if key != chosen_key)
        notes.append(
            f"mixed GPUs detected ({mix}); this section describes the most common model, {count}x {first.name}, "
            f"and leaves out the other {left_out} GPU{'s' if left_out != 1 else ''}: plan those separately"
        )
    if any(gpu.mig_enabled for gpu in chosen):
        notes.append("MIG mode is on: memory_gib is the whole card's, each MIG slice gets only part of it")

    if first.catalog_id is not None:
        section: dict = {"gpu": first.catalog_id, "count": count, "memory_gib": memory_gib}
    else:
        notes.insert(0, f"{first.name} is not in the catalog: fill in bandwidth_tb_s (decimal TB/s) and tflops (dense, "
                        "at least bf16, fp16 or fp32) from its datasheet")
        section = {
            "name": first.name[:120],
            "vendor": first.vendor,
            "memory_gib": memory_gib,
            "count": count,
            "bandwidth_tb_s": None,
            "tflops": None,
        }
    if notes:
        text = "; ".join(notes) + "."
        section["notes"] = text if len(text) <= _NOTES_MAX else text[: _NOTES_MAX - 3] + "..."
    return section


__all__ = ["Detection", "detect_gpus", "hardware_section"]
