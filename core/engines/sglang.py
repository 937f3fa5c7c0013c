"""SGLang's defaults and memory accounting, as far as its source shows.

Read in sgl-project/sglang ``python/sglang/srt/server_args.py`` (``_handle_gpu_memory_settings``, the
0.5 releases) and ``python/sglang/srt/model_executor/model_runner.py`` (``profile_max_num_token``):

- ``mem_fraction_static`` is the share of the GPU's memory for the weights and the KV pool together;
  the activations, CUDA graphs and NCCL buffers live in the rest. Its default leaves a reserve that grows
  with the GPU and the tensor size: (9.5 + (tp × pp)/2) GiB under 90 GiB (H100), (12 + (tp × pp)/2) GiB
  under 160 GiB (H200), 32 GiB above (B200), 4 GiB more with data-parallel attention;
  fraction = (memory − reserve) / memory.
- The KV pool is what is left of that share once the weights are loaded:
  pool = memory × mem_fraction_static − weights.
- ``chunked_prefill_size`` (tokens per prefill step): 2,048 under 35 GiB, 8,192 under 160 GiB, 16,384
  above; divided by the data-parallel size when attention runs data-parallel.
- ``enable_mixed_chunk`` is off by default: a prefill step carries no decodes, decodes wait for it.
"""

from __future__ import annotations

import re

from ..specs.precisions import Precision
from ..specs.specs import GIB

DEFAULT_SGLANG_VERSION = "0.5.9"
SGLANG_VERSION_PATTERN = r"^\d{1,3}\.\d{1,3}(\.\d{1,4})?(\.post\d{1,3})?$"
DEFAULT_MAX_RUNNING_REQUESTS = 4096  # the pool, not this cap, binds on H100/H200/B200-class GPUs
MIXED_BATCHES = False
CHUNKED_PREFILL = True


def sglang_reserved_gib(memory_gib: float, tensor: int, pipeline: int, data_parallel_attention: bool) -> float:
    """The memory SGLang keeps outside ``mem_fraction_static`` by default (server_args.py), GiB."""
    parallel = tensor * pipeline
    if memory_gib < 35:
        reserve = 2.8 + parallel / 10
    elif memory_gib < 90:
        reserve = 9.5 + parallel / 2
    elif memory_gib < 160:
        reserve = 12 + parallel / 2
    else:
        reserve = 32.0
    return reserve + (4.0 if data_parallel_attention else 0.0)


def default_mem_fraction_static(memory_gib: float, tensor: int, pipeline: int, data: int) -> float:
    """(memory − reserve) / memory, rounded to 3 places as SGLang does; at least 0.1."""
    reserve = sglang_reserved_gib(memory_gib, tensor, pipeline, data > 1)
    return max(0.1, round((memory_gib - reserve) / memory_gib, 3))


def default_chunked_prefill_size(memory_gib: float, data: int) -> int:
    """Tokens per prefill step when the user sets none (server_args.py), per data-parallel rank."""
    if memory_gib < 35:
        tokens = 2048
    elif memory_gib < 160:
        tokens = 8192
    else:
        tokens = 16384
    return max(1, tokens // max(1, data))


def sglang_kv_budget_bytes(memory_gib: float, mem_fraction_static: float, weights: float) -> float:
    """The KV pool: memory × mem_fraction_static less the weights (model_runner.py). Negative: no pool."""
    return memory_gib * GIB * mem_fraction_static - weights


def sglang_default_kv_dtype(weight_dtype: Precision) -> Precision:
    """``--kv-cache-dtype auto``: the model's activation dtype, bf16."""
    return Precision.bf16


def valid_sglang_version(version: str) -> bool:
    return re.match(SGLANG_VERSION_PATTERN, version) is not None
