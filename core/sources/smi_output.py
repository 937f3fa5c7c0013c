"""What ``nvidia-smi`` and ``rocm-smi`` print, read into ``DetectedGpu``s and matched to the catalog.

Memory is kept as the driver reports it (nvidia-smi ``memory.total`` in MiB; rocm-smi
``VRAM Total Memory (B)`` divided by 2**20), the same convention as the catalog's ``memory_gib``.

Catalog matching (``match_catalog``) goes by each entry's detection pattern and vendor
(``[ID.detect]`` in core/specs/data/gpus.toml), then checks the reported memory is within
``MEMORY_TOLERANCE`` (3 %) of the catalog figure, which also picks between variants (A100 40GB vs
80GB). Parts the catalog does not describe are left unmatched on purpose, even when a close relative
is in it, because their bandwidth or interconnect differ:

* H100 NVL and H200 NVL (PCIe cards with NVLink bridges; the catalog's ``h200`` is the SXM part),
* A100 PCIe (the catalog's A100 entries are SXM4 with NVLink), the A10G (an AWS variant of the A10),
* GeForce "D" (China) and Laptop variants of the RTX 4090 / 5090,
* MI300A (an APU; only MI300X / MI325X / MI355X are in the catalog), GH200, L40 (non-S), ...
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass

from ..specs.catalog import gpu_catalog, gpu_detection_rules
from ..untrusted import excerpt, printable

MIB_PER_GIB = 1024
MAX_MEMORY_MIB = 16 * 2**20  # 16 TiB per GPU: far above any card, far below float trouble
MAX_LINE_CHARS = 4096  # an nvidia-smi GPU line is ~80 characters
MAX_NAME_CHARS = 120  # GpuSpec.name max_length
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


# ---------------------------------------------------------------------------------------------
# Catalog matching


def _normalised(name: str) -> str:
    """Upper case, hyphens/underscores as spaces, single spaces: "NVIDIA A100-SXM4-80GB" -> "NVIDIA A100 SXM4 80GB"."""
    return " ".join(re.sub(r"[-_/]", " ", name).upper().split())


def match_catalog(name: str, memory_gib: float, vendor: str) -> str | None:
    """The catalog id for a GPU as the driver names it, or None when the catalog has no such part.

    The name must match a catalog entry's detection pattern for ``vendor`` (``[ID.detect]`` in
    core/specs/data/gpus.toml) without matching its ``exclude``, and ``memory_gib`` (as the driver reports
    it) must lie within 3 % of that entry's ``memory_gib``; among several variants (A100 40GB / 80GB) the
    one whose memory fits is chosen. See the module docstring for the parts left unmatched on purpose.
    """
    text = _normalised(name)
    vendor = vendor.strip().lower()
    catalog = gpu_catalog()
    fits = []
    for rule in gpu_detection_rules():
        if rule.vendor != vendor or not re.search(rule.pattern, text):
            continue
        if rule.exclude and re.search(rule.exclude, text):
            continue
        error = abs(memory_gib - catalog[rule.gpu_id].memory_gib) / catalog[rule.gpu_id].memory_gib
        if error <= MEMORY_TOLERANCE:
            fits.append((error, rule.gpu_id))
    return min(fits)[1] if fits else None


# ---------------------------------------------------------------------------------------------
# Parsers


def _shown_name(name: str) -> str:
    """A GPU name as the tool printed it, with control characters escaped (an ESC sequence in a name must
    not reach a terminal) and cut to the catalog's 120 characters."""
    name = printable(name.strip())
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def _is_na(value: str) -> bool:
    return value.strip().lower() in _NA_VALUES


def _positive_number(text: str, what: str, unit: str, largest: float) -> float:
    """``text`` as a number above 0, or ValueError naming ``what`` and the ``unit`` it should be in."""
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{what} {excerpt(text)} is not a number of {unit}") from None
    if not (math.isfinite(number) and 0 < number <= largest):
        raise ValueError(f"{what} {excerpt(text)} is not a positive, finite number of {unit} (at most {largest:g})")
    return number


def _mib(value: str, where: str) -> float:
    text = re.sub(r"\s*MiB$", "", value.strip(), flags=re.IGNORECASE)  # in case "nounits" was not honoured
    return _positive_number(text, f"{where}: memory.total", "MiB", MAX_MEMORY_MIB)


def parse_nvidia_smi_csv(text: str) -> list[DetectedGpu]:
    """GPUs from the output of ``nvidia-smi --query-gpu=index,name,memory.total,driver_version,
    mig.mode.current --format=csv,noheader,nounits``.

    Tolerates extra spaces, a header line, a " MiB" unit, "[N/A]" / "[Not Supported]" for the driver
    and MIG fields, and a name containing commas. Raises ValueError naming the line on anything else
    (an error message instead of CSV, too few fields, a non-numeric memory or index).
    """
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            raise ValueError(f"nvidia-smi line {number} is {len(line):,} characters long; a GPU line is a few dozen "
                             f"and napkinmath reads lines of at most {MAX_LINE_CHARS:,}")
    rows = [row for row in csv.reader(lines, skipinitialspace=True) if any(cell.strip() for cell in row)]
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
                f"({', '.join(NVIDIA_FIELDS)}): {excerpt(shown, 120)}"
            )
        index_text, *name_parts = cells[: len(cells) - 3]
        memory_text, driver_text, mig_text = cells[-3:]
        try:
            index = int(index_text)
        except ValueError:
            raise ValueError(f"{where}: index {excerpt(index_text)} is not a whole number") from None
        name = _shown_name(", ".join(name_parts))
        if not name or _is_na(name):
            raise ValueError(f"{where}: the GPU has no name")
        memory_mib = _mib(memory_text, where)
        driver = None if _is_na(driver_text) else printable(driver_text, 40)
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
    except (ValueError, RecursionError):  # 4,300-digit integers, nesting past the parser's depth
        raise ValueError("rocm-smi printed JSON nested too deep or with an integer too long to read") from None
    if not isinstance(data, dict):
        raise ValueError("rocm-smi JSON is not an object of cards")
    system = _lower_keys(data["system"]) if isinstance(data.get("system"), dict) else {}
    system_driver = _first_field(system, _ROCM_DRIVER_KEYS, lambda value: not _is_na(value))
    numbered = ((re.fullmatch(r"card(\d+)", str(key)), entry) for key, entry in data.items())
    cards = sorted(((int(match.group(1)), entry) for match, entry in numbered if match and isinstance(entry, dict)),
                   key=lambda item: item[0])
    if not cards:
        raise ValueError("rocm-smi JSON lists no cards (no 'card0', 'card1', ... keys)")
    gpus: list[DetectedGpu] = []
    for index, entry in cards:
        fields = _lower_keys(entry)
        name = _first_field(fields, _ROCM_NAME_KEYS,
                            lambda value: bool(value) and not _is_na(value) and not _HEX_ID.match(value))
        name = _shown_name(name) if name is not None else None
        if not name:
            raise ValueError(f"rocm-smi card{index} has no product name (give --showproductname)")
        vram = _first_field(fields, _ROCM_VRAM_KEYS)
        if vram is None or _is_na(vram):
            raise ValueError(f"rocm-smi card{index} has no 'VRAM Total Memory (B)' (give --showmeminfo vram)")
        memory_mib = _positive_number(vram, f"rocm-smi card{index}: VRAM total", "bytes",
                                      MAX_MEMORY_MIB * 2**20) / 2**20
        driver = _first_field(fields, _ROCM_DRIVER_KEYS, lambda value: not _is_na(value)) or system_driver
        driver = printable(driver, 40) if driver else None
        gpus.append(_detected(index, name, memory_mib, "amd", driver))
    return gpus
