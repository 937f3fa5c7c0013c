"""The 2026 configs (tests/data/configs-2026, PROVENANCE.md there): counts against an independent count,
the makers' published totals, KV only on attention layers, per-sequence state as vLLM sizes it."""

from __future__ import annotations

import json
from math import ceil

import pytest
from independent_counts import CONFIGS, COUNTERS, count, load

from napkinmath.core.errors import ProfileError
from napkinmath.core.physics.memory import kv_bytes_per_token_split, state_bytes_per_sequence
from napkinmath.core.sources.hf_config import model_from_config
from napkinmath.core.specs.specs import ModelSpec


def imported(stem: str) -> tuple[dict, object]:
    return model_from_config(CONFIGS / f"{stem}.json")


@pytest.mark.parametrize("stem", sorted(COUNTERS))
def test_counts_equal_an_independent_count_of_the_config(stem):
    total, active, mtp, vision = count(stem)
    _, counted = imported(stem)
    assert (counted.total, counted.active, counted.mtp, counted.vision) == (total, active, mtp, vision)


# The makers' figures (billions), what they cover, and where they are stated (docs/importing-models.md).
PUBLISHED = {
    "Qwen--Qwen3.5-27B": (27.0, None, "lm"),  # model card "Language Model ... Number of Parameters: 27B"
    "Qwen--Qwen3.5-35B-A3B": (35.0, 3.0, "lm"),
    "Qwen--Qwen3.5-122B-A10B": (122.0, 10.0, "lm"),
    "Qwen--Qwen3-VL-30B-A3B-Instruct": (31.1, 3.0, "all"),  # HF size label, vision included
    "XiaomiMiMo--MiMo-7B-Base": (7.83, None, "all"),  # HF size label, MTP included
    "deepseek-ai--DeepSeek-V3.2": (685.0, 37.0, "all"),  # model card: 685B with the MTP module
    "meta-llama--Llama-4-Scout-17B-16E-Instruct": (109.0, 17.0, "all"),  # vision not in this copy
    "mistralai--Mixtral-8x22B-v0.1": (141.0, 39.0, "lm"),
    "nvidia--Gemma-4-31B-IT-NVFP4": (31.0, None, "all"),
    "nvidia--Llama-3_3-Nemotron-Super-49B-v1": (49.9, None, "lm"),
    "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16": (31.6, 3.6, "lm"),  # 3.6B active including embeddings
    "nvidia--Nemotron-H-56B-Base-8K": (56.0, None, "lm"),
    "stepfun-ai--Step-3.7-Flash": (196.0, 11.0, "lm"),  # README: 196B language backbone, ~11B active
    "zai-org--GLM-5.1": (744.0, 40.0, "lm"),
    "MiniMaxAI--MiniMax-M2.7": (230.0, 10.0, "lm"),
}


@pytest.mark.parametrize("stem", sorted(PUBLISHED))
def test_totals_within_5_percent_of_the_published_figure(stem):
    total, active, scope = PUBLISHED[stem]
    _, counted = imported(stem)
    counted_total = counted.total + (counted.mtp + counted.vision if scope == "all" else 0)
    assert counted_total / 1e9 == pytest.approx(total, rel=0.05)
    if active is not None:  # makers differ on counting the input embedding in "active"
        assert min(abs(counted.active / 1e9 / active - 1),
                   abs((counted.active - counted.embeddings) / 1e9 / active - 1)) <= 0.2


def test_deepseek_v4_is_refused_naming_the_family_and_fields():
    with pytest.raises(ProfileError) as refused:
        imported("deepseek-ai--DeepSeek-V4-Flash")
    message = str(refused.value)
    assert "DeepSeek-V4" in message and "compress_ratios" in message and "hc_mult" in message
    assert "Error" not in message and "Traceback" not in message


def attention_kv_bytes_per_token(stem: str) -> int:
    """vLLM's allocation per token (kv_cache_interface.py AttentionSpec: 2 x kv heads x head size x 2 bytes
    per attention layer), counting only the layers that are attention in the config."""
    _, c = load(stem)
    kinds = c.get("layer_types") or [("attention" if b == "*" else "other") for b in c.get("hybrid_override_pattern", "")]
    layers = sum(1 for kind in kinds if kind in ("full_attention", "attention"))
    head = c.get("head_dim") or c.get("attention_head_dim")
    return layers * 2 * c["num_key_value_heads"] * head * 2


def vllm_state_bytes(stem: str) -> int:
    """vllm/model_executor/layers/mamba/mamba_utils.py, TP 1: GDN conv (k-1) x (2 K nk + V nv) bf16 + state
    nv x V x K in mamba_ssm_dtype; Mamba-2 conv (k-1) x (heads x head_dim + 2 groups x N) bf16 + state
    heads x head_dim x N in float32."""
    _, c = load(stem)
    if "linear_num_value_heads" in c:
        conv = (c["linear_conv_kernel_dim"] - 1) * (2 * c["linear_key_head_dim"] * c["linear_num_key_heads"]
                                                   + c["linear_value_head_dim"] * c["linear_num_value_heads"]) * 2
        return conv + c["linear_num_value_heads"] * c["linear_value_head_dim"] * c["linear_key_head_dim"] * 4
    inner = c["mamba_num_heads"] * c["mamba_head_dim"]
    conv = (c["conv_kernel"] - 1) * (inner + 2 * c["n_groups"] * c["ssm_state_size"]) * 2
    return conv + inner * c["ssm_state_size"] * 4


HYBRIDS = ["Qwen--Qwen3.5-27B", "Qwen--Qwen3.5-35B-A3B", "Qwen--Qwen3.5-122B-A10B",
           "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "nvidia--Nemotron-H-56B-Base-8K"]


@pytest.mark.parametrize("stem", HYBRIDS)
def test_hybrid_kv_counts_only_attention_layers_and_state_is_per_sequence(stem):
    model = ModelSpec.model_validate(imported(stem)[0])
    assert sum(kv_bytes_per_token_split(model, 1, 1)) == attention_kv_bytes_per_token(stem)
    assert model.state_bytes_per_layer == vllm_state_bytes(stem)
    linear = model.layers - model.kv_layer_count - (model.layers - model.kv_layer_count - model.state_layers)
    assert state_bytes_per_sequence(model, 1, 1) == linear * vllm_state_bytes(stem)
    # TP splits heads and conv channels
    assert state_bytes_per_sequence(model, 2, 1) == state_bytes_per_sequence(model, 1, 1) / 2


def test_qwen35_27b_kv_is_a_quarter_of_counting_every_layer():
    model = ModelSpec.model_validate(imported("Qwen--Qwen3.5-27B")[0])
    every_layer = 64 * 2 * 4 * 256 * 2
    assert sum(kv_bytes_per_token_split(model, 1, 1)) * 4 == every_layer


def test_llama4_chunked_layers_are_a_window_of_the_chunk_size():
    model = ModelSpec.model_validate(imported("meta-llama--Llama-4-Scout-17B-16E-Instruct")[0])
    assert model.local_attention == "chunked" and model.sliding_window == 8192
    assert model.sliding_window_layers == 36  # NoPE every 4th layer attends globally


def test_gemma4_full_layers_use_their_own_heads():
    model = ModelSpec.model_validate(imported("nvidia--Gemma-4-31B-IT-NVFP4")[0])
    full, sliding = kv_bytes_per_token_split(model, 1, 1)
    assert full == 10 * 2 * 4 * 512 * 2  # vLLM gemma4.py stores V beside K even where K = V
    assert sliding == 50 * 2 * 16 * 256 * 2


def test_dsa_models_cache_the_indexer_key_beside_the_latent():
    model = ModelSpec.model_validate(imported("deepseek-ai--DeepSeek-V3.2")[0])
    # deepseek_v2.py DeepseekV32IndexerCache: 128 fp8 values + a 4-byte scale per token and layer
    assert sum(kv_bytes_per_token_split(model, 1, 1)) == 61 * (576 * 2 + 132)
    fp8 = model.model_copy(update={"kv_dtype": "fp8"})
    assert sum(kv_bytes_per_token_split(fp8, 1, 1)) == 61 * (656 + 132)  # "fp8_ds_mla"


def test_nas_no_op_attention_keeps_no_kv():
    model = ModelSpec.model_validate(imported("nvidia--Llama-3_3-Nemotron-Super-49B-v1")[0])
    assert model.kv_layer_count == 49
    assert sum(kv_bytes_per_token_split(model, 1, 1)) == 49 * 2 * 8 * 128 * 2


def test_mtp_and_vision_are_their_own_lines_and_not_active():
    model, counted = imported("Qwen--Qwen3.5-27B")
    assert model["mtp_params_b"] == pytest.approx(counted.mtp / 1e9) and counted.mtp > 0
    assert model["vision_params_b"] == pytest.approx(counted.vision / 1e9) and counted.vision > 0
    assert counted.active == counted.total  # dense: every LM parameter, nothing of the MTP layer or the tower


def test_unmodelled_fields_are_named():
    gemma, _ = imported("nvidia--Gemma-4-31B-IT-NVFP4")
    assert "quantization_config.kv_cache_scheme" in gemma["unmodelled"]
    minimax, _ = imported("MiniMaxAI--MiniMax-M2.7")
    assert set(minimax["unmodelled"]) == {"mtp_transformer_layers", "num_mtp_modules"}
    qwen, _ = imported("Qwen--Qwen3.5-27B")
    assert "unmodelled" not in qwen


def write(tmp_path, config: dict, name: str = "config.json"):
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return path


TINY = {"hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 1000,
        "intermediate_size": 128, "tie_word_embeddings": False}


def test_layers_block_type_without_num_hidden_layers(tmp_path):
    config = {**TINY, "model_type": "nemotron_h", "layers_block_type": ["mamba", "moe", "attention", "mlp"],
              "mamba_num_heads": 4, "mamba_head_dim": 16, "n_groups": 2, "ssm_state_size": 8, "conv_kernel": 4,
              "n_routed_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
              "moe_shared_expert_intermediate_size": 64, "n_shared_experts": 1, "mlp_hidden_act": "relu2"}
    model, counted = model_from_config(write(tmp_path, config))
    h = 64
    mamba = h * (64 + 96 + 4) + 96 * 4 + 96 + 3 * 4 + 64 + 64 * h
    moe = h * 4 + 4 + 4 * 2 * h * 32 + 2 * h * 64
    attention = h * 64 + 2 * h * 32 + 64 * h
    assert counted.total == 2 * 1000 * h + h + 4 * h + mamba + moe + attention + 2 * h * 128
    assert model["layers"] == 4 and model["state_layers"] == 1 and model["kv_layers"] == 1


def test_moe_layer_freq_and_hybrid_layer_pattern_as_lists(tmp_path):
    config = {**TINY, "model_type": "mimo_v2", "num_hidden_layers": 4, "hybrid_layer_pattern": [0, 1, 1, 0],
              "moe_layer_freq": [0, 1, 1, 1], "n_routed_experts": 4, "num_experts_per_tok": 1,
              "moe_intermediate_size": 32, "sliding_window": 128}
    model, counted = model_from_config(write(tmp_path, config))
    assert counted.dense_mlp == 3 * 64 * 128  # one dense layer
    assert counted.routed_experts == 3 * 4 * 3 * 64 * 32
    assert model["sliding_window_layers"] == 2 and model["sliding_window"] == 128


@pytest.mark.parametrize(("extra", "named"), [
    ({"model_type": "kimi_linear", "linear_attn_config": {"kda_layers": [1]}}, "linear_attn_config"),
    ({"model_type": "minimax_m3_text", "sparse_attention_config": {"sparse_index_dim": 128}}, "sparse_attention_config"),
    ({"attn_type_list": [0, 1]}, "attn_type_list"),
    ({"hybrid_override_pattern": "M*X"}, "hybrid_override_pattern"),
    ({"layer_types": ["full_attention", "frobnicate"]}, "layer_types"),
])
def test_unmodellable_families_are_refused_naming_the_field(tmp_path, extra, named):
    config = {**TINY, "num_hidden_layers": 2, **extra}
    with pytest.raises(ProfileError) as refused:
        model_from_config(write(tmp_path, config))
    assert named in str(refused.value)


@pytest.mark.parametrize(("extra", "named"), [
    ({"quantization_config": "fp8"}, "quantization_config"),
    ({"quantization_config": {"quant_method": "compressed-tensors", "config_groups": ["x"]}}, "config_groups"),
    ({"quantization_config": {"quant_method": "fp8", "ignore": "lm_head"}}, "ignore"),
    ({"quantization_config": {"quant_method": "awq", "modules_to_not_convert": [1, 2]}}, "modules_to_not_convert"),
    ({"max_position_embeddings": True}, "max_position_embeddings"),
    ({"moe_layer_freq": [1], "num_local_experts": 4, "num_experts_per_tok": 1}, "moe_layer_freq"),
])
def test_malformed_fields_are_refused_by_name(tmp_path, extra, named):
    config = {**TINY, "num_hidden_layers": 2, **extra}
    with pytest.raises(ProfileError) as refused:
        model_from_config(write(tmp_path, config))
    assert named in str(refused.value)
    assert "TypeError" not in str(refused.value) and "KeyError" not in str(refused.value)


def test_huge_integers_and_deep_nesting_are_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"hidden_size": ' + "9" * 5000 + "}")
    with pytest.raises(ProfileError, match="config.json"):
        model_from_config(path)
    path.write_text('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(ProfileError, match="nested"):
        model_from_config(path)


def test_a_size_in_the_name_that_the_count_misses_is_reported(tmp_path):
    config = {**TINY, "num_hidden_layers": 2, "_name_or_path": "org/Tiny-70B"}
    model, _ = model_from_config(write(tmp_path, config))
    assert "70B total stated" in model["notes"]
    honest, _ = imported("Qwen--Qwen3.5-122B-A10B")
    assert "states a size" not in honest.get("notes", "")


def test_state_layers_need_their_bytes():
    with pytest.raises(ValueError, match="state_layers"):
        ModelSpec(params_b=1, layers=4, hidden_size=64, attention_heads=4, state_layers=2)
    with pytest.raises(ValueError, match="kv_layers"):
        ModelSpec(params_b=1, layers=4, hidden_size=64, attention_heads=4, kv_layers=3, state_layers=2,
                  state_bytes_per_layer=10)


def test_vllm_attention_block_grows_to_hold_the_state():
    # _align_hybrid_block_size: 16 x cdiv(state page, 16 x attention bytes per token); Qwen3.5-27B 784
    model = ModelSpec.model_validate(imported("Qwen--Qwen3.5-27B")[0])
    from napkinmath.core.engines.vllm_hybrid import attention_block_with_state
    assert attention_block_with_state(model, 1, 16) == 16 * ceil(vllm_state_bytes("Qwen--Qwen3.5-27B") / (16 * 4096))
    assert attention_block_with_state(model, 1, 16) == 784
