"""Honesty before coverage: config fields that can change parameters, the KV cache or per-sequence state,
and that the import did not model, named so a plan can say so; and sizes stated in a model's name
(``-27B``, ``-120B-A12B``, ``-17B-16E``) checked against the count.
"""

from __future__ import annotations

import re
from typing import Any

# Field names that can change parameters, KV or state (issue 13: layer-kind lists, *_pattern, *_freq lists,
# linear_*, mamba_*, ssm_*, expert fields, sliding/chunked/compressed/sparse attention, indexers).
RISKY = re.compile(r"layer_types|_pattern$|_freq$|^linear_|^mamba_|^ssm_|expert|^moe_|^n_routed|^num_experts|"
                   r"sliding|chunk|compress|sparse|^index_|indexer|window|^swa_|kv_shared|lora_rank|nextn|^mtp_|"
                   r"^num_mtp|latent|attn_type|hybrid|block_configs|block_type|^hc_|per_layer|double_wide|"
                   r"global_|k_eq_v|head_dim|key_value_heads|^o_groups|^conv_|^n_groups|state_size|vision_config|"
                   r"audio_config|kv_cache_scheme")

# Fields read somewhere by the importer (layer_plan, mixers, param_count, extras, hf_config).
MODELLED = frozenset({
    "layer_types", "full_attention_interval", "hybrid_override_pattern", "layers_block_type", "block_configs",
    "attn_type_list", "hybrid_layer_pattern", "sliding_window", "sliding_window_pattern", "use_sliding_window",
    "attention_chunk_size", "no_rope_layers", "no_rope_layer_interval", "linear_conv_kernel_dim",
    "linear_key_head_dim", "linear_value_head_dim", "linear_num_key_heads", "linear_num_value_heads",
    "mamba_num_heads", "mamba_head_dim", "mamba_ssm_dtype", "mamba_ssm_cache_dtype", "mamba_proj_bias", "n_groups",
    "ssm_state_size", "conv_kernel", "num_local_experts", "n_routed_experts", "num_experts", "num_experts_per_tok",
    "experts_per_token", "top_k_experts", "moe_intermediate_size", "expert_intermediate_size",
    "shared_expert_intermediate_size", "moe_shared_expert_intermediate_size", "share_expert_dim",
    "shared_intermediate_size", "n_shared_experts", "moe_latent_size", "moe_layer_freq", "moe_layers",
    "interleave_moe_layer_step", "first_k_dense_replace", "decoder_sparse_step", "mlp_only_layers",
    "enable_moe_block", "use_moe_router_bias", "num_nextn_predict_layers", "mtp_num_hidden_layers",
    "mtp_hybrid_override_pattern", "index_n_heads", "index_head_dim", "index_topk", "kv_lora_rank", "q_lora_rank",
    "head_dim", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "num_key_value_heads",
    "global_head_dim", "num_global_key_value_heads", "attention_k_eq_v", "vision_config", "attention_head_dim",
    "intermediate_size_mlp", "qk_head_dim",
})

# Risky-looking names that change neither parameters nor memory: routing arithmetic, kernel choices,
# initialisation, and fields that are only meaningful when another (modelled) field is set.
HARMLESS = frozenset({
    "router_aux_loss_coef", "output_router_logits", "norm_topk_prob", "moe_router_dtype", "router_jitter_noise",
    "mamba_hidden_act", "mamba_chunk_size", "chunk_size", "mamba_dt_rank", "use_mamba_kernels",
    "moe_router_scaling_factor",
    "moe_shared_expert_overlap", "mtp_use_dedicated_embeddings", "mamba_d_chunk", "index_topk_freq",
    "indexer_rope_interleave", "max_window_layers", "vocab_size_per_layer_input", "conv_bias",
})


def _active(value: Any) -> bool:
    """A field that is set to something: not None, False, 0, "" or an empty list/dict."""
    return value not in (None, False, 0, "", [], {}) and value == value  # NaN counts as unset


def unmodelled_fields(merged: dict[str, Any]) -> list[str]:
    """Risky fields of the config (top level, ``text_config`` and ``quantization_config``) that are set
    and that the import does not model, sorted; `vision_config` is reported by extras when not counted."""
    seen: list[str] = []
    for key, value in merged.items():
        if (RISKY.search(key) and not key.startswith("rope") and key not in MODELLED and key not in HARMLESS
                and _active(value)):
            seen.append(key)
    quant = merged.get("quantization_config")
    if isinstance(quant, dict) and _active(quant.get("kv_cache_scheme")):
        seen.append("quantization_config.kv_cache_scheme")
    return sorted(set(seen))


SIZE = re.compile(r"(?<![\dx.])(\d+(?:\.\d+)?)[Bb](?:-[Aa](\d+(?:\.\d+)?)[Bb]|-(\d+)E)?(?![\w.])")


def stated_sizes(name: str) -> tuple[float | None, float | None]:
    """(total, active) in billions stated by a model's name: ``Qwen3.5-27B`` -> (27, None),
    ``Qwen3.5-122B-A10B`` -> (122, 10), ``Llama-4-Scout-17B-16E`` -> (None, 17) (Meta names the active
    size and the expert count). ``8x22B`` (experts x size) states neither."""
    for match in SIZE.finditer(name.replace("_", "-")):
        value = float(match.group(1))
        if match.group(3):
            return None, value
        return value, float(match.group(2)) if match.group(2) else None
    return None, None


def size_mismatch(name: str, total: float, active: float, embeddings: float, extras: float) -> str | None:
    """A warning when a size stated in the name misses the count by more than 10%. Totals are compared
    with the language model and with it plus its vision tower and MTP layers; active sizes with and
    without the input embedding (makers differ on counting it). All in parameters."""
    claimed_total, claimed_active = stated_sizes(name)

    def off(counts: tuple[float, ...], claim: float) -> bool:
        return min(abs(count / (claim * 1e9) - 1) for count in counts) > 0.10

    problems = []
    if claimed_total and off((total, total + extras), claimed_total):
        problems.append(f"{claimed_total:g}B total stated, {total / 1e9:.2f}B counted")
    if claimed_active and off((active, active - embeddings), claimed_active):
        problems.append(f"{claimed_active:g}B active stated, {active / 1e9:.2f}B counted")
    if not problems:
        return None
    return f"the name '{name[:80]}' states a size the count misses by more than 10% ({'; '.join(problems)})"
