"""Parameter counts of the 2026 configs, written per family from the published modelling code, without
any napkinmath code: the tests compare the importer with these.

One function per family, each reading the config's own fields with the shapes of (HF transformers)
qwen3_5/modular_qwen3_5.py + qwen3_next, qwen3_vl, gemma4/modeling_gemma4.py, llama4, mixtral; (vLLM)
nemotron_h.py + mamba_mixer2.py, nemotron_nas.py, deepseek_v2.py (MLA + DSA indexer), minimax_m2.py,
mimo.py / mimo_mtp.py. Each returns (total, active, mtp, vision) in parameters; total and active are
the language model (embeddings and the output head in both), MTP layers and the vision tower apart.
"""

from __future__ import annotations

import json
from pathlib import Path

CONFIGS = Path(__file__).parent / "data" / "configs-2026"


def load(stem: str) -> tuple[dict, dict]:
    data = json.loads((CONFIGS / f"{stem}.json").read_text())
    return data, data.get("text_config", data)


def swiglu(h: int, i: int) -> int:
    return 3 * h * i


def gqa(h: int, heads: int, kv: int, hd: int, qkv_bias: bool = False, qk_norm: int = 0) -> int:
    return h * heads * hd + 2 * h * kv * hd + heads * hd * h + ((heads + 2 * kv) * hd if qkv_bias else 0) + qk_norm


def mla(c: dict, h: int) -> int:
    heads, qr, r = c["num_attention_heads"], c["q_lora_rank"], c["kv_lora_rank"]
    rope, nope, v = c["qk_rope_head_dim"], c["qk_nope_head_dim"], c["v_head_dim"]
    return h * qr + qr + qr * heads * (nope + rope) + h * (r + rope) + r + r * heads * (nope + v) + heads * v * h


def dsa_indexer(c: dict, h: int) -> int:
    n, d = c["index_n_heads"], c["index_head_dim"]
    return c["q_lora_rank"] * n * d + h * d + 2 * d + h * n


def qwen3_vl_vision(v: dict) -> int:
    h, i = v["hidden_size"], v["intermediate_size"]
    merged = v["spatial_merge_size"] ** 2 * h
    patch = v["in_channels"] * v["temporal_patch_size"] * v["patch_size"] ** 2 * h + h
    block = 4 * h + (h * 3 * h + 3 * h) + (h * h + h) + (h * i + i) + (i * h + h)

    def merger(post: bool) -> int:
        return 2 * (merged if post else h) + merged * merged + merged + merged * v["out_hidden_size"] + v["out_hidden_size"]

    return (patch + v["num_position_embeddings"] * h + v["depth"] * block + merger(False)
            + len(v.get("deepstack_visual_indexes") or []) * merger(True))


def qwen35(stem: str) -> tuple[int, int, int, int]:
    d, t = load(stem)
    h, vocab, experts = t["hidden_size"], t["vocab_size"], t.get("num_experts") or 0
    kd, vd = t["linear_key_head_dim"] * t["linear_num_key_heads"], t["linear_value_head_dim"] * t["linear_num_value_heads"]
    nv = t["linear_num_value_heads"]
    gdn = (2 * kd + vd) * t["linear_conv_kernel_dim"] + h * (2 * kd + vd) + h * vd + 2 * h * nv + 2 * nv + t["linear_value_head_dim"] + vd * h
    attn = h * t["num_attention_heads"] * t["head_dim"] * 2 + 2 * h * t["num_key_value_heads"] * t["head_dim"] + t["num_attention_heads"] * t["head_dim"] * h + 2 * t["head_dim"]
    if experts:
        one = swiglu(h, t["moe_intermediate_size"])
        shared = swiglu(h, t["shared_expert_intermediate_size"]) + h  # + its sigmoid gate
        ffn, ffn_active = h * experts + experts * one + shared, h * experts + t["num_experts_per_tok"] * one + shared
    else:
        ffn = ffn_active = swiglu(h, t["intermediate_size"])
    total = 2 * vocab * h + h
    active = total
    for kind in t["layer_types"]:
        mixer = gdn if kind == "linear_attention" else attn
        total += mixer + 2 * h + ffn
        active += mixer + 2 * h + ffn_active
    mtp = t["mtp_num_hidden_layers"] * (2 * h * h + 2 * h + attn + 2 * h + ffn + h)
    return total, active, mtp, qwen3_vl_vision(d["vision_config"])


def qwen3_vl_moe(stem: str) -> tuple[int, int, int, int]:
    d, t = load(stem)
    h, experts, layers = t["hidden_size"], t["num_experts"], t["num_hidden_layers"]
    attn = gqa(h, t["num_attention_heads"], t["num_key_value_heads"], t["head_dim"], qk_norm=2 * t["head_dim"])
    one = swiglu(h, t["moe_intermediate_size"])
    total = 2 * t["vocab_size"] * h + h + layers * (attn + 2 * h + h * experts + experts * one)
    return total, total - layers * (experts - t["num_experts_per_tok"]) * one, 0, qwen3_vl_vision(d["vision_config"])


def mimo(stem: str) -> tuple[int, int, int, int]:
    _, c = load(stem)
    h = c["hidden_size"]
    layer = gqa(h, c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], qkv_bias=True) + swiglu(h, c["intermediate_size"]) + 2 * h
    total = 2 * c["vocab_size"] * h + h + c["num_hidden_layers"] * layer
    return total, total, c["num_nextn_predict_layers"] * (2 * h + 2 * h * h + layer + h), 0


def deepseek_dsa(stem: str) -> tuple[int, int, int, int]:
    """DeepSeek-V3.2 and GLM-5: MLA with the DSA indexer, leading dense layers, shared experts."""
    _, c = load(stem)
    h, experts = c["hidden_size"], c["n_routed_experts"]
    one = swiglu(h, c["moe_intermediate_size"])
    attn = mla(c, h) + dsa_indexer(c, h)
    dense = attn + 2 * h + swiglu(h, c["intermediate_size"])
    moe = attn + 2 * h + h * experts + experts + c["n_shared_experts"] * one + experts * one
    first, rest = c["first_k_dense_replace"], c["num_hidden_layers"] - c["first_k_dense_replace"]
    total = 2 * c["vocab_size"] * h + h + first * dense + rest * moe
    return total, total - rest * (experts - c["num_experts_per_tok"]) * one, c["num_nextn_predict_layers"] * (2 * h + 2 * h * h + moe + h), 0


def llama4(stem: str) -> tuple[int, int, int, int]:
    _, t = load(stem)
    h, experts, layers, step = t["hidden_size"], t["num_local_experts"], t["num_hidden_layers"], t["interleave_moe_layer_step"]
    attn = gqa(h, t["num_attention_heads"], t["num_key_value_heads"], t["head_dim"])  # L2 qk norm: no weights
    total = active = 2 * t["vocab_size"] * h + h
    for index in range(layers):
        if index % step == step - 1:  # moe_layers = range(step - 1, layers, step)
            one = swiglu(h, t["intermediate_size"])  # each expert, and the shared expert
            total += attn + 2 * h + h * experts + experts * one + one
            active += attn + 2 * h + h * experts + t["num_experts_per_tok"] * one + one
        else:
            dense = swiglu(h, t["intermediate_size_mlp"])
            total += attn + 2 * h + dense
            active += attn + 2 * h + dense
    return total, active, 0, 0


def mixtral(stem: str) -> tuple[int, int, int, int]:
    _, c = load(stem)
    h, experts, layers = c["hidden_size"], c["num_local_experts"], c["num_hidden_layers"]
    one = swiglu(h, c["intermediate_size"])
    attn = gqa(h, c["num_attention_heads"], c["num_key_value_heads"], h // c["num_attention_heads"])
    total = 2 * c["vocab_size"] * h + h + layers * (attn + 2 * h + h * experts + experts * one)
    return total, total - layers * (experts - c["num_experts_per_tok"]) * one, 0, 0


def gemma4(stem: str) -> tuple[int, int, int, int]:
    d, t = load(stem)
    h, heads = t["hidden_size"], t["num_attention_heads"]
    total = t["vocab_size"] * h + h  # tied
    for kind in t["layer_types"]:
        if kind == "full_attention":  # global head size and KV heads; attention_k_eq_v: no v_proj
            hd, kv = t["global_head_dim"], t["num_global_key_value_heads"]
            attn = h * heads * hd + h * kv * hd + heads * hd * h + 2 * hd
        else:
            hd, kv = t["head_dim"], t["num_key_value_heads"]
            attn = h * heads * hd + 2 * h * kv * hd + heads * hd * h + 2 * hd
        total += attn + 4 * h + swiglu(h, t["intermediate_size"])
    v = d["vision_config"]
    vh, vhd = v["hidden_size"], v["head_dim"]
    vision = (3 * v["patch_size"] ** 2 * vh + 2 * v["position_embedding_size"] * vh
              + v["num_hidden_layers"] * (2 * vh * v["num_attention_heads"] * vhd + 2 * vh * v["num_key_value_heads"] * vhd + 2 * vhd + 4 * vh + swiglu(vh, v["intermediate_size"]))
              + 2 * vh + vh * h)
    return total, total, 0, vision


def nemotron_nas(stem: str) -> tuple[int, int, int, int]:
    _, c = load(stem)
    h, heads = c["hidden_size"], c["num_attention_heads"]

    def width(mult: float) -> int:
        i = int(2 * mult * h / 3)
        return i if i % 256 == 0 else i + 256 - i % 256

    total = 2 * c["vocab_size"] * h + h
    for block in c["block_configs"]:
        if not block["attention"]["no_op"]:
            total += gqa(h, heads, heads // block["attention"]["n_heads_in_group"], h // heads) + h
        if not block["ffn"]["no_op"]:
            total += swiglu(h, width(block["ffn"]["ffn_mult"])) + h
    return total, total, 0, 0


def nemotron_h(stem: str) -> tuple[int, int, int, int]:
    _, c = load(stem)
    h = c["hidden_size"]
    inner, groups, state, heads = c["mamba_num_heads"] * c["mamba_head_dim"], c["n_groups"], c["ssm_state_size"], c["mamba_num_heads"]
    conv = inner + 2 * groups * state
    mamba = h * (inner + conv + heads) + conv * c["conv_kernel"] + conv + 3 * heads + inner + inner * h
    hd = c.get("head_dim") or c.get("attention_head_dim")
    attn = gqa(h, c["num_attention_heads"], c["num_key_value_heads"], hd)
    total = active = 2 * c["vocab_size"] * h + h
    for block in c["hybrid_override_pattern"]:
        if block == "M":
            total, active = total + mamba + h, active + mamba + h
        elif block == "*":
            total, active = total + attn + h, active + attn + h
        elif block == "-":  # ReLU² MLP: up and down
            total, active = total + 2 * h * c["intermediate_size"] + h, active + 2 * h * c["intermediate_size"] + h
        else:  # E: router + score bias, ReLU² experts, shared expert
            experts, one = c["n_routed_experts"], 2 * h * c["moe_intermediate_size"]
            shared = 2 * h * c["moe_shared_expert_intermediate_size"] * c["n_shared_experts"]
            total += h * experts + experts + experts * one + shared + h
            active += h * experts + experts + c["num_experts_per_tok"] * one + shared + h
    return total, active, 0, 0


def step(stem: str) -> tuple[int, int, int, int]:
    _, c = load(stem)
    h, experts = c["hidden_size"], c["num_experts"]
    one = swiglu(h, c["moe_intermediate_size"])
    attn = gqa(h, c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"])
    moe = attn + 2 * h + h * experts + experts + swiglu(h, c["share_expert_dim"]) + experts * one
    first, rest = c["first_k_dense_replace"], c["num_hidden_layers"] - c["first_k_dense_replace"]
    total = 2 * c["vocab_size"] * h + h + first * (attn + 2 * h + swiglu(h, c["intermediate_size"])) + rest * moe
    active = total - rest * (experts - c["num_experts_per_tok"]) * one
    return total, active, c["num_nextn_predict_layers"] * (2 * h + 2 * h * h + moe + h), 0


def minimax_m2(stem: str) -> tuple[int, int, int, int]:
    _, c = load(stem)
    h, experts, heads, kv, hd = c["hidden_size"], c["num_local_experts"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    attn = gqa(h, heads, kv, hd, qk_norm=(heads + kv) * hd)  # per_layer q/k norms over all heads
    one = swiglu(h, c["intermediate_size"])
    layers = c["num_hidden_layers"]
    total = 2 * c["vocab_size"] * h + h + layers * (attn + 2 * h + h * experts + experts + experts * one)
    return total, total - layers * (experts - c["num_experts_per_tok"]) * one, 0, 0


COUNTERS = {
    "Qwen--Qwen3.5-27B": qwen35, "Qwen--Qwen3.5-35B-A3B": qwen35, "Qwen--Qwen3.5-122B-A10B": qwen35,
    "Qwen--Qwen3-VL-30B-A3B-Instruct": qwen3_vl_moe, "XiaomiMiMo--MiMo-7B-Base": mimo,
    "deepseek-ai--DeepSeek-V3.2": deepseek_dsa, "zai-org--GLM-5.1": deepseek_dsa,
    "meta-llama--Llama-4-Scout-17B-16E-Instruct": llama4, "mistralai--Mixtral-8x22B-v0.1": mixtral,
    "nvidia--Gemma-4-31B-IT-NVFP4": gemma4, "nvidia--Llama-3_3-Nemotron-Super-49B-v1": nemotron_nas,
    "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16": nemotron_h, "nvidia--Nemotron-H-56B-Base-8K": nemotron_h,
    "stepfun-ai--Step-3.7-Flash": step, "MiniMaxAI--MiniMax-M2.7": minimax_m2,
}


def count(stem: str) -> tuple[int, int, int, int]:
    return COUNTERS[stem](stem)
