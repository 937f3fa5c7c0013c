"""vLLM's own start-up memory accounting: what it will print as "GPU KV cache size" and "Maximum
concurrency for N tokens per request".

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

Sizes are bytes per GPU (the busiest rank: vLLM takes the minimum block count over workers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import ceil

from napkinmath.core.memory import kv_bytes_per_token_per_layer, layers_per_gpu
from napkinmath.core.specs import GIB, ModelSpec

DEFAULT_VLLM_VERSION = "0.30"  # the newest release whose defaults we checked (CacheConfig docs, v0.30)
VERSION_PATTERN = r"^\d{1,3}\.\d{1,3}(\.\d{1,4})?$"
# One release per era of the accounting (the boundaries below); any release number is accepted.
ACCOUNTING_ERAS = ("0.30", "0.21", "0.20", "0.10", "0.9", "0.8", "0.6")

V1_FROM = (0, 8)  # V1 became the default engine in 0.8.0
HYBRID_ALLOCATOR_FROM = (0, 10)  # sliding-window layers get their own KV groups (on by default ~0.9.2/0.10)
WINDOW_AWARE_CONCURRENCY_FROM = (0, 9)  # PR #19029: concurrency counts each spec's max memory per request
CONCURRENCY_TOKEN_PRINT_FROM = (0, 20)  # PRs #38364/#40694: "GPU KV cache size" = int(concurrency * max_model_len)
CUDA_GRAPH_CHARGED_FROM = (0, 21)  # PR #38284: the CUDA-graph estimate comes out of the KV budget by default
NCCL_BEFORE_SNAPSHOT_FROM = (0, 10)  # the init snapshot follows NCCL init: its buffers are not charged

ACTIVATION_BYTES = 2  # activations run in bf16/fp16 whatever the weights' precision
FUSED_MOE_CHUNK_TOKENS = 16 * 1024  # VLLM_FUSED_MOE_CHUNK_SIZE default (fused_moe.py)
# Sampler pass of the profile run: logits cast to fp32 (4 B), sort-based top-k/top-p (fp32 values 4 B
# + int64 indices 8 B), softmax probabilities (4 B), the exponential draw (4 B), the bf16 logits (2 B):
# ~26 B per logit in V1 (gpu_model_runner.py::_dummy_sampler_run). V0's sampler also builds logprobs;
# 41 B per logit reproduces the 1.26 GiB peak V0 0.6.5 logged for Llama-3-8B on H100 (PR #10511),
# where the 8,192-token forward pass alone needs 0.84 GiB.
SAMPLER_BYTES_PER_LOGIT_V1 = 26
SAMPLER_BYTES_PER_LOGIT_V0 = 41
# Non-torch memory (cuBLAS workspaces, allocator, NCCL communicators created during profiling):
# about 0.15 GiB on one GPU and 0.6 GiB with tensor parallelism (physics.md anchors); V0 and V1
# before 0.10 also charge NCCL's init buffers, about 0.4 GB at TP 2-8.
NON_TORCH_SINGLE_GPU_GIB = 0.15
NON_TORCH_MULTI_GPU_GIB = 0.6
NCCL_INIT_BYTES = 0.4e9
# CUDA-graph pool, charged from v0.21: vLLM captures up to 512-token graphs; logs show 0.3-0.6 GiB
# ("Graph capturing finished ... took 0.44 GiB" for Gemma 3 1B, vLLM issue #14696).
CUDA_GRAPH_GIB = 0.5
# The total vLLM sees (torch.cuda.mem_get_info) is below nvidia-smi's memory.total, which the catalog and
# profiles hold: H100 80GB 79.65 vs 79.22 GiB (PR #10511), RTX 3090 24.00 vs 23.58 GiB (issue #10517).
DRIVER_HIDDEN_GIB = 0.43
MLA_BLOCK_TOKENS = 64  # FlashMLA (Hopper default) forces 64-token blocks (platforms/cuda.py)


def version_tuple(version: str) -> tuple[int, int]:
    """"0.11.2" -> (0, 11). The profile validates the text against ``VERSION_PATTERN``."""
    match = re.match(r"^(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else version_tuple(DEFAULT_VLLM_VERSION)


def default_gpu_memory_utilization(version: str) -> float:
    """0.90 through v0.20, 0.92 from v0.21 (PR #38284, with the CUDA-graph estimate charged)."""
    return 0.92 if version_tuple(version) >= CUDA_GRAPH_CHARGED_FROM else 0.9


def engine_visible_bytes(memory_gib: float) -> float:
    """The total vLLM multiplies by gpu_memory_utilization: the driver's figure less what CUDA hides."""
    return max(0.0, memory_gib - DRIVER_HIDDEN_GIB) * GIB


def default_scheduler_limits(version: str, gpu_memory_gib: float, gpu_name: str, usage: str,
                             max_model_len: int) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) vLLM picks when the user sets neither.

    V1 (arg_utils.py): >= 70 GiB and not an A100: 16,384 tokens for the LLM class, 8,192 for
    ``vllm serve``, 1,024 sequences; otherwise 8,192 / 2,048 tokens and 256 sequences; then capped at
    max_num_seqs * max_model_len. V0 (config.py, chunked prefill off): max(max_model_len, 2048) and 256.
    """
    if version_tuple(version) < V1_FROM:
        return max(max_model_len, 2048), 256
    big = gpu_memory_gib >= 70 and (version_tuple(version) < (0, 9) or "a100" not in gpu_name.lower())
    if big:
        tokens, sequences = (16384 if usage == "llm" else 8192), 1024
    else:
        tokens, sequences = (8192 if usage == "llm" else 2048), 256
    tokens = min(sequences * max_model_len, tokens)
    return tokens, min(sequences, tokens)


def moe_intermediate_size(model: ModelSpec) -> float:
    """One routed expert's MLP width, from the expert parameters: 3 matrices of hidden x width per
    expert per layer (gate, up, down). Exact for gpt-oss; DeepSeek-V3's dense first layers make it 5% low."""
    if model.expert_params_b is not None and model.experts:
        return model.expert_params_b * 1e9 / (model.layers * model.experts * 3 * model.hidden_size)
    return (model.intermediate_size or 4 * model.hidden_size) / max(1, model.experts_per_token)


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


def sampler_activation_bytes(model: ModelSpec, sequences: int, version: str) -> float:
    """The profile run's sampler pass: ``sequences`` rows of full-vocabulary logits (see the constants)."""
    vocab = model.vocab_size or 32000
    per_logit = SAMPLER_BYTES_PER_LOGIT_V1 if version_tuple(version) >= V1_FROM else SAMPLER_BYTES_PER_LOGIT_V0
    return sequences * vocab * per_logit


def activation_peak_bytes(model: ModelSpec, batched_tokens: int, sequences: int, tensor: int, expert: int,
                          version: str) -> float:
    """vLLM's "PyTorch activation peak": the larger of the forward pass and the sampler pass (the
    forward's transients are freed before sampling; its last hidden states are still held)."""
    rows = min(sequences, batched_tokens)
    held = rows * model.hidden_size * ACTIVATION_BYTES
    return max(forward_activation_bytes(model, batched_tokens, tensor, expert),
               held + sampler_activation_bytes(model, rows, version))


def non_torch_bytes(gpus_per_replica: int, version: str) -> float:
    """Non-torch memory charged to the KV budget (see the constants)."""
    if gpus_per_replica == 1:
        return NON_TORCH_SINGLE_GPU_GIB * GIB
    nccl = 0.0 if version_tuple(version) >= NCCL_BEFORE_SNAPSHOT_FROM else NCCL_INIT_BYTES
    return NON_TORCH_MULTI_GPU_GIB * GIB + nccl


def cuda_graph_bytes_charged(version: str, cuda_graphs: bool) -> float:
    """The CUDA-graph estimate subtracted before KV sizing: from v0.21 only, and not with --enforce-eager.
    Earlier versions capture the graphs after sizing, out of the (1 - utilization) headroom."""
    if not cuda_graphs or version_tuple(version) < CUDA_GRAPH_CHARGED_FROM:
        return 0.0
    return CUDA_GRAPH_GIB * GIB


def block_tokens_for(model: ModelSpec, block_tokens: int | None) -> int:
    """The page size in tokens: the profile's, else vLLM's platform default (16; 64 for MLA, FlashMLA)."""
    if block_tokens is not None:
        return block_tokens
    return MLA_BLOCK_TOKENS if model.attention == "mla" else 16


@dataclass(frozen=True, slots=True)
class KvGroups:
    """The hybrid allocator's layout: ``group_layers`` layers share each block; ``full_groups`` and
    ``sliding_groups`` groups of them (padding layers included) draw from one pool."""

    group_layers: int
    full_groups: int
    sliding_groups: int

    @property
    def groups(self) -> int:
        return self.full_groups + self.sliding_groups


def kv_groups(full_layers: int, sliding_layers: int, version: str) -> KvGroups:
    """kv_cache_utils.py: one group when every layer is alike (all full, or all sliding); a mix before
    the hybrid allocator is one group of full attention (the window saves nothing); with it, group
    size = the smaller layer count (the larger if under 1.5x the smaller), each kind in cdiv(n, size)
    groups."""
    if not sliding_layers:
        return KvGroups(full_layers, 1, 0)
    if not full_layers:
        return KvGroups(sliding_layers, 0, 1)
    if version_tuple(version) < HYBRID_ALLOCATOR_FROM:
        return KvGroups(full_layers + sliding_layers, 1, 0)
    low, high = min(full_layers, sliding_layers), max(full_layers, sliding_layers)
    size = high if high < 1.5 * low else low
    return KvGroups(size, ceil(full_layers / size), ceil(sliding_layers / size))


@dataclass(frozen=True, slots=True)
class VllmReport:
    """What vLLM would log at start-up for this deployment (per GPU where it says bytes)."""

    version: str
    max_num_batched_tokens: int
    max_num_seqs: int
    block_tokens: int
    page_bytes: float  # one block of one layer
    groups: int  # KV cache groups (1 unless sliding-window layers get their own)
    group_layers: int
    cuda_graph_charged: float  # bytes taken from the KV budget for CUDA graphs (v0.21+)
    available_kv: float  # "Available KV cache memory", bytes
    num_blocks: int
    kv_cache_tokens: int  # "GPU KV cache size: N tokens"
    max_model_len: int
    max_concurrency: float  # "Maximum concurrency for max_model_len tokens per request: X.XXx"
    blocks_per_request: int

    @property
    def kv_cache_size_line(self) -> str:
        return f"GPU KV cache size: {self.kv_cache_tokens:,} tokens"

    @property
    def max_concurrency_line(self) -> str:
        length = f"{self.max_model_len:,}" if version_tuple(self.version) >= V1_FROM else str(self.max_model_len)
        return f"Maximum concurrency for {length} tokens per request: {self.max_concurrency:.2f}x"

    @property
    def available_kv_line(self) -> str:
        return f"Available KV cache memory: {self.available_kv / GIB:.2f} GiB"


def blocks_per_request(full_groups: int, sliding_groups: int, max_model_len: int, window: int | None,
                       batched_tokens: int, block: int) -> int:
    """Blocks one request may hold at max_model_len (kv_cache_interface.py ``max_memory_usage_bytes``):
    a full-attention group cdiv(L, block); a sliding group cdiv(min(window - 1 + batched tokens, L),
    block) + 1, the +1 for a window that does not start on a block boundary."""
    full = full_groups * ceil(max_model_len / block)
    if not sliding_groups or window is None:
        return full
    held = min(window - 1 + batched_tokens, max_model_len)
    return full + sliding_groups * (ceil(held / block) + 1)


def vllm_report(model: ModelSpec, *, available_kv: float, tensor: int, pipeline: int, max_model_len: int,
                batched_tokens: int, sequences: int, block_tokens: int, cuda_graph_charged: float,
                version: str) -> VllmReport:
    """The start-up KV lines from the available KV memory (kv_cache_utils.py, per version).

    num_blocks = available // page // layers per group (the busiest pipeline stage). Printed tokens:
    blocks * block size (to v0.9), blocks // groups * block size (to v0.19), int(concurrency *
    max_model_len) after. Concurrency: tokens / max_model_len (to v0.8), then blocks / blocks per request.
    """
    block = block_tokens
    page = block * kv_bytes_per_token_per_layer(model, tensor)
    full_layers = layers_per_gpu(model.full_attention_layers, pipeline)
    sliding_layers = layers_per_gpu(model.sliding_window_layers, pipeline)
    layout = kv_groups(full_layers, sliding_layers, version)
    num_blocks = max(0, int(available_kv // page // layout.group_layers)) if page > 0 else 0
    at = version_tuple(version)
    per_request = blocks_per_request(layout.full_groups, layout.sliding_groups, max_model_len, model.sliding_window,
                                     batched_tokens, block)
    if at < WINDOW_AWARE_CONCURRENCY_FROM:
        tokens = num_blocks * block
        concurrency = tokens / max_model_len
    else:
        concurrency = num_blocks / per_request
        if at >= CONCURRENCY_TOKEN_PRINT_FROM:
            tokens = int(concurrency * max_model_len)
        else:
            tokens = num_blocks // layout.groups * block
    return VllmReport(version=version, max_num_batched_tokens=batched_tokens, max_num_seqs=sequences,
                      block_tokens=block, page_bytes=page, groups=layout.groups, group_layers=layout.group_layers,
                      cuda_graph_charged=cuda_graph_charged, available_kv=available_kv, num_blocks=num_blocks,
                      kv_cache_tokens=tokens, max_model_len=max_model_len, max_concurrency=concurrency,
                      blocks_per_request=per_request)

