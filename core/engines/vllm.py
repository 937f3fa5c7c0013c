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

Sizes are bytes per GPU. With pipeline parallelism each stage holds its own layers (the first the
embedding, the last the head and the sampler) and vLLM keeps the smallest block count over workers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from math import ceil, floor, log2

from napkinmath.core.physics.memory import kv_bytes_per_token_per_layer, vocab_matrix_bytes
from napkinmath.core.specs.specs import GIB, ModelSpec

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


@lru_cache(maxsize=64)
def version_tuple(version: str) -> tuple[int, int]:
    """"0.11.2" -> (0, 11). The profile validates the text against ``VERSION_PATTERN``."""
    match = re.match(r"^(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else version_tuple(DEFAULT_VLLM_VERSION)


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
    low = max(s for s in sizes if s <= size)
    high = min(s for s in sizes if s >= size)
    if low == high:
        return NON_TORCH_NVLINK_GIB[low]
    share = (log2(size) - log2(low)) / (log2(high) - log2(low))
    return NON_TORCH_NVLINK_GIB[low] + share * (NON_TORCH_NVLINK_GIB[high] - NON_TORCH_NVLINK_GIB[low])


def non_torch_bytes(gpus_per_replica: int, tensor: int, version: str, interconnect: str = "") -> float:
    """Non-torch memory charged to the KV budget (see the constants). ``interconnect`` is the GPU's
    (catalog text): PCIe-only parts get no custom all-reduce and few NCCL channels."""
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


def block_tokens_for(model: ModelSpec, block_tokens: int | None, gpu_name: str = "", architecture: str = "") -> int:
    """The page size in tokens: the profile's, else vLLM's platform default (platforms/cuda.py): 16,
    but 64 for MLA where FlashMLA runs (Hopper and data-centre Blackwell, sm90/sm100), which forces
    it. Elsewhere (Ampere, Ada, consumer Blackwell) MLA runs on Triton MLA with 16-token blocks, as the
    DeepSeek-V2-Lite log on L4s shows (807,792 tokens, a multiple of 16, not of 64)."""
    if block_tokens is not None:
        return block_tokens
    flash_mla = architecture == "hopper" or (architecture == "blackwell" and not re.search(r"rtx|geforce", gpu_name,
                                                                                          re.IGNORECASE))
    return MLA_BLOCK_TOKENS if model.attention == "mla" and flash_mla else 16


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


def blocks_that_fit(available_kv: float, page_bytes: float, layout: KvGroups) -> int:
    """kv_cache_utils.py: available // page // layers per group, never negative."""
    return max(0, int(available_kv // page_bytes // layout.group_layers)) if page_bytes > 0 else 0


@dataclass(frozen=True, slots=True)
class PipelineStage:
    """One pipeline stage's share of the model: its decoder layers (by attention kind) and whether it
    holds the input embedding (first stage) or the output head, final norm and sampler (last stage)."""

    index: int
    full_layers: int
    sliding_layers: int
    first: bool
    last: bool

    @property
    def layers(self) -> int:
        return self.full_layers + self.sliding_layers


def pipeline_layer_split(layers: int, pipeline: int) -> list[int]:
    """vLLM's split (vllm/distributed/utils.py ``get_pp_indices``, without VLLM_PP_LAYER_PARTITION):
    layers // pp per stage, the remainder one apiece counting back from the second-to-last stage, so
    the last stage (head and sampler) never gets an extra layer: 27 over 2 -> [14, 13]."""
    share, extra = divmod(layers, pipeline)
    split = [share] * pipeline
    for back in range(2, extra + 2):
        split[-back] += 1
    return split


def pipeline_stages(model: ModelSpec, pipeline: int) -> list[PipelineStage]:
    """The stages, with sliding-window layers spread over them in proportion (they interleave), counted
    cumulatively so the stages add up to the model."""
    share = model.sliding_window_layers / model.layers
    stages, start = [], 0
    for index, layers in enumerate(pipeline_layer_split(model.layers, pipeline)):
        sliding = floor((start + layers) * share + 0.5) - floor(start * share + 0.5)
        stages.append(PipelineStage(index, layers - sliding, sliding, index == 0, index == pipeline - 1))
        start += layers
    return stages


def stage_weight_bytes(stage: PipelineStage, model: ModelSpec, weights_per_rank: float, vocab_bytes: float) -> float:
    """One rank's weights on a stage: its share of the decoder layers plus the embedding (first stage)
    and the output head (last stage). ``weights_per_rank`` is the whole model on one tensor-parallel
    rank; ``vocab_bytes`` one vocabulary x hidden matrix on it. With one stage this is the whole model."""
    if stage.first and stage.last:
        return weights_per_rank
    layer_bytes = max(0.0, weights_per_rank - 2 * vocab_bytes)
    return layer_bytes * stage.layers / model.layers + vocab_bytes * (stage.first + stage.last)


def stage_activation_bytes(stage: PipelineStage, model: ModelSpec, batched_tokens: int, sequences: int, tensor: int,
                           expert: int, version: str, sampler: str | None = None) -> float:
    """The profile run on a stage: every stage runs the forward pass over its layers; only the last
    samples (gpu_model_runner.py: ``_dummy_sampler_run`` when ``get_pp_group().is_last_rank``)."""
    if stage.last:
        return activation_peak_bytes(model, batched_tokens, sequences, tensor, expert, version, sampler)
    return forward_activation_bytes(model, batched_tokens, tensor, expert)


@dataclass(frozen=True, slots=True)
class StageBudget:
    """The pipeline stage whose KV pool binds, with what its GPUs hold (bytes per GPU)."""

    stage: PipelineStage
    weights: float
    activations: float
    available_kv: float


def binding_stage(model: ModelSpec, *, usable: float, overhead: float, weights_per_rank: float, tensor: int,
                  pipeline: int, expert: int, batched_tokens: int, sequences: int, version: str, block_tokens: int,
                  sampler: str | None = None, activations: float | None = None) -> StageBudget:
    """Size the pool on every stage and keep the one with the fewest blocks: vLLM profiles each worker
    and gives every worker the smallest block count (``unify_kv_cache_configs``; V0: min over workers).

    ``weights_per_rank`` is the whole model on one tensor-parallel rank, as loaded (MXFP4 experts
    padded: ``loaded_expert_bytes``). ``activations`` pins the activation peak on every stage (a
    calibrated or typed figure).
    """
    whole = weights_per_rank
    vocab = vocab_matrix_bytes(model) / tensor
    page = block_tokens * kv_bytes_per_token_per_layer(model, tensor)
    best: tuple[int, StageBudget] | None = None
    for stage in pipeline_stages(model, pipeline):
        weights = stage_weight_bytes(stage, model, whole, vocab)
        peak = activations if activations is not None else stage_activation_bytes(
            stage, model, batched_tokens, sequences, tensor, expert, version, sampler)
        budget = StageBudget(stage, weights, peak, usable - weights - peak - overhead)
        blocks = blocks_that_fit(budget.available_kv, page, kv_groups(stage.full_layers, stage.sliding_layers, version))
        if best is None or (blocks, budget.available_kv) < (best[0], best[1].available_kv):
            best = (blocks, budget)
    assert best is not None  # pipeline >= 1
    return best[1]


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

    def with_available(self, model: ModelSpec, tensor: int, stage: PipelineStage, available_kv: float) -> VllmReport:
        """The same deployment's lines for another available KV memory (a logged one, say)."""
        return vllm_report(model, available_kv=available_kv, tensor=tensor, stage=stage,
                           max_model_len=self.max_model_len, batched_tokens=self.max_num_batched_tokens,
                           sequences=self.max_num_seqs, block_tokens=self.block_tokens,
                           cuda_graph_charged=self.cuda_graph_charged, version=self.version)


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


def vllm_report(model: ModelSpec, *, available_kv: float, tensor: int, stage: PipelineStage, max_model_len: int,
                batched_tokens: int, sequences: int, block_tokens: int, cuda_graph_charged: float,
                version: str) -> VllmReport:
    """The start-up KV lines from one pipeline stage's available KV memory (kv_cache_utils.py, per version).

    num_blocks = available // page // layers per group (the stage whose pool binds). Printed tokens:
    blocks * block size (to v0.9), blocks // groups * block size (to v0.19), int(concurrency *
    max_model_len) after. Concurrency: tokens / max_model_len (to v0.8), then blocks / blocks per request.
    """
    block = block_tokens
    page = block * kv_bytes_per_token_per_layer(model, tensor)
    layout = kv_groups(stage.full_layers, stage.sliding_layers, version)
    num_blocks = blocks_that_fit(available_kv, page, layout)
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

