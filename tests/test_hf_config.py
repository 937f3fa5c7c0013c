"""config.json import on real published configs (tests/data/configs, provenance in PROVENANCE.md there)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from napkinmath.cli.main import main
from napkinmath.core.errors import ProfileError
from napkinmath.core.physics.memory import kv_bytes_per_token_split
from napkinmath.core.sources.hf_config import model_from_config, weight_precision
from napkinmath.core.sources.model_import import import_model
from napkinmath.core.specs.precisions import bytes_per_value
from napkinmath.core.specs.specs import ModelSpec

CONFIGS = Path(__file__).parent / "data" / "configs"

# The model makers' published totals, where they are exact to the digits given (billions).
PUBLISHED_TOTAL_B = {
    "llama-3.1-8b": 8.03, "llama-3.1-70b": 70.6, "llama-3.1-405b.partial": 405.9, "qwen3-32b": 32.8,
    "qwen3-30b-a3b-base": 30.5, "mixtral-8x7b": 46.7, "deepseek-v3": 671.0, "gpt-oss-120b": 116.83,
    "gemma-3-27b-it": 27.0, "qwen2.5-72b-instruct": 72.7, "qwen2.5-7b": 7.61,
}
# Active per token as published; gpt-oss's model card leaves out the input embedding (0.58B).
PUBLISHED_ACTIVE_B = {"qwen3-30b-a3b-base": 3.3, "mixtral-8x7b": 12.9, "deepseek-v3": 37.0}


def imported(stem: str) -> tuple[dict, object]:
    return model_from_config(CONFIGS / f"{stem}.json")


@pytest.mark.parametrize("stem", sorted(PUBLISHED_TOTAL_B))
def test_total_parameters_within_half_a_percent_of_published(stem):
    _, count = imported(stem)
    # published figures are rounded to their last digit: allow that rounding on top of 0.5%
    digits = len(str(PUBLISHED_TOTAL_B[stem]).split(".")[-1])
    assert count.total / 1e9 == pytest.approx(PUBLISHED_TOTAL_B[stem], rel=0.005, abs=0.5 * 10**-digits)


@pytest.mark.parametrize("stem", sorted(PUBLISHED_ACTIVE_B))
def test_active_parameters_of_moe_models(stem):
    _, count = imported(stem)
    assert count.active / 1e9 == pytest.approx(PUBLISHED_ACTIVE_B[stem], rel=0.02, abs=0.05)


def test_gpt_oss_active_matches_the_model_card_without_the_input_embedding():
    model, count = imported("gpt-oss-120b")
    assert (count.active - count.embeddings) / 1e9 == pytest.approx(5.13, abs=0.01)


def vllm_page_bytes_per_token(model: ModelSpec) -> int:
    """vLLM's allocation per token over all layers: vllm/v1/kv_cache_interface.py AttentionSpec.page_size_bytes
    is (1 if MLA else 2) x block_size x num_kv_heads x head_size x dtype size per layer; for MLA the head is
    kv_lora_rank + qk_rope_head_dim with one "head". Divided by block_size, times the layers."""
    dtype = bytes_per_value(model.kv_dtype)
    if model.attention == "mla":
        return model.layers * 1 * 1 * (model.kv_lora_rank + model.qk_rope_head_dim) * int(dtype)
    return model.layers * 2 * model.kv_heads_or_default * model.head_dim_or_default * int(dtype)


@pytest.mark.parametrize("stem", ["llama-3.1-8b", "llama-3.1-70b", "qwen3-32b", "qwen3-30b-a3b-base", "mixtral-8x7b",
                                  "deepseek-v3", "gpt-oss-120b", "gemma-3-27b-it", "phi-3-mini-4k-instruct",
                                  "mistral-7b-v0.1", "qwen2.5-7b"])
def test_kv_bytes_per_token_equal_what_vllm_allocates(stem):
    model = ModelSpec.model_validate(imported(stem)[0])
    full, sliding = kv_bytes_per_token_split(model, tensor=1, pipeline=1)
    assert full + sliding == vllm_page_bytes_per_token(model)


def test_known_kv_sizes():
    assert sum(kv_bytes_per_token_split(ModelSpec.model_validate(imported("llama-3.1-8b")[0]), 1, 1)) == 131_072
    assert sum(kv_bytes_per_token_split(ModelSpec.model_validate(imported("deepseek-v3")[0]), 1, 1)) == 61 * 576 * 2


@pytest.mark.parametrize(("stem", "window", "sliding_layers"), [
    ("gemma-3-27b-it", 1024, 52),          # sliding_window_pattern 6: 5 local to 1 global
    ("gpt-oss-120b", 128, 18),             # layer_types alternate
    ("mistral-7b-v0.1", 4096, 32),         # a window on every layer
    ("phi-3-mini-4k-instruct", 2047, 32),
    ("qwen2.5-7b", None, 0),               # use_sliding_window false
    ("mixtral-8x7b", None, 0),             # sliding_window null
])
def test_sliding_window_layers(stem, window, sliding_layers):
    model, _ = imported(stem)
    assert (model.get("sliding_window"), model.get("sliding_window_layers", 0)) == (window, sliding_layers)


def test_explicit_head_dim_and_nested_text_config():
    qwen, _ = imported("qwen3-32b")
    assert qwen["head_dim"] == 128 and qwen["hidden_size"] // qwen["attention_heads"] == 80
    gemma, _ = imported("gemma-3-27b-it")  # fields live under text_config
    assert gemma["layers"] == 62 and gemma["kv_heads"] == 16


def test_mla_moe_shared_experts_and_leading_dense_layers():
    model, count = imported("deepseek-v3")
    assert model["attention"] == "mla" and model["kv_lora_rank"] == 512
    assert model["experts"] == 256 and model["experts_per_token"] == 8
    assert count.shared_experts == 58 * 3 * 7168 * 2048  # one shared expert on each of the 58 MoE layers
    assert count.dense_mlp == 3 * 3 * 7168 * 18432  # first_k_dense_replace = 3
    assert model["weight_dtype"] == "fp8"  # quantization_config quant_method fp8
    assert "multi-token-prediction" in model["notes"]


def test_tied_embeddings_are_counted_once(tmp_path):
    config = json.loads((CONFIGS / "llama-3.1-8b.json").read_text())
    untied = model_from_config(CONFIGS / "llama-3.1-8b.json")[1].total
    (tmp_path / "config.json").write_text(json.dumps({**config, "tie_word_embeddings": True}))
    tied = model_from_config(tmp_path)[1].total
    assert untied - tied == config["vocab_size"] * config["hidden_size"]


def test_qwen2_qkv_biases_are_counted():
    _, count = imported("qwen2.5-7b")  # hidden 3584, 28 heads, 4 KV heads of 128, 28 layers; q, k, v biases
    hidden, q_out, kv_out = 3584, 28 * 128, 4 * 128
    per_layer = hidden * q_out + 2 * hidden * kv_out + q_out * hidden + (q_out + 2 * kv_out)
    assert count.attention == 28 * per_layer


@pytest.mark.parametrize(("quantization", "dtype"), [
    ({"quant_method": "fp8"}, "fp8"),
    ({"quant_method": "mxfp4"}, "mxfp4"),
    ({"quant_method": "awq", "bits": 4}, "int4"),
    ({"quant_method": "gptq", "bits": 4}, "int4"),
    ({"quant_method": "gptq", "bits": 8}, "int8"),
    ({"quant_method": "modelopt", "quant_algo": "NVFP4"}, "nvfp4"),
    ({"quant_method": "compressed-tensors", "config_groups": {"g": {"weights": {"num_bits": 8, "type": "float"}}}}, "fp8"),
    ({"quant_method": "compressed-tensors", "config_groups": {"g": {"weights": {"num_bits": 4, "type": "int"}}}}, "int4"),
])
def test_quantization_config_sets_the_weight_precision(quantization, dtype):
    assert weight_precision({"quantization_config": quantization, "torch_dtype": "bfloat16"}) == dtype
    assert weight_precision({"torch_dtype": "float16"}) == "fp16"


GPT_OSS_QUANTIZATION = {"quant_method": "mxfp4", "modules_to_not_convert": [
    "model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"]}


def test_a_quantized_config_keeps_embeddings_head_and_unconverted_modules_at_16_bits(tmp_path):
    config = json.loads((CONFIGS / "gpt-oss-120b.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "quantization_config": GPT_OSS_QUANTIZATION}))
    model, count = model_from_config(tmp_path)
    assert model["weight_dtype"] == "mxfp4"
    # gpt-oss leaves attention and the router out as well: everything but the experts stays bf16
    assert model["unquantized_params_b"] == pytest.approx(model["params_b"] - model["expert_params_b"])
    fp8 = {**GPT_OSS_QUANTIZATION, "quant_method": "fp8", "modules_to_not_convert": []}
    (tmp_path / "config.json").write_text(json.dumps({**config, "quantization_config": fp8}))
    model, count = model_from_config(tmp_path)
    assert model["unquantized_params_b"] * 1e9 == count.embeddings + count.lm_head + count.norms + count.routers
    assert "unquantized_params_b" not in imported("gpt-oss-120b")[0]  # the stored copy is plain bf16


def test_a_model_folder_works_like_its_config(tmp_path):
    (tmp_path / "config.json").write_text((CONFIGS / "mixtral-8x7b.json").read_text())
    assert model_from_config(tmp_path)[0] == model_from_config(tmp_path / "config.json")[0]
    assert "estimated" in import_model(tmp_path).weights_note


@pytest.mark.parametrize(("text", "expected"), [
    ("{not json", "not a JSON file"),
    ("[1, 2]", "a config.json is a JSON object"),
    ('{"hidden_size": 4096, "num_hidden_layers": 32, "vocab_size": 100, "intermediate_size": 8}',
     "num_attention_heads is missing"),
    ('{"hidden_size": 4096, "num_hidden_layers": 0, "num_attention_heads": 32, "vocab_size": 100, "intermediate_size": 8}',
     "num_hidden_layers must be a whole number"),
    ('{"hidden_size": "big", "num_hidden_layers": 2, "num_attention_heads": 32, "vocab_size": 100, "intermediate_size": 8}',
     "hidden_size must be a whole number"),
    ('{"hidden_size": 4096, "num_hidden_layers": 2, "num_attention_heads": 32, "num_key_value_heads": 64, '
     '"vocab_size": 100, "intermediate_size": 8}', "kv_heads (64) cannot exceed attention_heads (32)"),
])
def test_bad_configs_name_the_file_and_the_field(tmp_path, text, expected):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ProfileError) as caught:
        model_from_config(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)


def test_missing_file_and_empty_folder(tmp_path):
    with pytest.raises(ProfileError, match="no such file"):
        model_from_config(tmp_path)


def test_import_config_command(capsys, tmp_path):
    assert main(["import-config", str(CONFIGS / "qwen3-30b-a3b-base.json"), "--name", "My Qwen"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# My Qwen: 30.532B parameters, 3.353B active per token")
    assert "[model]" in out and 'name = "My Qwen"' in out and "experts = 128" in out
    assert main(["import-config", str(CONFIGS / "gemma-3-27b-it.json"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"]["sliding_window_layers"] == 52 and data["parameters"]["lm_head"] == 0
    bad = tmp_path / "bad.json"
    bad.write_text("nope")
    assert main(["import-config", str(bad)]) == 2
    assert "not a JSON file" in capsys.readouterr().err


def test_imported_section_plans_in_a_profile():
    from napkinmath.core.plan.compose import plan
    from napkinmath.core.profile.schema import Profile

    model, _ = imported("gpt-oss-120b")
    result = plan(Profile.model_validate({"hardware": {"gpu": "h100-sxm"}, "model": model}))
    assert result.kv.bytes_per_token == 73_728  # 36 layers x 2 x 8 x 64 x 2 bytes


# Total and active parameters of every config here as main counted them at 010f6f0, before the per-layer
# importer (issue 13): the rewrite must not move them by one parameter.
COUNTS_AT_010F6F0 = {
    "deepseek-v2-lite": (15706484224, 2661150208),
    "deepseek-v3": (671026419200, 37552297472),
    "gemma-3-27b-it": (27009002240, 27009002240),
    "gpt-oss-120b": (116829156672, 5711982912),
    "gpt-oss-20b": (20914757184, 4187440704),
    "llama-3.1-405b.partial": (405853388800, 405853388800),
    "llama-3.1-70b": (70553706496, 70553706496),
    "llama-3.1-8b": (8030261248, 8030261248),
    "mistral-7b-v0.1": (7241732096, 7241732096),
    "mixtral-8x7b": (46702792704, 12879925248),
    "phi-3-mini-4k-instruct": (3821079552, 3821079552),
    "qwen2.5-72b-instruct": (72706203648, 72706203648),
    "qwen2.5-7b": (7615616512, 7615616512),
    "qwen3-0.6b": (596049920, 596049920),
    "qwen3-14b": (14768307200, 14768307200),
    "qwen3-30b-a3b-base": (30532122624, 3353032704),
    "qwen3-32b": (32762123264, 32762123264),
}


@pytest.mark.parametrize("stem", sorted(COUNTS_AT_010F6F0))
def test_counts_of_the_earlier_configs_are_unchanged(stem):
    _, count = imported(stem)
    assert (count.total, count.active) == COUNTS_AT_010F6F0[stem]
