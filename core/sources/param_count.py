"""Exact parameter counts from a HuggingFace config.json, total and active per token, broken down.

The architecture, not the name: embeddings (a tied lm_head counted once), attention (GQA/MHA/MQA
projections with their biases and q/k norms, or MLA's low-rank projections), the MLP (SwiGLU:
gate, up, down), MoE routers, routed and shared experts, and the RMSNorms. Multi-token-prediction
layers (DeepSeek's num_nextn_predict_layers) are not part of the served model and are left out.
docs/catalog-models.md compares the counts with the model makers' figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GEMMA_FAMILY = ("gemma2", "gemma3", "gemma3_text")
QK_NORM_FAMILY = ("qwen3", "qwen3_moe", "gemma3", "gemma3_text", "olmo2")
QKV_BIAS_FAMILY = ("qwen2", "qwen2_moe")  # q, k, v biases without an o bias


@dataclass(frozen=True)
class ParameterCount:
    """Parameters by part; ``total`` and ``active`` (used by one token) in plain counts."""

    embeddings: int
    lm_head: int
    attention: int
    dense_mlp: int
    routed_experts: int
    shared_experts: int
    routers: int
    norms: int
    active: int
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> int:
        return (self.embeddings + self.lm_head + self.attention + self.dense_mlp + self.routed_experts
                + self.shared_experts + self.routers + self.norms)


def attention_parameters(c: dict[str, Any], heads: int, kv_heads: int, head_dim: int) -> int:
    """One layer's attention: q, k, v, o projections (+ biases, q/k norms, gpt-oss sinks), or MLA."""
    hidden = c["hidden_size"]
    if c.get("kv_lora_rank"):
        rope, nope = c["qk_rope_head_dim"], c.get("qk_nope_head_dim") or head_dim
        v_dim, rank, q_rank = c.get("v_head_dim") or head_dim, c["kv_lora_rank"], c.get("q_lora_rank")
        per_head = nope + rope
        query = (hidden * q_rank + q_rank + q_rank * heads * per_head) if q_rank else hidden * heads * per_head
        latent = hidden * (rank + rope) + rank + rank * heads * (nope + v_dim)
        return query + latent + heads * v_dim * hidden
    projections = hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim + heads * head_dim * hidden
    model_type = c.get("model_type", "")
    if model_type in QKV_BIAS_FAMILY:
        projections += heads * head_dim + 2 * kv_heads * head_dim
    elif c.get("attention_bias"):
        projections += heads * head_dim + 2 * kv_heads * head_dim + hidden
    if model_type in QK_NORM_FAMILY:
        projections += 2 * head_dim
    if model_type == "gpt_oss":
        projections += heads  # attention sinks, one per head
    return projections


def gated_mlp_parameters(hidden: int, intermediate: int, bias: bool = False) -> int:
    """SwiGLU/GeGLU MLP: gate and up (hidden x intermediate each) and down (+ biases)."""
    return 3 * hidden * intermediate + ((2 * intermediate + hidden) if bias else 0)


def norms_per_layer(c: dict[str, Any]) -> int:
    """RMSNorm weights in one layer: 2 (before attention, before MLP); Gemma 2/3 have 4."""
    return (4 if c.get("model_type", "") in GEMMA_FAMILY else 2) * c["hidden_size"]


def moe_layer_indices(c: dict[str, Any], layers: int) -> set[int]:
    """Which layers are MoE, as the HF modelling code decides.

    Qwen2/3-MoE: (i + 1) % decoder_sparse_step == 0 and i not in mlp_only_layers. DeepSeek-V3/Kimi:
    i >= first_k_dense_replace and i % moe_layer_freq == 0. Mixtral, gpt-oss: every layer.
    """
    if c.get("decoder_sparse_step"):
        dense_only = set(c.get("mlp_only_layers") or [])
        return {i for i in range(layers) if (i + 1) % c["decoder_sparse_step"] == 0 and i not in dense_only}
    first_dense, frequency = c.get("first_k_dense_replace") or 0, c.get("moe_layer_freq") or 1
    return {i for i in range(layers) if i >= first_dense and i % frequency == 0}


def count_parameters(c: dict[str, Any], heads: int, kv_heads: int, head_dim: int, experts: int,
                     experts_per_token: int, tied: bool) -> ParameterCount:
    """Every parameter of the decoder, by part, and the active count for one token."""
    hidden, layers, vocab = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    embeddings = vocab * hidden
    lm_head = 0 if tied else vocab * hidden
    attention = layers * attention_parameters(c, heads, kv_heads, head_dim)
    norms = layers * norms_per_layer(c) + hidden  # MLA's latent norms are in attention_parameters
    dense_mlp = routed = shared = routers = 0
    active_experts = 0
    moe_layers = moe_layer_indices(c, layers) if experts else set()
    expert_width = int(c.get("moe_intermediate_size") or c.get("intermediate_size") or 0)
    expert_bias = c.get("model_type") == "gpt_oss"
    one_expert = gated_mlp_parameters(hidden, expert_width, expert_bias) if experts else 0
    shared_width = (c.get("n_shared_experts") or 0) * (c.get("moe_intermediate_size") or 0) \
        or (c.get("shared_expert_intermediate_size") or 0)
    for index in range(layers):
        if index in moe_layers:
            routed += experts * one_expert
            active_experts += experts_per_token * one_expert
            routers += hidden * experts + (experts if expert_bias or c.get("topk_method") == "noaux_tc" else 0)
            if shared_width:
                shared += gated_mlp_parameters(hidden, shared_width)
                if c.get("shared_expert_intermediate_size"):
                    routers += hidden  # Qwen's shared-expert gate
        else:
            dense_mlp += gated_mlp_parameters(hidden, c["intermediate_size"], bool(c.get("mlp_bias")))
    notes: list[str] = []
    if c.get("num_nextn_predict_layers"):
        notes.append(f"{c['num_nextn_predict_layers']} multi-token-prediction layer(s) not counted")
    count = ParameterCount(embeddings=embeddings, lm_head=lm_head, attention=attention, dense_mlp=dense_mlp,
                           routed_experts=routed, shared_experts=shared, routers=routers, norms=norms, active=0,
                           notes=tuple(notes))
    active = count.total - routed + active_experts
    return ParameterCount(**{**count.__dict__, "active": active})
