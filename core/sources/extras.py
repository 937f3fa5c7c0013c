"""What a checkpoint holds beside the language model it plans: multi-token-prediction (MTP) layers and a
vision tower, each counted from the config's fields and reported on its own line.

MTP layers: DeepSeek-V3/V3.2, GLM-5, Step (``num_nextn_predict_layers``: an embedding norm, a hidden norm,
a 2h -> h projection, one decoder layer like the last one, a head norm; the embedding and output head
copies some checkpoints carry are left out), MiMo (the same with its dense layer), Qwen3.5/3.6
(``mtp_num_hidden_layers``: fc 2h -> h, two pre-norms, one full-attention layer, a norm), Nemotron-H
(``mtp_hybrid_override_pattern`` blocks). Sources: vLLM's deepseek_mtp.py, mimo_mtp.py,
qwen3_5_mtp.py, nemotron_h_mtp.py (vllm-project/vllm). vLLM loads them only when MTP speculative
decoding is configured (its Qwen3.5 loader skips ``mtp.*``).

Vision towers: Qwen3-VL / Qwen3.5 (patch embedding Conv3d with bias, learned position embeddings,
blocks of LayerNorm + qkv/proj + MLP with biases, a patch merger and the deepstack mergers;
transformers qwen3_vl/modeling_qwen3_vl.py) and Gemma 4 (patch projection, a 2 x positions x hidden
position table, blocks of q/k/v/o + q/k norms + 4 norms + a gated MLP, a hidden -> text projection;
transformers gemma4/modeling_gemma4.py) and Gemma 3's SigLIP. Other towers are not counted, and the import
says so.
"""

from __future__ import annotations

from typing import Any

from .layer_plan import Layer, _pattern_layers
from .mixers import attention_parameters
from .param_count import _attention, _ffn, _Sums, experts_of, norms_per_layer

QWEN_VISION = ("qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe")


def _layer_parameters(c: dict[str, Any], layer: Layer, heads: int, kv_heads: int, head_dim: int) -> int:
    sums = _Sums()
    experts, per_token = experts_of(c)
    _ffn(c, layer, sums, experts, per_token)
    return (_attention(c, layer, heads, kv_heads, head_dim) + norms_per_layer(c, layer) + sums.dense + sums.routed
            + sums.shared + sums.routers)


def mtp_parameters(c: dict[str, Any], last: Layer, heads: int, kv_heads: int, head_dim: int) -> tuple[int, str]:
    """(parameters, what was counted) of the MTP layers; (0, "") when the config has none."""
    hidden = c["hidden_size"]
    wrapper = 2 * hidden * hidden + 3 * hidden  # the 2h -> h projection, two input norms, the output norm
    nemotron = c.get("mtp_hybrid_override_pattern")
    count = c.get("num_nextn_predict_layers") or c.get("mtp_num_hidden_layers") or 0
    if not isinstance(count, int) or count <= 0:
        return 0, ""
    if isinstance(nemotron, str) and nemotron:
        blocks = _pattern_layers({**c, "hybrid_override_pattern": nemotron, "layers_block_type": None}) or []
        layer = sum(_layer_parameters(c, block, heads, kv_heads, head_dim) for block in blocks)
    elif c.get("mtp_num_hidden_layers"):  # Qwen3.5/3.6: a full-attention layer with the model's FFN
        layer = _layer_parameters(c, Layer(mixer="attention", ffn=last.ffn), heads, kv_heads, head_dim)
    else:
        layer = _layer_parameters(c, Layer(mixer=last.mixer, ffn=last.ffn, kv_heads=last.kv_heads,
                                           ffn_width=last.ffn_width), heads, kv_heads, head_dim)
    return count * (wrapper + layer), f"{count} multi-token-prediction (MTP) layer(s)"


def _qwen_vision(v: dict[str, Any]) -> int:
    hidden, width = v["hidden_size"], v["intermediate_size"]
    merged = v["spatial_merge_size"] ** 2 * hidden
    out = v["out_hidden_size"]
    patch = v.get("in_channels", 3) * v["temporal_patch_size"] * v["patch_size"] ** 2 * hidden + hidden
    attention = 3 * hidden * hidden + 3 * hidden + hidden * hidden + hidden  # qkv and proj, with biases
    block = 4 * hidden + attention + 2 * hidden * width + width + hidden  # + two LayerNorms, the MLP

    def merger(post_norm: bool) -> int:
        return 2 * (merged if post_norm else hidden) + merged * merged + merged + merged * out + out

    deepstack = len(v.get("deepstack_visual_indexes") or [])
    return patch + v["num_position_embeddings"] * hidden + v["depth"] * block + merger(False) + deepstack * merger(True)


def _gemma4_vision(v: dict[str, Any], text_hidden: int) -> int:
    hidden, heads, kv_heads = v["hidden_size"], v["num_attention_heads"], v["num_key_value_heads"]
    head_dim = v.get("head_dim") or hidden // heads
    attention = hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim + heads * head_dim * hidden + 2 * head_dim
    block = attention + 4 * hidden + 3 * hidden * v["intermediate_size"]
    standardize = 2 * hidden if v.get("standardize") else 0
    return (3 * v["patch_size"] ** 2 * hidden + 2 * v["position_embedding_size"] * hidden
            + v["num_hidden_layers"] * block + standardize + hidden * text_hidden)


def _siglip_vision(v: dict[str, Any], text_hidden: int) -> int:
    """SigLIP (transformers siglip/modeling_siglip.py) as Gemma 3 uses it: a patch Conv2d with bias, one
    position embedding per patch, blocks of two LayerNorms + q/k/v/out with biases + fc1/fc2 with biases,
    a post LayerNorm; Gemma 3's projector (gemma3/modeling_gemma3.py): a vision -> text matrix and an
    RMSNorm over the vision width."""
    hidden, width = v["hidden_size"], v["intermediate_size"]
    patches = (v["image_size"] // v["patch_size"]) ** 2
    block = 4 * hidden + 4 * hidden * hidden + 4 * hidden + 2 * hidden * width + width + hidden
    embed = v.get("num_channels", 3) * v["patch_size"] ** 2 * hidden + hidden + patches * hidden
    return embed + v["num_hidden_layers"] * block + 2 * hidden + hidden * text_hidden + hidden


def vision_parameters(config: dict[str, Any], text_hidden: int) -> tuple[int, str]:
    """(parameters, note) of the vision tower; (0, note) when the tower is one this does not count."""
    vision = config.get("vision_config")
    if not isinstance(vision, dict):
        return 0, ""
    family = str(config.get("model_type") or "")
    try:
        if family in QWEN_VISION or str(vision.get("model_type", "")) in QWEN_VISION:
            return _qwen_vision(vision), "vision tower (Qwen3-VL layout)"
        if family == "gemma4" or vision.get("model_type") == "gemma4_vision":
            return _gemma4_vision(vision, text_hidden), "vision tower (Gemma 4 layout)"
        if family in ("gemma3", "gemma3_text") and vision.get("model_type") == "siglip_vision_model" \
                and not vision.get("vision_use_head"):
            return _siglip_vision(vision, text_hidden), "vision tower (SigLIP, Gemma 3 projector)"
    except (KeyError, TypeError):
        return 0, "vision tower present but its config lacks a field napkinmath needs: not counted"
    return 0, f"vision tower ({vision.get('model_type', 'unknown')}) present: not counted"


__all__ = ["attention_parameters", "mtp_parameters", "vision_parameters"]
