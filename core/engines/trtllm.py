"""TensorRT-LLM's defaults and memory accounting, as far as its source shows.

Read in NVIDIA/TensorRT-LLM:

- ``tensorrt_llm/commands/serve.py`` (``trtllm-serve``): ``--kv_cache_free_gpu_memory_fraction`` defaults
  to 0.9, "Free GPU memory fraction reserved for KV Cache, after allocating model weights and buffers";
  ``--max_batch_size`` and ``--max_num_tokens`` default to ``BuildConfig``'s 2,048 sequences and 8,192
  tokens per step.
- ``tensorrt_llm/llmapi/llm_args.py``: ``KvCacheConfig.free_gpu_memory_fraction`` (0.9); chunked context
  (``enable_chunked_prefill``) is off by default, so a prompt is prefilled whole in one step, and the
  in-flight batching scheduler mixes context and generation requests in the same step.
- The KV cache dtype: fp8 for checkpoints quantized to fp8 or fp4 (ModelOpt checkpoints carry an fp8
  KV scheme; what the measured data in tests/data/measured-serving assumes), bf16 otherwise.
"""

from __future__ import annotations

import re

from ..specs.precisions import Precision

DEFAULT_TRTLLM_VERSION = "1.2.0"
TRTLLM_VERSION_PATTERN = r"^\d{1,3}\.\d{1,3}(\.\d{1,4})?(rc\d{1,3})?(\.post\d{1,3})?$"
DEFAULT_FREE_GPU_MEMORY_FRACTION = 0.9
DEFAULT_MAX_NUM_TOKENS = 8192
DEFAULT_MAX_BATCH_SIZE = 2048
MIXED_BATCHES = True
CHUNKED_PREFILL = False
QUANTIZED_KV_FP8 = frozenset({Precision.fp8, Precision.nvfp4, Precision.mxfp4, Precision.fp4})


# The default capacity scheduler, GUARANTEED_NO_EVICT (tensorrt_llm/llmapi/llm_args.py ``SchedulerConfig``): a request
# is admitted only when the KV pool holds its prompt and whole reply, and a started one is never preempted.
RESERVES_FULL_LENGTH = True


def trtllm_kv_budget_bytes(total: float, weights: float, activations: float, overhead: float,
                           free_gpu_memory_fraction: float) -> float:
    """fraction × (memory left after the weights, the activation peak and the buffers). Negative: no pool."""
    free = total - weights - activations - overhead
    return free * free_gpu_memory_fraction if free > 0 else free


def trtllm_default_kv_dtype(weight_dtype: Precision) -> Precision:
    """fp8 KV for fp8 or fp4 weights, bf16 otherwise."""
    return Precision.fp8 if weight_dtype in QUANTIZED_KV_FP8 else Precision.bf16


def valid_trtllm_version(version: str) -> bool:
    return re.match(TRTLLM_VERSION_PATTERN, version) is not None
