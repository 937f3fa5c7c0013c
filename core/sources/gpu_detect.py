"""Detect the local GPUs with ``nvidia-smi`` (NVIDIA) or ``rocm-smi`` (AMD) and match them to the catalog.

Pure standard library: the tools are found with ``shutil.which`` on ``PATH`` and run with a timeout;
nothing here imports the UI. ``detect_gpus`` never raises: whatever goes wrong comes back as a
``Detection`` with no GPUs and a one-sentence ``problem`` a user can act on.

Commands run (see ``NVIDIA_SMI_ARGS`` / ``ROCM_SMI_ARGS``)::

    nvidia-smi --query-gpu=index,name,memory.total,driver_version,mig.mode.current --format=csv,noheader,nounits
    rocm-smi --showproductname --showmeminfo vram --json

Memory is kept as the driver reports it (nvidia-smi ``memory.total`` in MiB; rocm-smi
``VRAM Total Memory (B)`` divided by 2**20), the same convention as the catalog's ``memory_gib``.

Catalog matching (``match_catalog``) goes by name keywords and vendor first, then checks the reported
memory is within ``MEMORY_TOLERANCE`` (3 %) of the catalog figure, which also picks between variants
(A100 40GB vs 80GB). Parts the catalog does not describe are left unmatched on purpose, even when a
close relative is in it, because their bandwidth or interconnect differ:

* H100 NVL and H200 NVL (PCIe cards with NVLink bridges; the catalog's ``h200`` is the SXM part),
* A100 PCIe (the catalog's A100 entries are SXM4 with NVLink),
* GeForce "D" (China) and Laptop variants of the RTX 4090 / 5090,
* MI300A (an APU; only MI300X / MI325X / MI355X are in the catalog), GH200, L40 (non-S), ...
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from napkinmath.core.specs.catalog import gpu_catalog

MIB_PER_GIB = 1024
MEMORY_TOLERANCE = 0.03  # relative: reported memory vs the catalog's memory_gib

NVIDIA_SMI_ARGS = (
    "--query-gpu=index,name,memory.total,driver_version,mig.mode.current",
    "--format=csv,noheader,nounits",
)
ROCM_SMI_ARGS = ("--showproductname", "--showmeminfo", "vram", "--json")

NVIDIA_FIELDS = ("index", "name", "memory.total", "driver_version", "mig.mode.current")
# Values nvidia-smi prints for a field it cannot report.
_NA_VALUES = {"", "n/a", "[n/a]", "[not supported]", "not supported", "[unknown error]", "[insufficient permissions]"}


@dataclass(frozen=True)
class DetectedGpu:
    """One GPU as the driver tool reports it, plus the catalog entry it matches (if any)."""

    index: int
    name: str  # as the driver reports it, e.g. "NVIDIA H100 80GB HBM3"
    memory_mib: float  # as the driver reports it (nvidia-smi memory.total; rocm-smi bytes / 2**20)
    vendor: str  # "nvidia" | "amd"
    driver_version: str | None
    mig_enabled: bool  # MIG mode on (nvidia): memory_mib is then the whole card's, not one slice's
    catalog_id: str | None  # the matching catalog entry, or None for an unknown GPU

    @property
    def memory_gib(self) -> float:
        return self.memory_mib / MIB_PER_GIB


@dataclass(frozen=True)
class Detection:
    """What ``detect_gpus`` found, which tool said so, and why nothing (or not everything) was found."""

    gpus: tuple[DetectedGpu, ...]
    source: str  # "nvidia-smi" | "rocm-smi" | "none"
    problem: str | None  # one sentence a user can act on, or None when all is well


# ---------------------------------------------------------------------------------------------
# Catalog matching


@dataclass(frozen=True)
class _Rule:
    vendor: str
    family: str  # regex that must match the normalised name
    candidates: tuple[str, ...]  # catalog ids to choose between by memory
    exclude: str | None = None  # regex that vetoes the rule (a variant the catalog does not have)


# Order matters only for readability: families are disjoint thanks to word boundaries and excludes.
_RULES: tuple[_Rule, ...] = (
    _Rule("nvidia", r"\bGB200\b", ("gb200",)),
    _Rule("nvidia", r"\bB200\b", ("b200",)),
    _Rule("nvidia", r"\bH200\b", ("h200",), exclude=r"\bNVL\b"),
    _Rule("nvidia", r"\bH100\b.*\bPCIE\b", ("h100-pcie",), exclude=r"\bNVL\b"),
    _Rule("nvidia", r"\bH100\b", ("h100-sxm",), exclude=r"\bNVL\b|\bPCIE\b"),
    _Rule("nvidia", r"\bA100\b", ("a100-40gb", "a100-80gb"), exclude=r"\bPCIE\b"),
    _Rule("nvidia", r"\bL40S\b", ("l40s",)),
    _Rule("nvidia", r"\bL4\b", ("l4",)),
    _Rule("nvidia", r"\bRTX 4090\b", ("rtx-4090",), exclude=r"\bRTX 4090 D\b|\bLAPTOP\b"),
    _Rule("nvidia", r"\bRTX 5090\b", ("rtx-5090",), exclude=r"\bRTX 5090 D\b|\bLAPTOP\b"),
    _Rule("amd", r"\bMI300X\b", ("mi300x",)),
    _Rule("amd", r"\bMI325X\b", ("mi325x",)),
    _Rule("amd", r"\bMI355X\b", ("mi355x",)),
)


def _normalised(name: str) -> str:
    """Upper case, hyphens/underscores as spaces, single spaces: "NVIDIA A100-SXM4-80GB" -> "NVIDIA A100 SXM4 80GB"."""
    return " ".join(re.sub(r"[-_/]", " ", name).upper().split())


def match_catalog(name: str, memory_gib: float, vendor: str) -> str | None:
    """The catalog id for a GPU as the driver names it, or None when the catalog has no such part.

    The name must match a catalog family by keyword (for ``vendor``), and ``memory_gib`` (as the driver
    reports it) must lie within 3 % of that entry's ``memory_gib``; among several variants of a family
    (A100 40GB / 80GB) the one whose memory fits is chosen. See the module docstring for the parts left
    unmatched on purpose.
    """
    text = _normalised(name)
    vendor = vendor.strip().lower()
    catalog = gpu_catalog()
    for rule in _RULES:
        if rule.vendor != vendor or not re.search(rule.family, text):
            continue
        if rule.exclude and re.search(rule.exclude, text):
            return None
        fits = [
            (abs(memory_gib - catalog[gpu_id].memory_gib) / catalog[gpu_id].memory_gib, gpu_id)
            for gpu_id in rule.candidates
            if gpu_id in catalog
        ]
        fits = [fit for fit in fits if fit[0] <= MEMORY_TOLERANCE]
        return min(fits)[1] if fits else None
    return None


# ---------------------------------------------------------------------------------------------
# Parsers


def _is_na(value: str) -> bool:
    return value.strip().lower() in _NA_VALUES


def _positive_number(text: str, what: str, unit: str) -> float:
    """``text`` as a number above 0, or ValueError naming ``what`` and the ``unit`` it should be in."""
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number of {unit}") from None
    if not number > 0:
        raise ValueError(f"{what} {text!r} is not a positive number of {unit}")
    return number


def _mib(value: str, where: str) -> float:
    text = re.sub(r"\s*MiB$", "", value.strip(), flags=re.IGNORECASE)  # in case "nounits" was not honoured
    return _positive_number(text, f"{where}: memory.total", "MiB")


def parse_nvidia_smi_csv(text: str) -> list[DetectedGpu]:
    """GPUs from the output of ``nvidia-smi --query-gpu=index,name,memory.total,driver_version,
    mig.mode.current --format=csv,noheader,nounits``.

    Tolerates extra spaces, a header line, a " MiB" unit, "[N/A]" / "[Not Supported]" for the driver
    and MIG fields, and a name containing commas. Raises ValueError naming the line on anything else
    (an error message instead of CSV, too few fields, a non-numeric memory or index).
    """
    rows = [row for row in csv.reader(text.splitlines(), skipinitialspace=True) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError("nvidia-smi printed no GPU lines")
    gpus: list[DetectedGpu] = []
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if number == 1 and cells and cells[0].lower() == "index":
            continue  # a header line (the query was run without "noheader")
        where = f"nvidia-smi line {number}"
        if len(cells) < len(NVIDIA_FIELDS):
            shown = ", ".join(cells)
            raise ValueError(
                f"{where} has {len(cells)} field(s), expected {len(NVIDIA_FIELDS)} "
                f"({', '.join(NVIDIA_FIELDS)}): {shown[:120]!r}"
            )
        index_text, *name_parts = cells[: len(cells) - 3]
        memory_text, driver_text, mig_text = cells[-3:]
        try:
            index = int(index_text)
        except ValueError:
            raise ValueError(f"{where}: index {index_text!r} is not a whole number") from None
        name = ", ".join(name_parts).strip()
        if not name or _is_na(name):
            raise ValueError(f"{where}: the GPU has no name")
        memory_mib = _mib(memory_text, where)
        driver = None if _is_na(driver_text) else driver_text
        mig = mig_text.strip().lower() == "enabled"
        gpus.append(_detected(index, name, memory_mib, "nvidia", driver, mig))
    if not gpus:
        raise ValueError("nvidia-smi printed a header but no GPU lines")
    return gpus


# rocm-smi key spellings seen in real captures: "Card Series"/"Card Model" (rocm-smi 6.x JSON/CSV,
# marimo-team/marimo#9237) and "Card series"/"Card model" (older CSV and the text report,
# easybuilders/easybuild-framework#3978, thamada/nvidia-smi MI300X capture). Keys are compared
# case-insensitively. The series is usually the product name ("AMD Instinct MI300X OAM"), but older
# releases printed a PCI id there ("0x738c") and the name under "Card model", so hex ids are skipped.
_ROCM_NAME_KEYS = ("card series", "card model", "marketing name", "card sku")
_ROCM_VRAM_KEYS = ("vram total memory (b)",)
_ROCM_DRIVER_KEYS = ("driver version",)
_HEX_ID = re.compile(r"^0x[0-9a-f]+$", re.IGNORECASE)


def _detected(index: int, name: str, memory_mib: float, vendor: str, driver: str | None,
              mig: bool = False) -> DetectedGpu:
    """One parsed GPU, matched against the catalog by name and memory."""
    return DetectedGpu(index=index, name=name, memory_mib=memory_mib, vendor=vendor, driver_version=driver,
                       mig_enabled=mig, catalog_id=match_catalog(name, memory_mib / MIB_PER_GIB, vendor))


def _first_field(fields: dict[str, str], keys: tuple[str, ...], usable=lambda value: True) -> str | None:
    """The first of ``keys`` present in ``fields`` whose value is ``usable``."""
    return next((fields[key] for key in keys if key in fields and usable(fields[key])), None)


def _lower_keys(entry: dict) -> dict[str, str]:
    return {str(key).strip().lower(): str(value).strip() for key, value in entry.items()}


def parse_rocm_smi_json(text: str) -> list[DetectedGpu]:
    """GPUs from the output of ``rocm-smi --showproductname --showmeminfo vram --json``.

    The JSON maps "card0", "card1", ... to per-card fields; the name comes from "Card Series" (else
    "Card Model", skipping PCI ids like "0x74a1"), the memory from "VRAM Total Memory (B)" in bytes.
    Warning lines before the JSON are skipped. Raises ValueError when there is no JSON, no card, or a
    card without a VRAM total.
    """
    start = text.find("{")
    if start < 0:
        raise ValueError("rocm-smi printed no JSON")
    try:
        data = json.loads(text[start:])
    except json.JSONDecodeError as error:
        raise ValueError(f"rocm-smi printed JSON that could not be read ({error.msg} at line {error.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError("rocm-smi JSON is not an object of cards")
    system = _lower_keys(data["system"]) if isinstance(data.get("system"), dict) else {}
    system_driver = _first_field(system, _ROCM_DRIVER_KEYS, lambda value: not _is_na(value))
    cards = sorted(
        ((int(match.group(1)), entry) for key, entry in data.items() if (match := re.fullmatch(r"card(\d+)", str(key))) and isinstance(entry, dict)),
        key=lambda item: item[0],
    )
    if not cards:
        raise ValueError("rocm-smi JSON lists no cards (no 'card0', 'card1', ... keys)")
    gpus: list[DetectedGpu] = []
    for index, entry in cards:
        fields = _lower_keys(entry)
        name = _first_field(fields, _ROCM_NAME_KEYS,
                            lambda value: bool(value) and not _is_na(value) and not _HEX_ID.match(value))
        if name is None:
            raise ValueError(f"rocm-smi card{index} has no product name (give --showproductname)")
        vram = _first_field(fields, _ROCM_VRAM_KEYS)
        if vram is None or _is_na(vram):
            raise ValueError(f"rocm-smi card{index} has no 'VRAM Total Memory (B)' (give --showmeminfo vram)")
        memory_mib = _positive_number(vram, f"rocm-smi card{index}: VRAM total", "bytes") / 2**20
        driver = _first_field(fields, _ROCM_DRIVER_KEYS, lambda value: not _is_na(value)) or system_driver
        gpus.append(_detected(index, name, memory_mib, "amd", driver))
    return gpus


# ---------------------------------------------------------------------------------------------
# Running the tools


def _known_nvidia_failure(output: str) -> str | None:
    lowered = output.lower()
    if "couldn't communicate with the nvidia driver" in lowered or "could not communicate with the nvidia driver" in lowered:
        return "nvidia-smi could not talk to the NVIDIA driver: install or load the driver (check `nvidia-smi` by hand), or enter the GPU by hand"
    if "no devices were found" in lowered:
        return "nvidia-smi found no NVIDIA GPU (the driver is loaded but sees no device): check the GPU is visible to this machine or container, or enter the GPU by hand"
    if "driver/library version mismatch" in lowered:
        return "nvidia-smi reports a driver/library version mismatch: reboot (or reload the NVIDIA kernel module) and try again, or enter the GPU by hand"
    if "failed to initialize nvml" in lowered:
        return f"nvidia-smi could not start NVML ({_first_line(output)}): check the driver installation, or enter the GPU by hand"
    return None


def _first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line[:160]


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


def _run(path: str, args: tuple[str, ...], timeout_s: float) -> tuple[int, str, str]:
    """Run a tool in its own process group, so a timeout also ends anything it started."""
    process = subprocess.Popen(
        [path, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise _Timeout from None
    return process.returncode, stdout, stderr


def _kill(process: subprocess.Popen) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            process.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        process.communicate(timeout=2)
    except (subprocess.TimeoutExpired, OSError, ValueError):
        pass


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _try_tool(tool: _Tool, path: str, timeout_s: float) -> Detection:
    try:
        code, stdout, stderr = _run(path, tool.args, timeout_s)
    except _Timeout:
        return Detection((), tool.command, f"{tool.command} did not answer within {_seconds(timeout_s)}: the driver may be hung; try `{tool.command}` by hand, or enter the GPU by hand")
    except OSError as error:
        return Detection((), tool.command, f"{tool.command} at {path} could not be run ({error.strerror or error}): check its permissions, or enter the GPU by hand")
    combined = f"{stdout}\n{stderr}"
    known = tool.known_failure(combined)
    if known:
        return Detection((), tool.command, known)
    if code != 0:
        detail = _first_line(stderr) or _first_line(stdout) or "no message"
        return Detection((), tool.command, f"{tool.command} failed with exit code {code} ({detail}): run it by hand to see why, or enter the GPU by hand")
    try:
        gpus = tool.parse(stdout)
    except ValueError as error:
        return Detection((), tool.command, f"{tool.command} printed something napkinmath could not read ({error}); enter the GPU by hand")
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
    """Find the local GPUs: nvidia-smi first, then rocm-smi (each found with ``shutil.which``). Never raises.

    A tool missing from PATH is skipped. A tool that is there but fails (no driver, no device, a hang
    past ``timeout_s``, output that cannot be read) gives its problem, unless the next tool then finds
    GPUs. With neither tool on PATH: ``Detection((), "none", "no nvidia-smi or rocm-smi on PATH ...")``.
    """
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
        return Detection((), "none", f"GPU detection failed unexpectedly ({type(error).__name__}: {error}); enter the GPU by hand")
    if first_failure is not None:
        return first_failure
    return Detection((), "none", "no nvidia-smi or rocm-smi on PATH: install the GPU driver tools, or enter the GPU by hand")


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
    chosen_key = min(groups, key=lambda key: (-len(groups[key]), groups[key][0].catalog_id is None, groups[key][0].index))
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
        notes.insert(0, f"{first.name} is not in the catalog: fill in bandwidth_tb_s (decimal TB/s) and tflops (dense, at least bf16, fp16 or fp32) from its datasheet")
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


__all__ = [
    "DetectedGpu",
    "Detection",
    "detect_gpus",
    "hardware_section",
    "match_catalog",
    "parse_nvidia_smi_csv",
    "parse_rocm_smi_json",
]
