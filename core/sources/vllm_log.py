"""Read the numbers a vLLM server prints while it starts up, so a plan can be checked against a real run.

Pure standard library (``re``, ``dataclasses``); nothing here imports the UI.

``parse_vllm_log(text)`` scans a log once, line by line, and returns a frozen ``VllmLogFacts``. It
understands the start-up lines of vLLM 0.3 to 0.25 as they appear in public issue threads (the test
fixtures in ``tests/data/vllm_logs`` are real excerpts; ``SOURCES.md`` there says where each came from):

* V1 engine: ``Model loading took 14.9888 GiB and 4.47 seconds`` (0.14 adds ``GiB memory and``),
  ``Available KV cache memory: 8.11 GiB``, ``GPU KV cache size: 476,016 tokens``,
  ``Maximum concurrency for 8,192 tokens per request: 58.11x``, the early-V1 ``# GPU blocks: 1381``,
  ``Graph capturing finished in 36 secs, took 0.44 GiB``.
* V0 engine: ``Loading model weights took 14.9888 GB``, ``# GPU blocks: 27156, # CPU blocks: 2048``
  (``# CUDA blocks`` from 0.7), and the three shapes of the memory-profiling report -- the one-line
  ``Memory profiling results: total_gpu_memory=23.58GiB ... kv_cache_size=3.81GiB
  gpu_memory_utilization=0.90`` (0.6.4), the table ``total_gpu_memory     79.22GiB`` /
  ``available_kv_cache_memory    53.29GiB`` (0.6.5), and the sentence ``the current vLLM instance can
  use total_gpu_memory (79.22GiB) x gpu_memory_utilization (0.90) = 71.29GiB`` followed by ``model
  weights take ...; non_torch_memory takes ...; PyTorch activation peak memory takes ...; the rest of
  the memory reserved for KV Cache is ...`` (0.7 to 0.8, also the V1 worker in 0.9 to 0.10).
* Configuration: ``Initializing a V1 LLM engine (v0.8.5) with config: model='...', max_seq_len=...,
  tensor_parallel_size=2, kv_cache_dtype=auto, ...`` (also the V0 and the version-less 0.3 forms),
  ``vLLM API server version 0.9.1``, ``args: Namespace(...)``, ``non-default args: {...}`` and the
  0.11+ banner (``█▄█▀ ... version 0.25.0`` / ``model   /path``), and ``Starting to load model X...``.

Units: memory is reported in GiB. Every vLLM version we have seen divides by 2**30 before printing,
including the old lines that say "GB" (Llama-3.1-8B's 8.03e9 bf16 parameters are 16.06e9 bytes =
14.96 GiB and vLLM 0.6 prints "Loading model weights took 14.9888 GB"), so "GB" is read as GiB with
no conversion. "MiB"/"MB" and "TiB"/"TB" are scaled by 1/1024 and 1024. Values are kept as printed
(14.9888 stays 14.9888); a negative "Available KV cache memory: -2.14 GiB" is kept negative, because
that is exactly what a failed start-up reports.

Several processes print the same lines (one per tensor-/pipeline-parallel rank). A line's rank comes
from its prefix: ``(VllmWorker rank=1 pid=...)``, ``(VllmWorker TP1 pid=...)``, ``(Worker_TP1 ...)``.
Lines with no prefix, rank 0, or an ``(EngineCore... pid=...)`` prefix come from the driver; a V0
``(VllmWorkerProcess pid=...)`` or ``(RayWorkerWrapper pid=...)`` line is from some other rank. For each
fact the driver's / rank 0's value wins; otherwise the first one seen. (Ranks normally agree; under
pipeline parallelism they need not, e.g. the per-stage "Available KV cache memory".)

Robustness: ANSI colour codes (real ``ESC[...m`` and the caret form ``^[[0;36m`` that copy-pastes
produce) are removed, any line ending is accepted (``\\n``, ``\\r\\n``, ``\\r``), each line is cut to
``MAX_LINE_CHARS`` before matching, and a number must be followed by its unit word ("tokens", "GiB",
"x") so a line cut off mid-number is ignored rather than misread. Bytes are decoded as UTF-8 with
replacement. One pass, linear in the input; a cheap trigger regex skips the lines that cannot matter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProfileError
from ..untrusted import shown_path
from .files import read_file_bytes

MAX_LINE_CHARS = 10_000

NO_LINES_MESSAGE = "no vLLM start-up lines found; expected lines like 'GPU KV cache size: N tokens'"


@dataclass(frozen=True)
class VllmLogFacts:
    """What a vLLM start-up log says. ``None`` where the log does not say it."""

    version: str | None
    model: str | None
    tensor_parallel_size: int | None
    gpu_memory_utilization: float | None
    total_gpu_memory_gib: float | None
    weights_gib: float | None  # "Model loading took" or "model weights take"
    activation_peak_gib: float | None
    non_torch_gib: float | None
    cuda_graph_gib: float | None
    available_kv_gib: float | None  # "Available KV cache memory" or "the rest ... reserved for KV Cache is"
    kv_cache_tokens: int | None  # "GPU KV cache size: N tokens"
    max_concurrency: tuple[int, float] | None  # (tokens per request, concurrency)
    gpu_blocks: int | None  # V0 "# GPU blocks" / "# CUDA blocks" (and early V1 "# GPU blocks")
    kv_cache_dtype: str | None
    max_model_len: int | None
    lines_used: int  # how many lines contributed at least one fact


# ---------------------------------------------------------------------------------------------
# patterns

_NUM = r"(-?\d[\d,]*(?:\.\d+)?)"
_UNIT = r"(GiB|GB|MiB|MB|TiB|TB)\b"
_INT = r"(\d[\d,]*)"

_ANSI = re.compile(r"(?:\x1b|\^\[)\[[0-9;?]*[A-Za-z]")

# A line is looked at closely only when it contains one of these.
# Kept specific: "GPU KV cache usage" (every V0 metrics line) or "kv_cache_utils.py" (a V1 prefix)
# must not send a line through the full set of patterns.
_TRIGGER = re.compile(
    r"Available KV cache memory|GPU KV cache size|KV Cache is|Maximum concurrency|Model loading took"
    r"|model weights took|odel weights take|blocks:|total_gpu_memory|gpu_memory_utilization"
    r"|non_torch_memory|activation peak|kv_cache_dtype|available_kv_cache_memory|kv_cache_size="
    r"|LLM engine|server version|with config:|non-default args|Namespace\(|load model|raph|\u2588"
)

# "(VllmWorker rank=1 pid=7560)", "(VllmWorker TP1 pid=3527)", "(EngineCore_DP0 pid=70073)",
# "(VllmWorkerProcess pid=521)", "(RayWorkerWrapper pid=...)"
_PREFIX = re.compile(r"\(([^()]{0,80}?)\bpid=\d+\)")
_RANK = re.compile(r"(?:rank=|TP)(\d+)")

_CONFIG_LINE = re.compile(r"with config:|non-default args:|args: Namespace\(")

_MEMORY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("total_gpu_memory_gib", re.compile(r"total_gpu_memory\s*(?:\(\s*|=\s*|\s+)" + _NUM + r"\s*" + _UNIT)),
    (
        "weights_gib",
        re.compile(r"(?:Loading model weights|Model loading) took\s+" + _NUM + r"\s*" + _UNIT),
    ),
    ("weights_gib", re.compile(r"[Mm]odel weights take\s+" + _NUM + r"\s*" + _UNIT)),
    ("non_torch_gib", re.compile(r"non_torch_memory(?:\s+takes)?\s*[=\s]\s*" + _NUM + r"\s*" + _UNIT)),
    ("activation_peak_gib", re.compile(r"activation peak memory(?:\s+takes)?\s+" + _NUM + r"\s*" + _UNIT)),
    ("available_kv_gib", re.compile(r"Available KV cache memory:\s*" + _NUM + r"\s*" + _UNIT)),
    ("available_kv_gib", re.compile(r"reserved for KV Cache is\s*" + _NUM + r"\s*" + _UNIT)),
    ("available_kv_gib", re.compile(r"available_kv_cache_memory\s*[=:\s]\s*" + _NUM + r"\s*" + _UNIT)),
    ("available_kv_gib", re.compile(r"\bkv_cache_size=" + _NUM + r"\s*" + _UNIT)),
    (
        "cuda_graph_gib",
        re.compile(r"(?i:graph capturing|cuda ?graph)[^\n]{0,80}?\btook\s+" + _NUM + r"\s*" + _UNIT),
    ),
)

_GPU_UTIL = re.compile(r"gpu_memory_utilization['\"]?\s*(?:[=:(]\s*\(?\s*|\s+)(\d*\.?\d+)")
_KV_TOKENS = re.compile(r"GPU KV cache size:\s*" + _INT + r"\s+tokens")
_CONCURRENCY = re.compile(r"Maximum concurrency for\s+" + _INT + r"\s+tokens per request:\s*" + _NUM + r"x")
_GPU_BLOCKS = re.compile(r"(?<!\w)(?:#\s*)?(?:GPU|CUDA|gpu|cuda) blocks:\s*" + _INT + r"\b")

_VERSION_ENGINE = re.compile(r"LLM engine \(v([^)\s]+)\)")
_VERSION_API = re.compile(r"vLLM API server version\s+v?([0-9][\w.+\-]*)")
_VERSION_BANNER = re.compile(r"\bversion\s+v?([0-9][\w.+\-]*)")
_MODEL_BANNER = re.compile(r"\bmodel\s+(\S+)")
_MODEL_LOADING = re.compile(r"Starting to load model\s+(\S+?)(?:\.\.\.)?\s*$")

_CFG_MODEL = re.compile(r"(?:\bmodel=|'model':\s*)['\"]([^'\"]+)['\"]")
_CFG_MODEL_TAG = re.compile(r"'model_tag':\s*['\"]([^'\"]+)['\"]")
_CFG_TP = re.compile(r"tensor_parallel_size['\"]?\s*[=:]\s*(\d+)")
_CFG_MAX_LEN = re.compile(r"(?:\bmax_seq_len|\bmax_model_len['\"]?)\s*[=:]\s*(\d+)")
_CFG_KV_DTYPE = re.compile(r"kv_cache_dtype['\"]?\s*[=:]\s*['\"]?([A-Za-z0-9_]+)")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _integer(text: str) -> int:
    return int(text.replace(",", ""))


def _gib(value: str, unit: str) -> float:
    number = _number(value)
    if unit in ("MiB", "MB"):
        return number / 1024
    if unit in ("TiB", "TB"):
        return number * 1024
    return number  # GiB, and "GB" which vLLM always computed as GiB (see the module docstring)


def _priority(line: str) -> int:
    """0 for the driver / rank 0 / an engine core, 1 for any other worker."""
    match = _PREFIX.search(line, 0, 200)
    if match is None:
        return 0
    inner = match.group(1)
    rank = _RANK.search(inner)
    if rank is not None:
        return 0 if rank.group(1) == "0" else 1
    if inner.startswith(("EngineCore", "APIServer")):
        return 0
    return 1


# (field, patterns tried in turn, how the first group reads); a field keeps the first value it gets.
_Fields = tuple[tuple[str, tuple[re.Pattern[str], ...], Callable[[str], object]], ...]
_LINE_FIELDS: _Fields = (
    ("gpu_memory_utilization", (_GPU_UTIL,), _number),
    ("kv_cache_tokens", (_KV_TOKENS,), _integer),
    ("gpu_blocks", (_GPU_BLOCKS,), _integer),
    ("version", (_VERSION_ENGINE, _VERSION_API), str),
    ("model", (_MODEL_LOADING,), str),
)
_BANNER_FIELDS: _Fields = (("version", (_VERSION_BANNER,), str), ("model", (_MODEL_BANNER,), str))
_CONFIG_FIELDS: _Fields = (
    ("model", (_CFG_MODEL, _CFG_MODEL_TAG), str),
    ("tensor_parallel_size", (_CFG_TP,), int),
    ("max_model_len", (_CFG_MAX_LEN,), int),
    ("kv_cache_dtype", (_CFG_KV_DTYPE,), str),
)


def _put_first(found: dict[str, object], line: str, fields: _Fields) -> None:
    """Each field's value from the first of its patterns that matches the line, unless already found."""
    for name, patterns, read in fields:
        match = next((m for m in (pattern.search(line) for pattern in patterns) if m is not None), None)
        if match is not None:
            found.setdefault(name, read(match.group(1)))


# A log is taken for a vLLM log only if one line that gave a fact is plainly vLLM's: it carries the
# logger's prefix ("INFO 07-09 09:47:45 [gpu_worker.py:233]", vllm/logger.py's format) or states a fact
# only vLLM prints (memory profiling, KV cache size, concurrency, blocks). A setting alone
# ("gpu_memory_utilization = 0.9", as in a TOML profile) is not enough.
_LOGGER_PREFIX = re.compile(r"\b(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d\b|\[?[\w.]+\.py:\d+\]")
_DISTINCTIVE = frozenset({name for name, _ in _MEMORY_PATTERNS} | {"max_concurrency", "kv_cache_tokens", "gpu_blocks"})
NOT_A_LOG_MESSAGE = ("this does not look like a vLLM start-up log: no line carries vLLM's log prefix (\"INFO 07-09 "
                     "09:47:45 [gpu_worker.py:233]\") or a memory-profiling line ('Available KV cache memory: N GiB')")


def _looks_like_vllm(line: str, found: dict[str, object]) -> bool:
    return bool(_DISTINCTIVE.intersection(found)) or _LOGGER_PREFIX.search(line) is not None


def _facts_in_line(line: str) -> dict[str, object]:
    found: dict[str, object] = {}

    def put(name: str, value: object) -> None:
        found.setdefault(name, value)

    for name, pattern in _MEMORY_PATTERNS:
        match = pattern.search(line)
        if match is not None:
            put(name, _gib(match.group(1), match.group(2)))

    match = _CONCURRENCY.search(line)
    if match is not None:
        put("max_concurrency", (_integer(match.group(1)), _number(match.group(2))))

    if "\u2588" in line:  # the block-letter banner of vLLM 0.11+
        _put_first(found, line, _BANNER_FIELDS)
    _put_first(found, line, _LINE_FIELDS)
    if _CONFIG_LINE.search(line):
        _put_first(found, line, _CONFIG_FIELDS)
    return found


MAX_LOG_BYTES = 50_000_000  # a start-up log is kilobytes; a runaway one is read this far


def read_vllm_log(path: str | Path) -> str:
    """A log file's text, its first ``MAX_LOG_BYTES`` (undecodable bytes replaced); ProfileError naming the
    file when it is not a regular file or cannot be read (``sources.files``)."""
    return read_file_bytes(path, MAX_LOG_BYTES, "vLLM log", whole=False).decode("utf-8", errors="replace")


def parse_vllm_log(text: str, source: str = "") -> VllmLogFacts:
    """Scan a vLLM start-up log and return what it says about memory and the KV cache.

    Never raises on garbage: lines it does not understand are skipped and their facts stay ``None``.
    Raises ``ProfileError`` (naming ``source``, the file, when given) only when not one recognisable vLLM
    line is present, or when no line is plainly vLLM's (``_looks_like_vllm``: a TOML file is not a log).
    """
    head = f"{shown_path(source)}: " if source else ""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    best: dict[str, tuple[int, object]] = {}
    lines_used = 0
    lines_read = 0
    recognised = False
    for raw in text.splitlines():
        lines_read += 1
        line = raw[:MAX_LINE_CHARS]
        if "\x1b" in line or "^[" in line:
            line = _ANSI.sub("", line)
        if _TRIGGER.search(line) is None:
            continue
        found = _facts_in_line(line)
        if not found:
            continue
        lines_used += 1
        recognised = recognised or _looks_like_vllm(line, found)
        priority = _priority(line)
        for name, value in found.items():
            held = best.get(name)
            if held is None or priority < held[0]:
                best[name] = (priority, value)

    if lines_used == 0:
        raise ProfileError(f"{head}{NO_LINES_MESSAGE} (read {lines_read} lines, none from vLLM).")
    if not recognised:
        raise ProfileError(f"{head}{NOT_A_LOG_MESSAGE} (read {lines_read} lines).")

    values = {name: value for name, (_, value) in best.items()}
    max_concurrency = values.get("max_concurrency")
    max_model_len = values.get("max_model_len")
    if max_model_len is None and max_concurrency is not None:
        # vLLM prints max_model_len as the "tokens per request" of the concurrency line
        max_model_len = max_concurrency[0]  # type: ignore[index]
    return VllmLogFacts(
        version=values.get("version"),  # type: ignore[arg-type]
        model=values.get("model"),  # type: ignore[arg-type]
        tensor_parallel_size=values.get("tensor_parallel_size"),  # type: ignore[arg-type]
        gpu_memory_utilization=values.get("gpu_memory_utilization"),  # type: ignore[arg-type]
        total_gpu_memory_gib=values.get("total_gpu_memory_gib"),  # type: ignore[arg-type]
        weights_gib=values.get("weights_gib"),  # type: ignore[arg-type]
        activation_peak_gib=values.get("activation_peak_gib"),  # type: ignore[arg-type]
        non_torch_gib=values.get("non_torch_gib"),  # type: ignore[arg-type]
        cuda_graph_gib=values.get("cuda_graph_gib"),  # type: ignore[arg-type]
        available_kv_gib=values.get("available_kv_gib"),  # type: ignore[arg-type]
        kv_cache_tokens=values.get("kv_cache_tokens"),  # type: ignore[arg-type]
        max_concurrency=max_concurrency,  # type: ignore[arg-type]
        gpu_blocks=values.get("gpu_blocks"),  # type: ignore[arg-type]
        kv_cache_dtype=values.get("kv_cache_dtype"),  # type: ignore[arg-type]
        max_model_len=max_model_len,  # type: ignore[arg-type]
        lines_used=lines_used,
    )
