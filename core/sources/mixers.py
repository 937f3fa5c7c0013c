"""Token mixers: the parameters of one attention, Gated DeltaNet or Mamba-2 layer, and the recurrent state
a linear layer keeps per sequence.

Parameter shapes follow the HF transformers modelling files (qwen3_next/modular_qwen3_next.py
``Qwen3NextAttention`` and ``Qwen3NextGatedDeltaNet``, qwen3_5/modular_qwen3_5.py, gemma4/modeling_gemma4.py
``Gemma4TextAttention``) and vLLM's (vllm-project/vllm, vllm/model_executor/models/nemotron_h.py with
layers/mamba/mamba_mixer2.py, deepseek_v2.py ``Indexer``, minimax_m2.py). The state shapes and dtypes are
vLLM's (vllm/model_executor/layers/mamba/mamba_utils.py @02d71083: ``MambaStateShapeCalculator``,
``MambaStateDtypeCalculator``).
"""

from __future__ import annotations

from typing import Any

QK_NORM_FAMILY = ("qwen3", "qwen3_moe", "gemma3", "gemma3_text", "olmo2", "qwen3_next", "qwen3_5_text",
                  "qwen3_5_moe_text", "qwen3_vl_moe_text", "qwen3_vl_text", "gemma4_text")
QKV_BIAS_FAMILY = ("qwen2", "qwen2_moe", "mimo")  # q, k, v biases without an o bias (Qwen2 attention)
DTYPE_BYTES = {"float32": 4, "float": 4, "fp32": 4, "bfloat16": 2, "float16": 2, "half": 2, "bf16": 2, "fp16": 2}


def attention_parameters(c: dict[str, Any], heads: int, kv_heads: int, head_dim: int, *,
                         k_eq_v: bool = False) -> int:
    """One layer's attention: q, k, v, o projections (+ biases, q/k norms, output gate, gpt-oss sinks, DSA
    indexer), or MLA's low-rank projections. ``k_eq_v``: Gemma 4's full layers have no v projection."""
    hidden = c["hidden_size"]
    if c.get("kv_lora_rank"):
        rope, nope = c["qk_rope_head_dim"], c.get("qk_nope_head_dim") or head_dim
        v_dim, rank, q_rank = c.get("v_head_dim") or head_dim, c["kv_lora_rank"], c.get("q_lora_rank")
        per_head = heads * (nope + rope)
        query = (hidden * q_rank + q_rank + q_rank * per_head) if q_rank else hidden * per_head
        latent = hidden * (rank + rope) + rank + rank * heads * (nope + v_dim)
        return query + latent + heads * v_dim * hidden + indexer_parameters(c)
    query_width = heads * head_dim * (2 if c.get("attn_output_gate") else 1)  # Qwen3-Next/3.5: q and gate
    kv_width = kv_heads * head_dim
    projections = hidden * query_width + hidden * kv_width * (1 if k_eq_v else 2) + heads * head_dim * hidden
    model_type = c.get("model_type", "")
    if model_type in QKV_BIAS_FAMILY:
        projections += heads * head_dim + 2 * kv_width
    elif c.get("attention_bias"):
        projections += heads * head_dim + 2 * kv_width + hidden
    if model_type in QK_NORM_FAMILY:
        projections += 2 * head_dim
    elif c.get("use_qk_norm") and c.get("qk_norm_type") == "per_layer":  # MiniMax-M2: norms over all heads
        projections += (heads + kv_heads) * head_dim
    if model_type == "gpt_oss":
        projections += heads  # attention sinks, one per head
    return projections


def indexer_parameters(c: dict[str, Any]) -> int:
    """DeepSeek-V3.2 / GLM-5 sparse-attention indexer (vLLM deepseek_v2.py ``Indexer``): wq_b (q_lora_rank ->
    heads x dim), wk (hidden -> dim), a LayerNorm on k (weight and bias), weights_proj (hidden -> heads)."""
    heads, dim = c.get("index_n_heads"), c.get("index_head_dim")
    if not heads or not dim:
        return 0
    return c["q_lora_rank"] * heads * dim + c["hidden_size"] * dim + 2 * dim + c["hidden_size"] * heads


def gated_delta_net_parameters(c: dict[str, Any]) -> int:
    """One Gated DeltaNet layer (Qwen3-Next / Qwen3.5): the q/k/v and z input projections, b and a
    (one per value head each), a depthwise causal conv over q, k and v without bias, dt_bias and A_log
    per value head, a gated RMSNorm over a value head, and the output projection."""
    hidden = c["hidden_size"]
    key = c["linear_key_head_dim"] * c["linear_num_key_heads"]
    value_heads = c["linear_num_value_heads"]
    value = c["linear_value_head_dim"] * value_heads
    conv_channels = 2 * key + value
    return (hidden * conv_channels + hidden * value + 2 * hidden * value_heads
            + conv_channels * c["linear_conv_kernel_dim"] + 2 * value_heads + c["linear_value_head_dim"]
            + value * hidden)


def mamba2_inner(c: dict[str, Any]) -> int:
    """Mamba-2 inner width: mamba_num_heads x mamba_head_dim (vLLM nemotron_h.py ``intermediate_size``)."""
    return c["mamba_num_heads"] * c["mamba_head_dim"]


def mamba2_parameters(c: dict[str, Any]) -> int:
    """One Mamba-2 mixer (vLLM mamba_mixer2.py ``MambaMixer2``): in_proj to x, z, B, C and dt, a depthwise
    conv over x, B, C (+ bias when use_conv_bias), A_log, D and dt_bias per head, a gated RMSNorm over
    the inner width, and out_proj (+ biases when use_bias / mamba_proj_bias)."""
    hidden, inner, heads = c["hidden_size"], mamba2_inner(c), c["mamba_num_heads"]
    conv_channels = inner + 2 * c["n_groups"] * c["ssm_state_size"]
    biased = bool(c.get("use_bias") or c.get("mamba_proj_bias"))
    in_proj = hidden * (inner + conv_channels + heads) + ((inner + conv_channels + heads) if biased else 0)
    conv = conv_channels * c["conv_kernel"] + (conv_channels if c.get("use_conv_bias", True) else 0)
    return in_proj + conv + 3 * heads + inner + inner * hidden + (hidden if biased else 0)


def _state_dtype_bytes(c: dict[str, Any], keys: tuple[str, ...], default: int) -> int:
    for key in keys:
        if c.get(key):
            return DTYPE_BYTES.get(str(c[key]).lower(), default)
    return default


def model_dtype_bytes(c: dict[str, Any]) -> int:
    """The model dtype's bytes: vLLM keeps conv states in it (mamba_cache_dtype 'auto')."""
    return DTYPE_BYTES.get(str(c.get("torch_dtype") or c.get("dtype") or "bfloat16").lower(), 2)


def gated_delta_net_state_bytes(c: dict[str, Any]) -> int:
    """Per sequence, TP 1: conv state (kernel - 1) x (2 K + V) in the model dtype, and the delta-rule state
    value_heads x value_dim x key_dim in ``mamba_ssm_dtype`` (Qwen3.5 names float32; vLLM copies it into
    mamba_ssm_cache_dtype), else the model dtype (mamba_utils.py ``gated_delta_net_state_shape``/``_dtype``)."""
    key = c["linear_key_head_dim"] * c["linear_num_key_heads"]
    value = c["linear_value_head_dim"] * c["linear_num_value_heads"]
    conv_bytes = model_dtype_bytes(c)
    ssm_bytes = _state_dtype_bytes(c, ("mamba_ssm_dtype", "mamba_ssm_cache_dtype"), conv_bytes)
    conv = (c["linear_conv_kernel_dim"] - 1) * (2 * key + value) * conv_bytes
    return conv + c["linear_num_value_heads"] * c["linear_value_head_dim"] * c["linear_key_head_dim"] * ssm_bytes


def mamba2_state_bytes(c: dict[str, Any]) -> int:
    """Per sequence, TP 1: conv state (conv_kernel - 1) x (inner + 2 n_groups state_size) in the model
    dtype, and the SSM state heads x head_dim x state_size in ``mamba_ssm_cache_dtype``; vLLM's Nemotron-H
    default for that is float32 (vllm/model_executor/models/config.py ``NemotronHForCausalLMConfig``)."""
    conv_bytes = model_dtype_bytes(c)
    ssm_bytes = _state_dtype_bytes(c, ("mamba_ssm_cache_dtype", "mamba_ssm_dtype"), 4)
    conv = (c["conv_kernel"] - 1) * (mamba2_inner(c) + 2 * c["n_groups"] * c["ssm_state_size"]) * conv_bytes
    return conv + c["mamba_num_heads"] * c["mamba_head_dim"] * c["ssm_state_size"] * ssm_bytes


def state_dtype_text(c: dict[str, Any], mixer: str) -> str:
    """The dtypes named for a linear layer's state, for the import's note."""
    conv = str(c.get("torch_dtype") or c.get("dtype") or "bfloat16")
    if mixer == "linear":
        ssm = str(c.get("mamba_ssm_dtype") or c.get("mamba_ssm_cache_dtype") or conv)
    else:
        ssm = str(c.get("mamba_ssm_cache_dtype") or c.get("mamba_ssm_dtype") or "float32")
    return f"conv state {conv}, recurrent state {ssm}"
