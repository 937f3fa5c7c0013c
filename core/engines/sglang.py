"""SGLang's defaults and memory accounting, as far as its source shows.

Read in sgl-project/sglang ``python/sglang/srt/server_args.py`` (``_handle_gpu_memory_settings``, the
0.5 releases) and ``python/sglang/srt/model_executor/model_runner.py`` (``profile_max_num_token``):

- ``mem_fraction_static`` is the share of the GPU's memory for the weights and the KV pool together;
  the activations, CUDA graphs and NCCL buffers live in the rest; fraction = (memory − reserve) / memory,
  rounded to 3 places. The reserve's default changed in 0.5.3 (sgl-project/sglang PR #10975, "Use more
  general heuristics to set the default value of --mem-fraction-static", merged 2025-09-27). Since then,
  in MiB: 512 + 1.5 × max(chunked_prefill_size, 2048) + 2 × cuda_graph_max_bs + 1024 × tp × pp / 8, plus
  with data-parallel attention 3 × cuda_graph_max_bs × dp (and 1.5 × more when cuda_graph_max_bs > 300),
  at least 10 GiB on a GPU over 60 GiB; cuda_graph_max_bs is 256 at tp < 4 and 512 from 4 on an H100 or
  H200, 512 on a B200 (tp counts every GPU of the group, data-parallel attention ranks included).
  One H100 at TP 1: 13,440 MiB, fraction 0.835. Later releases add the piecewise CUDA graphs' buffers
  when those are on (8 MiB per captured size: 592 MiB, fraction 0.828, on one H100); SGLang issue #29092
  reports 0.828 measured on an H100 with Qwen3-32B. Which release turned them on by default is not
  established here, so the planner leaves that term out (its pool is up to 0.6 GiB larger there).
  Before 0.5.3 the reserve was (9.5 + (tp × pp)/2) GiB under 90 GiB (H100), (12 + (tp × pp)/2) GiB under
  160 GiB (H200), 32 GiB above (B200), 4 GiB more with data-parallel attention.
- The KV pool is what is left of that share once the weights are loaded:
  pool = memory × mem_fraction_static − weights.
- ``chunked_prefill_size`` (tokens per prefill step): 2,048 under 35 GiB, 4,096 under 60 GiB from 0.5.3,
  8,192 under 160 GiB, 16,384 above; divided by the data-parallel size when attention runs data-parallel.
- ``enable_mixed_chunk`` is off by default: a prefill step carries no decodes, decodes wait for it.
"""

from __future__ import annotations

import re

from ..specs.precisions import Precision
from ..specs.specs import GIB
from .releases import release_tuple

DEFAULT_SGLANG_VERSION = "0.5.9"
SGLANG_VERSION_PATTERN = r"^\d{1,3}\.\d{1,3}(\.\d{1,4})?(\.post\d{1,3})?$"
DEFAULT_MAX_RUNNING_REQUESTS = 4096  # the pool, not this cap, binds on H100/H200/B200-class GPUs
MIXED_BATCHES = False
CHUNKED_PREFILL = True


RESERVE_HEURISTIC_SINCE = (0, 5, 3)  # PR #10975's reserve (the module docstring)


def _release(version: str | None) -> tuple[int, ...]:
    return release_tuple(version or DEFAULT_SGLANG_VERSION, DEFAULT_SGLANG_VERSION, 3)


# server_args.py's one chain on the GPU's memory (from 0.5.3): (below GiB, chunked_prefill_size, cuda_graph_max_bs
# at tp < 4, at tp >= 4). Before 0.5.3 the chunk was 8,192 from 35 GiB up to 160 (``chunked_prefill_tokens``).
MEMORY_TIERS = ((20, 2048, 8, 8), (35, 2048, 24, 80), (60, 4096, 32, 160), (160, 8192, 256, 512),
                (float("inf"), 16384, 512, 512))


def _tier(memory_gib: float) -> tuple[float, int, int, int]:
    return next(tier for tier in MEMORY_TIERS if memory_gib < tier[0])


def default_cuda_graph_max_bs(memory_gib: float, tp_size: int) -> int:
    """The largest batch SGLang captures a CUDA graph for when the user sets none (server_args.py, from 0.5.3)."""
    _, _, small, large = _tier(memory_gib)
    return small if tp_size < 4 else large


def _reserved_mib_since_0_5_3(memory_gib: float, tensor: int, pipeline: int, data: int, chunk: int) -> float:
    """PR #10975's reserve in MiB (the module docstring); SGLang's tp_size is every GPU of the group."""
    tp_size = tensor * data
    graphs = default_cuda_graph_max_bs(memory_gib, tp_size)
    reserve = 512 + 1.5 * max(chunk, 2048) + 2 * graphs + 1024 * tp_size * pipeline / 8
    if data > 1:
        reserve += 3 * graphs * data + (1.5 * graphs * data if graphs > 300 else 0.0)
    return max(reserve, 10 * 1024) if memory_gib > 60 else reserve


def sglang_reserved_gib(memory_gib: float, tensor: int, pipeline: int, data: int, version: str | None = None) -> float:
    """The memory SGLang keeps outside ``mem_fraction_static`` by default (server_args.py), GiB: PR #10975's
    reserve from 0.5.3, the earlier one before (the module docstring)."""
    if _release(version) >= RESERVE_HEURISTIC_SINCE:
        chunk = chunked_prefill_tokens(memory_gib, version)
        return _reserved_mib_since_0_5_3(memory_gib, tensor, pipeline, data, chunk) / 1024
    parallel = tensor * pipeline
    if memory_gib < 35:
        reserve = 2.8 + parallel / 10
    elif memory_gib < 90:
        reserve = 9.5 + parallel / 2
    elif memory_gib < 160:
        reserve = 12 + parallel / 2
    else:
        reserve = 32.0
    return reserve + (4.0 if data > 1 else 0.0)


def default_mem_fraction_static(memory_gib: float, tensor: int, pipeline: int, data: int,
                                version: str | None = None) -> float:
    """(memory − reserve) / memory, rounded to 3 places as SGLang does; at least 0.1."""
    reserve = sglang_reserved_gib(memory_gib, tensor, pipeline, data, version)
    return max(0.1, round((memory_gib - reserve) / memory_gib, 3))


def chunked_prefill_tokens(memory_gib: float, version: str | None = None) -> int:
    """``chunked_prefill_size`` when the user sets none (server_args.py, ``MEMORY_TIERS``), before the
    data-parallel split; 8,192 from 35 to 60 GiB before 0.5.3."""
    chunk = _tier(memory_gib)[1]
    return 8192 if chunk == 4096 and _release(version) < RESERVE_HEURISTIC_SINCE else chunk


def default_chunked_prefill_size(memory_gib: float, data: int, version: str | None = None) -> int:
    """Tokens per prefill step when the user sets none, per data-parallel rank."""
    return max(1, chunked_prefill_tokens(memory_gib, version) // max(1, data))


def sglang_kv_budget_bytes(memory_gib: float, mem_fraction_static: float, weights: float) -> float:
    """The KV pool: memory × mem_fraction_static less the weights (model_runner.py). Negative: no pool."""
    return memory_gib * GIB * mem_fraction_static - weights


def sglang_default_kv_dtype(weight_dtype: Precision) -> Precision:
    """``--kv-cache-dtype auto``: the model's activation dtype, bf16."""
    return Precision.bf16


def valid_sglang_version(version: str) -> bool:
    return re.match(SGLANG_VERSION_PATTERN, version) is not None
