"""Memory per GPU: usable pool, weights, activations, overhead, and KV cache bytes per token.

Every formula here is from docs/design/physics.md, "Memory per GPU" and "KV cache bytes per
token". All results are bytes for the busiest GPU of a replica.
"""

from __future__ import annotations

from math import ceil

from ..specs.precisions import bytes_per_value
from ..specs.specs import GIB, ModelSpec

# Empirical anchors (physics.md, "Anchors for the defaults"): vLLM's profiled activation peak on
# H100 is about 4.8-5.6 GiB for dense models and about 8 GiB for MoE models of hidden size ~8192,
# roughly independent of context length and of TP (vLLM PR #10511 logs 1.26 GiB for Llama-3-8B,
# hidden 4096, at both TP=1 and TP=2). We take the midpoints and scale linearly with hidden size,
# which over-estimates small models (2.6 GiB vs the 1.26 GiB logged): conservative on purpose.
DENSE_ACTIVATION_ANCHOR_GIB = 5.2
MOE_ACTIVATION_ANCHOR_GIB = 8.0
ACTIVATION_ANCHOR_HIDDEN = 8192
ACTIVATION_FLOOR_GIB = 0.5
# Non-torch memory (CUDA context, allocator) about 0.15 GiB at TP=1, 0.6 GiB at TP>=2; NCCL
# buffers about 0.35-0.4 GB at TP 2-8 (physics.md).
OVERHEAD_SINGLE_GPU_GIB = 0.15
OVERHEAD_MULTI_GPU_NON_TORCH_GIB = 0.6
OVERHEAD_NCCL_BYTES = 0.4e9
FP8_DS_MLA_BYTES = 656  # vLLM kv_cache_interface.py MLAAttentionSpec, cache dtype "fp8_ds_mla" (DeepSeek-V3.2)
UNQUANTIZED_BYTES = 2.0  # bf16/fp16: what quantized checkpoints keep their embeddings and output head in


def usable_bytes(memory_gib: float, gpu_memory_utilization: float) -> float:
    """Bytes the engine may use on one GPU: memory_gib * 2^30 * utilization (physics.md)."""
    return memory_gib * GIB * gpu_memory_utilization


def expert_params_split(model: ModelSpec) -> tuple[float, float]:
    """(dense, routed-expert) parameter counts.

    Uses ``expert_params_b`` when the model states it. Otherwise, for MoE, solves
    active = dense + experts * k/E and total = dense + experts (uniform routing); for a dense
    model everything is dense.
    """
    if not model.is_moe:
        return model.params, 0.0
    if model.expert_params_b is not None:
        experts = model.expert_params_b * 1e9
        return model.params - experts, experts
    share = model.experts_per_token / model.experts
    if share >= 1.0:
        return model.params, 0.0
    experts = max(0.0, (model.params - model.active_params) / (1.0 - share))
    experts = min(experts, model.params)
    return model.params - experts, experts


def weight_bytes_per_parameter(model: ModelSpec) -> float:
    """Bytes per parameter: the checkpoint's exact size over its parameters when imported from
    safetensors headers (scales, mixed precisions and all), else the precision's bytes per value."""
    if model.uses_checkpoint_bytes and model.checkpoint_gib is not None:
        return model.checkpoint_gib * GIB / model.params
    return bytes_per_value(model.weight_dtype)


def weight_bytes_per_gpu(model: ModelSpec, tensor: int, pipeline: int, data: int, expert: int,
                         held: bool = True) -> tuple[float, float]:
    """(dense, expert) weight bytes held by one GPU; ``held=False`` leaves out the vision tower and MTP
    layers (``held_extra_bytes``), which a text decode step does not read.

    physics.md: weights = (dense / (tp * pp) + experts / (ep * pp)) * weight_bytes, where the
    experts' divisor is max(ep, tp): without expert parallelism vLLM tensor-shards every expert.
    Without a stated expert split (MoE with no ``expert_params_b``) all weights divide evenly over
    the replica's GPUs, as the Kimi seed assumes. Parameters a quantized checkpoint keeps at 16 bits
    (``unquantized_params_b``) are dense and count 2 bytes each.
    """
    dense_held, dense_read, experts = weight_bytes_held_and_read_per_gpu(model, tensor, pipeline, data, expert)
    return (dense_held if held else dense_read), experts


def weight_bytes_held_and_read_per_gpu(model: ModelSpec, tensor: int, pipeline: int, data: int,
                                       expert: int) -> tuple[float, float, float]:
    """(dense held, dense read, expert) bytes on one GPU: ``weight_bytes_per_gpu`` with and without the
    held extras, in one pass."""
    weight_bytes = weight_bytes_per_parameter(model)
    dense, experts = expert_params_split(model)
    read_bytes = dense * weight_bytes + unquantized_extra_bytes(model)
    held_bytes = read_bytes + held_extra_bytes(model)
    if model.is_moe and model.expert_params_b is None:
        gpus = tensor * pipeline * data
        return held_bytes / gpus, read_bytes / gpus, experts * weight_bytes / gpus
    return (held_bytes / (tensor * pipeline), read_bytes / (tensor * pipeline),
            experts * weight_bytes / (max(expert, tensor) * pipeline))


def held_extra_bytes(model: ModelSpec) -> float:
    """Weights held beside the planned language model: the vision tower (vLLM loads it unless run with
    --language-model-only; quantized checkpoints keep it at 16 bits) and the MTP layers when
    ``mtp_on_gpu`` (vLLM loads them only for MTP speculative decoding), at the weights' bytes. An exact
    checkpoint size already holds both."""
    if model.uses_checkpoint_bytes or not (model.vision_params_b or (model.mtp_on_gpu and model.mtp_params_b)):
        return 0.0
    vision_bytes = max(UNQUANTIZED_BYTES, bytes_per_value(model.weight_dtype))
    mtp = (model.mtp_params_b or 0.0) * 1e9 * weight_bytes_per_parameter(model) if model.mtp_on_gpu else 0.0
    return (model.vision_params_b or 0.0) * 1e9 * vision_bytes + mtp


def sixteen_bit_params(model: ModelSpec) -> float:
    """Parameters held at 16 bits beside quantized weights: ``unquantized_params_b`` when the model states
    it, else the input embedding and the output head (vocab x hidden each). Engines quantize the linear
    layers only: vLLM's fp8 method leaves ``VocabParallelEmbedding`` and ``ParallelLMHead`` in the model
    dtype (vllm-project/vllm PR #41000 adds an opt-in fp8 head because the default keeps it bf16), as do
    the published fp8 checkpoints (``ignore: [lm_head]``). Tied embeddings are counted twice here."""
    if model.unquantized_params_b is not None:
        return model.unquantized_params_b * 1e9
    return 2.0 * (model.vocab_size or 0) * model.hidden_size


def keeps_16_bit_params(model: ModelSpec) -> bool:
    """Whether some parameters sit at 16 bits beside lower-precision weights (``sixteen_bit_params``).
    Not for 16-bit weights, nor for an exact checkpoint size, which already counts them."""
    return (not model.uses_checkpoint_bytes and bytes_per_value(model.weight_dtype) < UNQUANTIZED_BYTES
            and sixteen_bit_params(model) > 0)


def unquantized_extra_bytes(model: ModelSpec) -> float:
    """What the parameters a quantized model keeps at 16 bits (embeddings, output head, and for gpt-oss
    attention and routers too) add over holding them at ``weight_dtype``."""
    per_value = bytes_per_value(model.weight_dtype)
    if model.uses_checkpoint_bytes or per_value >= UNQUANTIZED_BYTES:  # keeps_16_bit_params, its parameters once
        return 0.0
    params = sixteen_bit_params(model)
    return params * (UNQUANTIZED_BYTES - per_value) if params > 0 else 0.0


def vocab_matrix_bytes(model: ModelSpec) -> float:
    """One vocabulary x hidden matrix (the input embedding, or an untied output head) at the bytes it is
    held in: 16 bits in a quantized checkpoint that keeps them so."""
    if not model.vocab_size:
        return 0.0
    per_value = UNQUANTIZED_BYTES if keeps_16_bit_params(model) else weight_bytes_per_parameter(model)
    return model.vocab_size * model.hidden_size * per_value


def default_activation_bytes(model: ModelSpec) -> float:
    """Empirical activation peak per GPU: the physics.md anchor scaled by hidden size (see above)."""
    anchor = MOE_ACTIVATION_ANCHOR_GIB if model.is_moe else DENSE_ACTIVATION_ANCHOR_GIB
    return max(ACTIVATION_FLOOR_GIB, anchor * model.hidden_size / ACTIVATION_ANCHOR_HIDDEN) * GIB


def default_overhead_bytes(gpus_per_replica: int) -> float:
    """Non-torch memory plus NCCL buffers per GPU (physics.md anchors)."""
    if gpus_per_replica == 1:
        return OVERHEAD_SINGLE_GPU_GIB * GIB
    return OVERHEAD_MULTI_GPU_NON_TORCH_GIB * GIB + OVERHEAD_NCCL_BYTES


def kv_budget_bytes(usable: float, weights: float, activations: float, overhead: float) -> float:
    """usable - weights - activations - overhead; negative means the model does not fit (physics.md)."""
    return usable - weights - activations - overhead


def kv_heads_per_gpu(kv_heads: int, tensor: int) -> int:
    """KV heads one TP rank holds: kv_heads / tp, at least 1 (vLLM replicates when fewer than tp)."""
    return max(1, ceil(kv_heads / tensor))


def indexer_bytes_per_token(model: ModelSpec) -> float:
    """Sparse-attention indexer key cache per token per layer (DeepSeek-V3.2, GLM-5): index_head_dim fp8
    values plus one fp32 scale per 128, whatever the KV dtype (vllm-project/vllm,
    vllm/model_executor/models/deepseek_v2.py ``Indexer``: head_dim + head_dim // 128 * 4 bytes)."""
    dim = model.indexer_head_dim
    return float(dim + dim // 128 * 4) if dim else 0.0


def kv_bytes_per_token_per_layer(model: ModelSpec, tensor: int) -> float:
    """KV bytes one layer stores per token on one GPU (physics.md, "KV cache bytes per token"), for the
    layers that use the model's own KV layout (every layer, or the local ones when full layers differ).

    GQA/MHA/MQA: kv_heads_per_gpu * (head_dim + v head dim) * kv_bytes, i.e. 2 * heads * head_dim when K
    and V are alike (vLLM FullAttentionSpec: head_size + head_size_v). MLA: (kv_lora_rank +
    qk_rope_head_dim) * kv_bytes, no factor 2 and not divided by TP: every rank holds the whole latent;
    with an fp8 cache and a DSA indexer vLLM stores 656 bytes ("fp8_ds_mla", kv_cache_interface.py
    ``MLAAttentionSpec``). Plus the indexer's key cache where there is one.
    """
    kv_bytes = bytes_per_value(model.kv_dtype)
    if model.attention == "mla":
        if model.indexer_head_dim and kv_bytes == 1:
            return FP8_DS_MLA_BYTES + indexer_bytes_per_token(model)
        return sum(model.mla_dims) * kv_bytes + indexer_bytes_per_token(model)
    head = model.head_dim_or_default
    value = model.v_head_dim or head
    return kv_heads_per_gpu(model.kv_heads_or_default, tensor) * (head + value) * kv_bytes


def full_kv_bytes_per_token_per_layer(model: ModelSpec, tensor: int) -> float:
    """KV bytes per token of one full-attention layer: their own heads and head size where the model
    states them (Gemma 4's global layers: 4 KV heads of 512; vLLM stores V even where K = V)."""
    return kv_bytes_per_token_per_layer_by_kind(model, tensor)[0]


def kv_bytes_per_token_per_layer_by_kind(model: ModelSpec, tensor: int) -> tuple[float, float]:
    """(``full_kv_bytes_per_token_per_layer``, ``kv_bytes_per_token_per_layer``) in one pass: the two are
    the same unless the full-attention layers have heads of their own."""
    local = kv_bytes_per_token_per_layer(model, tensor)
    if model.attention == "mla" or (model.global_kv_heads is None and model.global_head_dim is None):
        return local, local
    heads = kv_heads_per_gpu(model.global_kv_heads_or_default, tensor)
    return 2 * heads * model.global_head_dim_or_default * bytes_per_value(model.kv_dtype), local


def state_bytes_per_sequence(model: ModelSpec, tensor: int, pipeline: int) -> float:
    """Recurrent state one sequence holds on one GPU of the busiest stage: its linear-attention / Mamba
    layers' state, split over TP ranks as vLLM splits heads and conv channels (mamba_utils.py)."""
    return layers_per_gpu(model.state_layers, pipeline) * model.state_bytes_per_layer / tensor


def layers_per_gpu(layers: int, pipeline: int) -> int:
    """Layers on the busiest pipeline stage."""
    return ceil(layers / pipeline) if layers else 0


def kv_bytes_per_token_split(model: ModelSpec, tensor: int, pipeline: int,
                             per_layer: tuple[float, float] | None = None) -> tuple[float, float]:
    """(full-attention, sliding-window) KV bytes per token on one GPU: only the layers that keep a KV
    cache count (a hybrid's linear-attention and Mamba layers keep a fixed state instead). ``per_layer`` is
    ``kv_bytes_per_token_per_layer_by_kind(model, tensor)`` where the caller has it."""
    full_layer, local_layer = per_layer or kv_bytes_per_token_per_layer_by_kind(model, tensor)
    sliding_layers = model.sliding_window_layers
    full = layers_per_gpu(model.kv_layer_count - sliding_layers, pipeline) * full_layer
    return full, layers_per_gpu(sliding_layers, pipeline) * local_layer


def paged_tokens(context_tokens: float, block_tokens: int) -> int:
    """Tokens a sequence occupies under paged attention: whole blocks (physics.md, "Capacity")."""
    return ceil(context_tokens / block_tokens) * block_tokens


def sequence_kv_bytes(full_per_token: float, sliding_per_token: float, context_tokens: float,
                      window_tokens: int | None, block_tokens: int) -> float:
    """KV bytes one sequence holds on one GPU: sliding layers keep only min(context, window) tokens."""
    held_by_sliding = context_tokens if window_tokens is None else min(context_tokens, window_tokens)
    return (full_per_token * paged_tokens(context_tokens, block_tokens)
            + sliding_per_token * paged_tokens(held_by_sliding, block_tokens))


def sequence_kv_bytes_read(full_per_token: float, sliding_per_token: float, context_tokens: float,
                           window_tokens: int | None) -> float:
    """KV bytes one decode step reads for one sequence at this context (window-aware, unpaged)."""
    held_by_sliding = context_tokens if window_tokens is None else min(context_tokens, window_tokens)
    return full_per_token * context_tokens + sliding_per_token * held_by_sliding
