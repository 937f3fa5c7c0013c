"""vLLM's own start-up memory budget: versions and defaults, the memory CUDA reports, the profile run's
activation peak, non-torch memory and CUDA graphs. The pool that budget buys (pages, groups, stages
and the "GPU KV cache size" / "Maximum concurrency" lines) is ``engines/vllm_pool.py``.

Every term follows vLLM's source (read for this module; see docs/accuracy.md for the files,
versions and the log lines each one reproduces; the terms are summarised in docs/accuracy.md):

- ``vllm/v1/worker/gpu_worker.py::determine_available_memory`` (V0: ``vllm/worker/worker.py::
  determine_num_available_blocks``): available = total * gpu_memory_utilization - (weights +
  activation peak + non-torch memory), minus the CUDA-graph estimate from v0.21 on (PR #38284, which
  also raised the default utilization from 0.90 to 0.92).
- ``gpu_model_runner.py::profile_run``: the activation peak is a forward pass of
  ``max_num_batched_tokens`` tokens (attention kernels skipped) and a sampler pass over
  ``min(max_num_seqs, max_num_batched_tokens)`` rows of fp32 logits.
- ``vllm/engine/arg_utils.py`` (``_set_default_args_v1`` / ``get_batch_defaults``): the scheduler
  defaults, by usage (``vllm serve`` or the ``LLM`` class) and by GPU memory (>= 70 GiB and not an A100).
- ``vllm/v1/kv_cache_interface.py`` and ``vllm/v1/core/kv_cache_utils.py``: pages of ``block_size``
  tokens per layer (MLA: one latent, not K and V), blocks = available // page // layers per group,
  the hybrid allocator's groups for sliding-window layers, the printed token count and concurrency.

Sizes are bytes per GPU. With pipeline parallelism each stage holds its own layers (the first the
embedding, the last the head and the sampler) and vLLM keeps the smallest block count over workers.
"""

from __future__ import annotations

from functools import lru_cache
from math import ceil, log2

from ..physics.memory import weight_bytes_per_parameter
from ..specs.specs import GIB, ModelSpec
from .releases import release_tuple

DEFAULT_VLLM_VERSION = "0.30"  # the newest release whose defaults we checked (CacheConfig docs, v0.30)
VERSION_PATTERN = r"^\d{1,3}\.\d{1,3}(\.\d{1,4})?$"
# One release per era of the accounting (the boundaries below); any release number is accepted.
ACCOUNTING_ERAS = ("0.30", "0.21", "0.20", "0.10", "0.9", "0.8", "0.6")

V1_FROM = (0, 8)  # V1 became the default engine in 0.8.0
HYBRID_ALLOCATOR_FROM = (0, 10)  # sliding-window layers get their own KV groups (on by default ~0.9.2/0.10)
WINDOW_AWARE_CONCURRENCY_FROM = (0, 9)  # PR #19029: concurrency counts each spec's max memory per request
CONCURRENCY_TOKEN_PRINT_FROM = (0, 20)  # PRs #38364/#40694: "GPU KV cache size" = int(concurrency * max_model_len)
CUDA_GRAPH_CHARGED_FROM = (0, 21)  # PR #38284: the CUDA-graph estimate comes out of the KV budget by default

ACTIVATION_BYTES = 2  # activations run in bf16/fp16 whatever the weights' precision
FUSED_MOE_CHUNK_TOKENS = 16 * 1024  # VLLM_FUSED_MOE_CHUNK_SIZE default (fused_moe.py)
# Sampler pass of the profile run over rows x vocabulary logits (gpu_model_runner.py::_dummy_sampler_run,
# top-k = vocab - 1 and top-p = 0.9, no logprobs), bytes live at its peak per logit:
# - native (PyTorch sort, topk_topp_sampler.py::apply_top_k_top_p): bf16 logits 2 + the fp32 copy 4 + sorted
#   values 4 + int64 indices 8 + the sort's scratch (reverse indices 8, CUB's extra key/value buffers 12) = 38.
#   Reproduces the gpt-oss-120b H100 logs (vLLM 0.10.1 and 0.11, 1,024 rows: 7.3 GiB), and the 1.74 GiB
#   "Tried to allocate" of vLLM issues #15105 / #26278 (1,024 x 152,064 x 12 B).
# - FlashInfer (top_k_top_p_sampling_from_logits): bf16 2 + fp32 4 + masked logits 4 + probabilities 4 = 14.
#   Reproduces the 0.69 GiB peak logged for gpt-oss-120b at TP2 on A100s (256 rows).
# V0's sampler also builds logprobs: 41 B per logit reproduces the 1.26 GiB peak V0 0.6.5 logged for
# Llama-3-8B on H100 (PR #10511), where the 8,192-token forward pass alone needs 0.84 GiB.
SAMPLER_BYTES_PER_LOGIT = {"native": 38, "flashinfer": 14}
SAMPLER_BYTES_PER_LOGIT_V0 = 41
# Which one runs by default: FlashInfer whenever it was importable up to 0.11.0 (the Docker images ship it,
# a plain pip install did not); native from 0.11.1 (PR #26859 turned it off); FlashInfer again from 0.19
# (PR #40376, merged 2026-04-20; inferred: a stock 0.19.0 on an A100 logs too little memory for the
# native pass). The default below the 0.19 boundary is the pip install's, native.
FLASHINFER_SAMPLER_DEFAULT_FROM = (0, 19)
# Non-torch memory (device memory torch did not allocate: cuBLAS and NCCL buffers, custom all-reduce),
# medians of 35 start-up logs that print it (docs/accuracy.md lists them). From 0.7 (V0) and 0.9 (V1)
# vLLM counts the increase since a snapshot taken once the CUDA context is up: 0.08 GiB on one GPU
# (medians 0.09 of 13 V0 logs, 0.07 of 9 V1 logs). With tensor parallelism over NVLink it grows with
# the group (NCCL channels, custom all-reduce): 0.74 GiB at TP 2 (median of 0.44, 0.74, 1.38), 1.6 at
# TP 4 (1.39, 1.84), 1.94 at TP 8 (1.78, 2.10); over PCIe alone ~0.1 (0.09 on four 24 GB PCIe cards).
# V0 before 0.7 and V1 0.8 measure device-wide, so the process's CUDA context counts too: 0.45 GiB
# median on one GPU (four NVIDIA logs: 0.15-0.73), i.e. 0.37 GiB of context on top.
NON_TORCH_ONE_GPU_GIB = 0.08
NON_TORCH_PCIE_GIB = 0.1
NON_TORCH_NVLINK_GIB = {1: NON_TORCH_ONE_GPU_GIB, 2: 0.74, 4: 1.6, 8: 1.94}  # by tensor-parallel group size
NVLINK_GROUP_SIZES = tuple(sorted(NON_TORCH_NVLINK_GIB))
CUDA_CONTEXT_GIB = 0.37
SNAPSHOT_NON_TORCH_V0_FROM = (0, 7)  # PR #10511: memory_profiling against a baseline snapshot
SNAPSHOT_NON_TORCH_V1_FROM = (0, 9)  # PR #19312 and its 0.9.0 predecessor
# CUDA-graph pool, charged from v0.21: vLLM captures up to 512-token graphs; logs show 0.3-0.6 GiB
# ("Graph capturing finished ... took 0.44 GiB" for Gemma 3 1B, vLLM issue #14696).
CUDA_GRAPH_GIB = 0.5
# The total vLLM sees (torch.cuda.mem_get_info) is below nvidia-smi's memory.total, which the catalog and
# profiles hold, by what the driver keeps: per GPU in the catalog (driver_reserved_gib), else this, the
# H100's 79.65 vs 79.22 GiB (vLLM PR #10511). It moves by ~0.1 GiB between driver versions.
DEFAULT_DRIVER_RESERVED_GIB = 0.43
MLA_BLOCK_TOKENS = 64  # FlashMLA (Hopper, Blackwell sm100) forces 64-token blocks (platforms/cuda.py)


def version_tuple(version: str) -> tuple[int, ...]:
    """"0.11.2" -> (0, 11). The profile validates the text against ``VERSION_PATTERN``."""
    return release_tuple(version, DEFAULT_VLLM_VERSION, 2)


def version_warnings(version: str) -> list[str]:
    """A release outside the checked ones is planned with the nearest era's accounting: say which."""
    at = version_tuple(version)
    if version_tuple(ACCOUNTING_ERAS[-1]) <= at <= version_tuple(ACCOUNTING_ERAS[0]):
        return []
    known = ", ".join(ACCOUNTING_ERAS)
    if at > version_tuple(ACCOUNTING_ERAS[0]):
        return [f"vLLM {version} is newer than the releases whose accounting was checked ({known}): planned as "
                f"{ACCOUNTING_ERAS[0]}"]
    return [f"vLLM {version} is older than the releases whose accounting was checked ({known}): planned as "
            f"{ACCOUNTING_ERAS[-1]}"]


def default_gpu_memory_utilization(version: str) -> float:
    """0.90 through v0.20, 0.92 from v0.21 (PR #38284, with the CUDA-graph estimate charged)."""
    return 0.92 if version_tuple(version) >= CUDA_GRAPH_CHARGED_FROM else 0.9


def driver_reserved(driver_reserved_gib: float | None) -> float:
    """What the driver keeps from CUDA, GiB: the GPU's figure, else the default."""
    return DEFAULT_DRIVER_RESERVED_GIB if driver_reserved_gib is None else driver_reserved_gib


def engine_visible_bytes(memory_gib: float, driver_reserved_gib: float | None = None) -> float:
    """The total vLLM multiplies by gpu_memory_utilization: the driver's figure less what it keeps from CUDA."""
    return max(0.0, memory_gib - driver_reserved(driver_reserved_gib)) * GIB


def default_scheduler_limits(version: str, gpu_memory_gib: float, gpu_name: str, usage: str,
                             max_model_len: int) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) vLLM picks when the user sets neither.

    V1 (arg_utils.py): >= 70 GiB and not an A100: 16,384 tokens for the LLM class, 8,192 for
    ``vllm serve``, 1,024 sequences; otherwise 8,192 / 2,048 tokens and 256 sequences; then capped at
    max_num_seqs * max_model_len. V0 (config.py, chunked prefill off): max(max_model_len, 2048) and 256.
    """
    defaults = _v1_scheduler_defaults(version, gpu_memory_gib, gpu_name, usage)
    if defaults is None:
        return max(max_model_len, 2048), 256
    tokens, sequences = defaults
    tokens = min(sequences * max_model_len, tokens)
    return tokens, min(sequences, tokens)


@lru_cache(maxsize=256)
def _v1_scheduler_defaults(version: str, gpu_memory_gib: float, gpu_name: str, usage: str) -> tuple[int, int] | None:
    """V1's (max_num_batched_tokens, max_num_seqs) before the max_model_len cap; None for V0 (see above).
    Cached: a plan asks on every call with the same few arguments."""
    if version_tuple(version) < V1_FROM:
        return None
    big = gpu_memory_gib >= 70 and (version_tuple(version) < (0, 9) or "a100" not in gpu_name.lower())
    if big:
        return (16384 if usage == "llm" else 8192), 1024
    return (8192 if usage == "llm" else 2048), 256


def moe_intermediate_size(model: ModelSpec) -> float:
    """One routed expert's MLP width, from the expert parameters: 3 matrices of hidden x width per
    expert per layer (gate, up, down). Exact for gpt-oss; DeepSeek-V3's dense first layers make it 5% low."""
    if model.expert_params_b is not None and model.experts:
        return model.expert_params_b * 1e9 / (model.layers * model.experts * 3 * model.hidden_size)
    return (model.intermediate_size or 4 * model.hidden_size) / max(1, model.experts_per_token)


# MXFP4 MoE experts as vLLM holds them after loading (quantization/mxfp4.py, create_weights and
# process_weights_after_loading, read in the 0.10.1, 0.11.0, 0.12.0 and 0.19.0 releases): the expert
# width per rank and the hidden size are zero-padded, values stay 4-bit, e8m0 scales 1 byte per 32.
# Marlin (Ampere/Ada always; Hopper before 0.12, which pinned torch < 2.8 or lacked triton_kernels):
# width to 128, hidden to 256, bf16 biases. Triton matmul_ogs (Hopper from 0.12): width to 64, hidden
# unpadded, fp32 biases, and the swizzled scales are a copy (the loaded ones are never freed).
# Reproduces "Model loading took" within 0.04 GiB: gpt-oss-120b 65.97 GiB (H100, 0.10.1), 34.38 GiB per
# rank (TP2, A100, 0.12), gpt-oss-20b 13.72 GiB (A100, 0.19).
MXFP4_LAYOUTS = {  # backend: (width multiple, hidden multiple, bias bytes, scale copies)
    "marlin": (128, 256, 2, 1),
    "triton": (64, 1, 4, 2),
}
MXFP4_TRITON_FROM = (0, 12)


def mxfp4_backend(architecture: str, version: str) -> str | None:
    """vLLM's default MXFP4 MoE kernel on this GPU, None where we have not read it (Blackwell, AMD)."""
    if architecture in ("ampere", "ada"):
        return "marlin"
    if architecture == "hopper":
        return "triton" if version_tuple(version) >= MXFP4_TRITON_FROM else "marlin"
    return None


def round_up(value: float, multiple: int) -> int:
    return ceil(value / multiple) * multiple


def loaded_expert_bytes(model: ModelSpec, tensor: int, expert: int, version: str, architecture: str) -> float | None:
    """One rank's MXFP4 expert weights as loaded (see MXFP4_LAYOUTS); None when the layout does not
    apply (not MXFP4 MoE, an exact checkpoint size, or a GPU whose kernel we have not read)."""
    backend = mxfp4_backend(architecture, version)
    if model.weight_dtype != "mxfp4" or not model.is_moe or model.uses_checkpoint_bytes or backend is None:
        return None
    width_multiple, hidden_multiple, bias_bytes, scale_copies = MXFP4_LAYOUTS[backend]
    sharded = expert <= 1  # without expert parallelism every rank holds every expert, its width split by TP
    experts = model.experts if sharded else ceil(model.experts / expert)
    width = round_up(int(moe_intermediate_size(model)) / (tensor if sharded else 1), width_multiple)
    hidden = round_up(model.hidden_size, hidden_multiple)
    values = 3 * width * hidden  # gate and up (2 x width) and down, per expert
    per_expert = values / 2 + scale_copies * values / 32 + bias_bytes * (2 * width + hidden)
    return model.layers * experts * per_expert


def forward_activation_bytes(model: ModelSpec, tokens: int, tensor: int, expert: int = 1) -> float:
    """Peak of the profile run's forward pass over ``tokens`` tokens on one rank.

    Dense gated MLP: gate/up output (2 x intermediate / tp) and the activated product (1 x), plus three
    copies of the hidden state (residual, normed input, output): tokens * (3 I / tp + 3 H) * 2 bytes.
    That reproduces V0 0.6.4's logged peaks for Llama-3.1-8B on an RTX 3090 (2.07 GiB at 20,000 tokens,
    2.99 GiB at 29,000; vLLM issue #10517). MoE layers use fused_moe's caches instead:
    min(tokens, 16K) * top-k * (max(N, H) + N / 2) elements with N = 2 * expert width / tp.
    """
    hidden = 3 * tokens * model.hidden_size * ACTIVATION_BYTES
    dense_width = model.intermediate_size or 4 * model.hidden_size
    dense_mlp = 3 * tokens * dense_width / tensor * ACTIVATION_BYTES
    if not model.is_moe:
        return hidden + dense_mlp
    shard = expert if expert > 1 else tensor
    n = 2 * moe_intermediate_size(model) / shard
    chunk = min(tokens, FUSED_MOE_CHUNK_TOKENS)
    moe = chunk * model.experts_per_token * (max(n, model.hidden_size) + n / 2) * ACTIVATION_BYTES
    dense_layers = dense_mlp if model.intermediate_size and model.expert_params_b is not None else 0.0
    return hidden + max(moe, dense_layers)


def default_sampler(version: str) -> str:
    """The top-k/top-p kernel a stock install of this version runs (see the constants)."""
    return "flashinfer" if version_tuple(version) >= FLASHINFER_SAMPLER_DEFAULT_FROM else "native"


def sampler_activation_bytes(model: ModelSpec, sequences: int, version: str, sampler: str | None = None) -> float:
    """The profile run's sampler pass: ``sequences`` rows of full-vocabulary logits (see the constants)."""
    vocab = model.vocab_size or 32000
    if version_tuple(version) < V1_FROM:
        return sequences * vocab * SAMPLER_BYTES_PER_LOGIT_V0
    return sequences * vocab * SAMPLER_BYTES_PER_LOGIT[sampler or default_sampler(version)]


def activation_peak_bytes(model: ModelSpec, batched_tokens: int, sequences: int, tensor: int, expert: int,
                          version: str, sampler: str | None = None) -> float:
    """vLLM's "PyTorch activation peak": the larger of the forward pass and the sampler pass (the
    forward's transients are freed before sampling; its last hidden states are still held)."""
    rows = min(sequences, batched_tokens)
    held = rows * model.hidden_size * ACTIVATION_BYTES
    return max(forward_activation_bytes(model, batched_tokens, tensor, expert),
               held + sampler_activation_bytes(model, rows, version, sampler))


def nvlink_non_torch_gib(tensor: int) -> float:
    """NON_TORCH_NVLINK_GIB, interpolated on log2 of the group size and flat past TP 8."""
    sizes = NVLINK_GROUP_SIZES
    size = min(max(tensor, sizes[0]), sizes[-1])
    if size in NON_TORCH_NVLINK_GIB:
        return NON_TORCH_NVLINK_GIB[size]
    low = max(s for s in sizes if s <= size)
    high = min(s for s in sizes if s >= size)
    if low == high:
        return NON_TORCH_NVLINK_GIB[low]
    share = (log2(size) - log2(low)) / (log2(high) - log2(low))
    return NON_TORCH_NVLINK_GIB[low] + share * (NON_TORCH_NVLINK_GIB[high] - NON_TORCH_NVLINK_GIB[low])


@lru_cache(maxsize=256)
def non_torch_bytes(gpus_per_replica: int, tensor: int, version: str, interconnect: str = "") -> float:
    """Non-torch memory charged to the KV budget (see the constants). ``interconnect`` is the GPU's
    (catalog text): PCIe-only parts get no custom all-reduce and few NCCL channels. Cached: a plan asks on every
    call with the same few arguments."""
    at = version_tuple(version)
    since_snapshot = (SNAPSHOT_NON_TORCH_V0_FROM <= at < V1_FROM) or at >= SNAPSHOT_NON_TORCH_V1_FROM
    if gpus_per_replica == 1:
        gib = NON_TORCH_ONE_GPU_GIB
    elif tensor == 1 or interconnect.strip().lower().startswith("pcie"):
        gib = NON_TORCH_PCIE_GIB
    else:
        gib = nvlink_non_torch_gib(tensor)
    return (gib + (0.0 if since_snapshot else CUDA_CONTEXT_GIB)) * GIB


def cuda_graph_bytes_charged(version: str, cuda_graphs: bool) -> float:
    """The CUDA-graph estimate subtracted before KV sizing: from v0.21 only, and not with --enforce-eager.
    Earlier versions capture the graphs after sizing, out of the (1 - utilization) headroom."""
    if not cuda_graphs or version_tuple(version) < CUDA_GRAPH_CHARGED_FROM:
        return 0.0
    return CUDA_GRAPH_GIB * GIB


def replicated_mla_bytes(model: ModelSpec, tensor: int) -> float:
    """What MLA's latent down-projections add to each tensor rank beyond its 1/tp share: vLLM (and SGLang)
    keep ``q_a_proj`` and ``kv_a_proj_with_mqa`` whole on every rank — ``ReplicatedLinear``, fused since
    into ``DeepSeekV2FusedQkvAProjLinear(..., disable_tp=True)`` (vllm-project/vllm
    ``vllm/model_executor/models/deepseek_v2.py``; sgl-project/sglang ``python/sglang/srt/models/deepseek_v2.py``).
    layers x hidden x (q_lora_rank + kv_lora_rank + qk_rope_head_dim) parameters, x (1 - 1/tp).
    DeepSeek-V3 in fp8 at TP 8: 0.75 GiB per GPU."""
    if model.attention != "mla" or tensor <= 1 or model.kv_lora_rank is None or model.qk_rope_head_dim is None:
        return 0.0
    width = (model.q_lora_rank or 0) + model.kv_lora_rank + model.qk_rope_head_dim
    return model.layers * model.hidden_size * width * weight_bytes_per_parameter(model) * (1 - 1 / tensor)
