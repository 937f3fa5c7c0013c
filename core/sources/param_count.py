"""Exact parameter counts from a HuggingFace config.json, total and active per token, broken down.

The architecture, not the name: per layer (``layer_plan.layer_plan``) its token mixer (attention with
its biases and norms, MLA, Gated DeltaNet, Mamba-2; ``mixers.py``) and its feed-forward block (SwiGLU or
ReLU² MLP, MoE routers, routed and shared experts, latent projections), plus the embeddings (a tied
lm_head counted once) and the RMSNorms. Multi-token-prediction layers and a vision tower are counted on
their own lines (``extras.py``), never in ``total`` or ``active``. docs/catalog-models.md and
docs/importing-models.md compare the counts with the model makers' figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .layer_plan import Layer
from .mixers import attention_parameters, gated_delta_net_parameters, mamba2_parameters

GEMMA_FAMILY = ("gemma2", "gemma3", "gemma3_text", "gemma4_text")
ONE_NORM_FAMILY = ("nemotron_h",)  # one RMSNorm per block (vLLM nemotron_h.py decoder layers)


@dataclass(frozen=True)
class ParameterCount:
    """Parameters by part; ``total`` and ``active`` (used by one token) in plain counts. ``mtp`` and
    ``vision`` are held beside the model and are in neither."""

    embeddings: int
    lm_head: int
    attention: int
    dense_mlp: int
    routed_experts: int
    shared_experts: int
    routers: int
    norms: int
    active: int
    linear_mixers: int = 0  # Gated DeltaNet / Mamba-2 layers
    mtp: int = 0
    vision: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> int:
        return (self.embeddings + self.lm_head + self.attention + self.linear_mixers + self.dense_mlp
                + self.routed_experts + self.shared_experts + self.routers + self.norms)


def gated_mlp_parameters(hidden: int, intermediate: int, bias: bool = False) -> int:
    """SwiGLU/GeGLU MLP: gate and up (hidden x intermediate each) and down (+ biases)."""
    return 3 * hidden * intermediate + ((2 * intermediate + hidden) if bias else 0)


def mlp_parameters(c: dict[str, Any], hidden: int, intermediate: int, bias: bool = False) -> int:
    """A gated MLP, or Nemotron-H's ReLU² MLP: up and down only (vLLM nemotron_h.py ``NemotronHMLP``)."""
    if str(c.get("mlp_hidden_act", "")) == "relu2":
        return 2 * hidden * intermediate + ((intermediate + hidden) if bias else 0)
    return gated_mlp_parameters(hidden, intermediate, bias)


def norms_per_layer(c: dict[str, Any], layer: Layer) -> int:
    """RMSNorm weights in one layer: 2 (before attention, before MLP); Gemma 2/3/4 have 4 (+3 with
    Gemma 4's MoE block); Nemotron-H blocks 1; a DeciLM block one per sublayer it keeps."""
    hidden, family = c["hidden_size"], c.get("model_type", "")
    if family in ONE_NORM_FAMILY:
        return hidden
    if c.get("block_configs") and isinstance(c["block_configs"], list):
        return hidden * ((layer.mixer != "none") + (layer.ffn != "none"))
    if family in GEMMA_FAMILY:
        return hidden * (4 + (3 if c.get("enable_moe_block") else 0))
    return 2 * hidden


def experts_of(c: dict[str, Any]) -> tuple[int, int]:
    """(routed experts, experts per token) under every dialect: num_local_experts / n_routed_experts /
    num_experts; num_experts_per_tok / experts_per_token / top_k_experts. (0, 0) for a dense model."""
    experts = c.get("num_local_experts") or c.get("n_routed_experts") or c.get("num_experts") or 0
    if not experts or (c.get("model_type") == "gemma4_text" and not c.get("enable_moe_block")):
        return 0, 0
    per_token = c.get("num_experts_per_tok") or c.get("experts_per_token") or c.get("top_k_experts") or 0
    return experts, per_token


def expert_width(c: dict[str, Any]) -> int:
    return c.get("moe_intermediate_size") or c.get("expert_intermediate_size") or c["intermediate_size"]


def shared_expert_width(c: dict[str, Any]) -> int:
    """All shared experts of a layer as one MLP's width: Llama 4's one shared expert of intermediate_size;
    n_shared_experts x (moe_shared_expert_intermediate_size | share_expert_dim | moe_intermediate_size);
    Qwen's shared_expert_intermediate_size; MiniMax's shared_intermediate_size."""
    if c.get("model_type") in ("llama4_text", "llama4"):
        return c["intermediate_size"]
    count = c.get("n_shared_experts") or 0
    per = (c.get("moe_shared_expert_intermediate_size") or c.get("share_expert_dim")
           or c.get("moe_intermediate_size") or 0)
    return count * per or c.get("shared_expert_intermediate_size") or c.get("shared_intermediate_size") or 0


def router_parameters(c: dict[str, Any], experts: int) -> int:
    """The router (hidden x experts) and its score-correction bias where the family has one: gpt-oss,
    DeepSeek's noaux_tc, MiniMax (use_routing_bias), Step (use_moe_router_bias), Nemotron-H; Gemma 4's
    router adds a scale per hidden unit and per expert; Qwen's shared-expert gate is one more row."""
    hidden = c["hidden_size"]
    biased = (c.get("model_type") in ("gpt_oss", "nemotron_h") or c.get("topk_method") == "noaux_tc"
              or c.get("use_routing_bias") or c.get("use_moe_router_bias"))
    gemma = hidden + experts if c.get("model_type") == "gemma4_text" else 0
    shared_gate = hidden if c.get("shared_expert_intermediate_size") else 0
    return hidden * experts + (experts if biased else 0) + gemma + shared_gate


@dataclass
class _Sums:
    attention: int = 0
    linear: int = 0
    dense: int = 0
    routed: int = 0
    shared: int = 0
    routers: int = 0
    norms: int = 0
    active_experts: int = 0


def _attention(c: dict[str, Any], layer: Layer, heads: int, kv_heads: int, head_dim: int) -> int:
    if layer.mixer == "linear":
        return gated_delta_net_parameters(c)
    if layer.mixer == "mamba":
        return mamba2_parameters(c)
    if layer.mixer == "none":
        return 0
    if c.get("model_type") == "gemma4_text" and not layer.local:
        return attention_parameters(c, heads, c.get("num_global_key_value_heads") or kv_heads,
                                    c.get("global_head_dim") or head_dim, k_eq_v=bool(c.get("attention_k_eq_v")))
    return attention_parameters(c, heads, layer.kv_heads or kv_heads, head_dim)


def _ffn(c: dict[str, Any], layer: Layer, sums: _Sums, experts: int, per_token: int) -> None:
    hidden = c["hidden_size"]
    if layer.ffn == "dense" or (layer.ffn == "moe" and c.get("enable_moe_block")):  # Gemma 4 keeps its MLP
        dense_width: int = layer.ffn_width or c.get("intermediate_size_mlp") or c["intermediate_size"]
        sums.dense += mlp_parameters(c, hidden, dense_width, bool(c.get("mlp_bias")))
    if layer.ffn != "moe":
        return
    latent = c.get("moe_latent_size")
    width = latent or hidden  # Nemotron 3 Super: experts work in a latent space (fc1/fc2_latent_proj)
    one = mlp_parameters(c, width, expert_width(c), c.get("model_type") == "gpt_oss")
    sums.routed += experts * one
    sums.active_experts += per_token * one
    sums.routers += router_parameters(c, experts)
    shared = shared_expert_width(c)
    sums.shared += (mlp_parameters(c, hidden, shared) if shared else 0) + (2 * hidden * latent if latent else 0)


def count_parameters(c: dict[str, Any], plan: list[Layer], heads: int, kv_heads: int, head_dim: int,
                     tied: bool) -> ParameterCount:
    """Every parameter of the decoder, by part, and the active count for one token."""
    hidden, vocab = c["hidden_size"], c["vocab_size"]
    experts, per_token = experts_of(c)
    sums = _Sums(norms=hidden)  # the final norm; MLA's latent norms are in attention_parameters
    for layer in plan:
        mixer = _attention(c, layer, heads, kv_heads, head_dim)
        if layer.mixer in ("linear", "mamba"):
            sums.linear += mixer
        else:
            sums.attention += mixer
        sums.norms += norms_per_layer(c, layer)
        _ffn(c, layer, sums, experts, per_token)
    count = ParameterCount(embeddings=vocab * hidden, lm_head=0 if tied else vocab * hidden, attention=sums.attention,
                           linear_mixers=sums.linear, dense_mlp=sums.dense, routed_experts=sums.routed,
                           shared_experts=sums.shared, routers=sums.routers, norms=sums.norms, active=0)
    return replace(count, active=count.total - sums.routed + sums.active_experts)
