"""What a serving engine refuses to start with: the shape and format rules, as plain checks.

Each check returns sentences a user can act on; an empty list means the engine accepts the setting.
vLLM's rules, read from its source:

- ``vllm/config/model.py`` (``ModelConfig.verify_with_parallel_config``): "Total number of attention
  heads (N) must be divisible by tensor parallel size (T)".
- ``vllm/model_executor/layers/linear.py`` (``QKVParallelLinear``): KV heads are split over the
  tensor ranks when there are at least as many as ranks (``divide(total_num_kv_heads, tp_size)``)
  and replicated otherwise (``divide(tp_size, total_num_kv_heads)``): either way one must divide the
  other. ``ColumnParallelLinear`` divides the MLP width by the tensor size the same way.
- ``vllm/config/cache.py`` (``CacheDType``): the KV cache is stored as the model dtype ("auto"),
  bf16/fp16/fp32 or fp8 (e4m3/e5m2); there is no 4-bit or int8 KV cache.
- NVFP4 checkpoints run on NVIDIA GPUs only (ModelOpt / compressed-tensors NVFP4 kernels are CUDA
  kernels: CUTLASS on Blackwell, Marlin weight-only before it).
"""

from __future__ import annotations

from ..specs.precisions import Precision
from ..specs.specs import GpuSpec, ModelSpec

# KV cache precisions vLLM can store (CacheDType); anything else it refuses at start-up.
VLLM_KV_DTYPES = frozenset({Precision.bf16, Precision.fp16, Precision.fp32, Precision.fp8})
_NVFP4 = Precision.nvfp4  # a module constant: an enum member looked up on its class costs a call on every plan


def tensor_split_refusals(model: ModelSpec, tensor: int) -> list[str]:
    """Why ``tensor`` ranks cannot split this model's heads or MLP (vLLM's linear layers), or nothing."""
    if tensor == 1:
        return []
    reasons = []
    if model.attention_heads % tensor:
        reasons.append(f"tensor parallel {tensor} does not divide the {model.attention_heads} attention heads")
    kv_heads = model.kv_heads_or_default
    if model.attention == "gqa" and (kv_heads % tensor if kv_heads >= tensor else tensor % kv_heads):
        reasons.append(f"tensor parallel {tensor} neither divides nor is a multiple of the {kv_heads} KV heads")
    if not model.is_moe and model.intermediate_size and model.intermediate_size % tensor:
        reasons.append(f"tensor parallel {tensor} does not divide the MLP width {model.intermediate_size:,}")
    return reasons


def valid_tensor_sizes(model: ModelSpec, largest: int) -> list[int]:
    """Tensor-parallel sizes up to ``largest`` that split this model evenly (see ``tensor_split_refusals``)."""
    return [size for size in range(1, largest + 1) if not tensor_split_refusals(model, size)]


def format_refusals(engine: str, model: ModelSpec, gpu: GpuSpec) -> list[str]:
    """Weight and KV-cache formats ``engine`` will not run on ``gpu``, or nothing."""
    reasons = []
    if engine == "vllm" and model.kv_dtype not in VLLM_KV_DTYPES:
        reasons.append(f"vLLM stores the KV cache as bf16, fp16, fp32 or fp8, not {model.kv_dtype.value}")
    if model.weight_dtype is _NVFP4 and gpu.vendor and gpu.vendor.lower() != "nvidia":
        reasons.append(f"NVFP4 weights run on NVIDIA GPUs only, not on {gpu.name}")
    return reasons


def expert_split_warnings(model: ModelSpec, expert: int) -> list[str]:
    """Expert-parallel splits an engine runs but unevenly: some ranks hold one more expert."""
    if expert > 1 and model.is_moe and model.experts % expert:
        return [f"expert parallel {expert} does not divide the {model.experts} experts: some ranks hold one more"]
    return []
