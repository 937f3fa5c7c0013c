"""vLLM's KV-cache pool: pages, the hybrid allocator's groups, pipeline stages and the start-up report.

What vLLM will print as "GPU KV cache size" and "Maximum concurrency for N tokens per request", from
``vllm/v1/kv_cache_interface.py`` and ``vllm/v1/core/kv_cache_utils.py``: pages of ``block_size``
tokens per layer (MLA: one latent, not K and V), blocks = available // page // layers per group, the
hybrid allocator's groups for sliding-window layers, the printed token count and concurrency. With
pipeline parallelism each stage holds its own layers (the first the embedding, the last the head and
the sampler) and vLLM keeps the smallest block count over workers. The memory budget itself:
``engines/vllm.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import floor

from ..physics.memory import vocab_matrix_bytes
from ..records import record
from ..specs.specs import GIB, ModelSpec
from .vllm import (
    CONCURRENCY_TOKEN_PRINT_FROM,
    HYBRID_ALLOCATOR_FROM,
    MLA_BLOCK_TOKENS,
    V1_FROM,
    WINDOW_AWARE_CONCURRENCY_FROM,
    activation_peak_bytes,
    forward_activation_bytes,
    version_tuple,
)
from .vllm_hybrid import PoolLayout, StageLayers, blocks_per_request, group_counts, pool_layout


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
    the hybrid allocator is one group of full attention (the window saves nothing); with it, the groups
    of ``vllm_hybrid.group_counts``."""
    if not sliding_layers:
        return KvGroups(full_layers, 1, 0)
    if not full_layers:
        return KvGroups(sliding_layers, 0, 1)
    if version_tuple(version) < HYBRID_ALLOCATOR_FROM:
        return KvGroups(full_layers + sliding_layers, 1, 0)
    size, (full, sliding) = group_counts([full_layers, sliding_layers])
    return KvGroups(size, full, sliding)


@record  # built on every plan: quick to build, still frozen (core/records.py)
class PipelineStage:
    """One pipeline stage's share of the model: its decoder layers (by attention kind) and whether it
    holds the input embedding (first stage) or the output head, final norm and sampler (last stage)."""

    index: int
    full_layers: int
    sliding_layers: int
    first: bool
    last: bool
    state_layers: int = 0  # linear-attention / Mamba layers (a fixed state per sequence)
    other_layers: int = 0  # layers that keep neither (Nemotron-H's MLP and MoE blocks, NAS no-op attention)

    @property
    def layers(self) -> int:
        return self.full_layers + self.sliding_layers + self.state_layers + self.other_layers

    @property
    def kinds(self) -> StageLayers:
        return StageLayers(self.full_layers, self.sliding_layers, self.state_layers, self.other_layers)


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
    """The stages, with sliding-window, recurrent and other layers spread over them in proportion (they
    interleave), counted cumulatively so the stages add up to the model."""

    other = model.layers - model.kv_layer_count - model.state_layers
    if pipeline == 1:  # one stage holds every layer (what the shares below add up to)
        sliding, state = model.sliding_window_layers, model.state_layers
        return [PipelineStage(0, model.layers - sliding - state - other, sliding, True, True, state, other)]

    def share_of(count: int, start: int, layers: int) -> int:
        share = count / model.layers
        return floor((start + layers) * share + 0.5) - floor(start * share + 0.5)

    stages, start = [], 0
    for index, layers in enumerate(pipeline_layer_split(model.layers, pipeline)):
        sliding = share_of(model.sliding_window_layers, start, layers)
        state = share_of(model.state_layers, start, layers)
        rest = share_of(other, start, layers)
        stages.append(PipelineStage(index, layers - sliding - state - rest, sliding, index == 0,
                                    index == pipeline - 1, state, rest))
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


@record  # built on every plan; memory_stage reuses one across plans, so it must not change
class StageBudget:
    """The pipeline stage whose KV pool binds, with what its GPUs hold (bytes per GPU) and its pool's layout."""

    stage: PipelineStage
    weights: float
    activations: float
    available_kv: float
    layout: PoolLayout


def binding_stage(model: ModelSpec, *, usable: float, overhead: float, weights_per_rank: float, tensor: int,
                  pipeline: int, expert: int, batched_tokens: int, sequences: int, version: str, block_tokens: int,
                  sampler: str | None = None, activations: float | None = None,
                  kv_per_layer: tuple[float, float] | None = None) -> StageBudget:
    """Size the pool on every stage and keep the one with the fewest blocks: vLLM profiles each worker
    and gives every worker the smallest block count (``unify_kv_cache_configs``; V0: min over workers).

    ``weights_per_rank`` is the whole model on one tensor-parallel rank, as loaded (MXFP4 experts
    padded: ``loaded_expert_bytes``). ``activations`` pins the activation peak on every stage (a
    calibrated or typed figure). ``kv_per_layer``: as ``pool_layout`` takes it.
    """
    whole = weights_per_rank
    vocab = vocab_matrix_bytes(model) / tensor if pipeline > 1 else 0.0  # one stage holds the whole model
    best: tuple[int, StageBudget] | None = None
    for stage in pipeline_stages(model, pipeline):
        weights = stage_weight_bytes(stage, model, whole, vocab)
        peak = activations if activations is not None else stage_activation_bytes(
            stage, model, batched_tokens, sequences, tensor, expert, version, sampler)
        layout = pool_layout(model, stage.kinds, tensor, block_tokens, version, kv_per_layer)
        budget = StageBudget(stage, weights, peak, usable - weights - peak - overhead, layout)
        if pipeline == 1:
            return budget
        blocks = max(0, int(budget.available_kv // layout.page_bytes // layout.group_layers))
        if best is None or (blocks, budget.available_kv) < (best[0], best[1].available_kv):
            best = (blocks, budget)
    assert best is not None  # pipeline >= 1
    return best[1]


@record
class VllmReport:
    """What vLLM would log at start-up for this deployment (per GPU where it says bytes)."""

    version: str
    max_num_batched_tokens: int
    max_num_seqs: int
    block_tokens: int  # the attention block (grown to hold a recurrent state where a hybrid has one)
    page_bytes: float  # one block of one layer
    groups: int  # KV cache groups (1 unless sliding-window or state layers get their own)
    group_layers: int
    cuda_graph_charged: float  # bytes taken from the KV budget for CUDA graphs (v0.21+)
    available_kv: float  # "Available KV cache memory", bytes
    num_blocks: int
    kv_cache_tokens: int  # "GPU KV cache size: N tokens"
    max_model_len: int
    max_concurrency: float  # "Maximum concurrency for max_model_len tokens per request: X.XXx"
    blocks_per_request: int
    request_block_tokens: int  # the block the deployment asked for (the profile's, else the platform's)

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
                           sequences=self.max_num_seqs, block_tokens=self.request_block_tokens,
                           cuda_graph_charged=self.cuda_graph_charged, version=self.version)


def vllm_report(model: ModelSpec, *, available_kv: float, tensor: int, stage: PipelineStage, max_model_len: int,
                batched_tokens: int, sequences: int, block_tokens: int, cuda_graph_charged: float,
                version: str, layout: PoolLayout | None = None) -> VllmReport:
    """The start-up KV lines from one pipeline stage's available KV memory (kv_cache_utils.py, per version).

    num_blocks = available // page // layers per group (the stage whose pool binds). Printed tokens:
    blocks * block size (to v0.9), blocks // groups * block size (to v0.19), int(concurrency *
    max_model_len) after. Concurrency: tokens / max_model_len (to v0.8), then blocks / blocks per request.
    ``layout`` is the stage's ``pool_layout`` where the caller has it (``binding_stage`` gives it).
    """
    if layout is None:
        layout = pool_layout(model, stage.kinds, tensor, block_tokens, version)
    block, page = layout.block_tokens, layout.page_bytes
    num_blocks = max(0, int(available_kv // page // layout.group_layers)) if page > 0 else 0
    at = version_tuple(version)
    per_request = blocks_per_request(model, layout, max_model_len, batched_tokens, version)
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
                      blocks_per_request=per_request, request_block_tokens=block_tokens)

