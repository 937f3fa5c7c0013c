"""The shipped catalogs: required entries, sources, and counts against published figures."""

from __future__ import annotations

import pytest

from napkinmath.core.physics.memory import kv_bytes_per_token_split
from napkinmath.core.specs.catalog import gpu_catalog, model_catalog

REQUIRED_GPUS = {"a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie", "h200", "b200", "gb200", "l40s", "l4", "rtx-4090",
                 "rtx-5090", "mi300x", "mi325x", "mi355x"}
REQUIRED_MODELS = {"dense-32b", "kimi-k2", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "qwen3-32b",
                   "qwen3-30b-a3b", "mixtral-8x7b", "deepseek-v3", "gpt-oss-120b", "gemma-3-27b"}


def test_required_gpus_present_with_sources_and_prices():
    catalog = gpu_catalog()
    assert REQUIRED_GPUS <= set(catalog)
    for gpu_id, spec in catalog.items():
        assert spec.source, gpu_id
        assert spec.memory_reported, gpu_id
        assert "assumption" in spec.price_note.lower(), gpu_id
        assert spec.price_per_gpu_hour > 0 and spec.tdp_w > 0 and spec.interconnect_gb_s > 0, gpu_id


def test_low_precision_paths_follow_the_architecture():
    catalog = gpu_catalog()
    assert catalog["a100-80gb"].tflops.fp8 is None
    assert catalog["h100-sxm"].tflops.fp8 and catalog["h100-sxm"].tflops.fp4 is None
    assert catalog["b200"].tflops.fp4 and catalog["mi355x"].tflops.fp4
    assert catalog["mi300x"].tflops.fp8 and catalog["mi300x"].tflops.fp4 is None


def test_driver_memory_is_below_the_marketing_figure():
    catalog = gpu_catalog()
    assert catalog["h100-sxm"].memory_gib == pytest.approx(81559 / 1024, abs=1e-3)
    assert catalog["h200"].memory_gib == pytest.approx(143771 / 1024, abs=1e-3)


def test_required_models_present_with_sources():
    catalog = model_catalog()
    assert REQUIRED_MODELS <= set(catalog)
    for model_id, spec in catalog.items():
        assert spec.source, model_id


@pytest.mark.parametrize("model_id", ["llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "qwen3-32b", "qwen3-30b-a3b",
                                      "mixtral-8x7b", "deepseek-v3", "gpt-oss-120b", "gemma-3-27b"])
def test_parameter_counts_within_half_a_percent_of_published(model_id):
    spec = model_catalog()[model_id]
    assert spec.params_b == pytest.approx(spec.published_params_b, rel=0.005)


@pytest.mark.parametrize(("model_id", "bytes_per_token"), [
    ("llama-3.1-8b", 32 * 2 * 8 * 128 * 2),       # 128 KiB
    ("llama-3.1-70b", 80 * 2 * 8 * 128 * 2),      # 320 KiB
    ("qwen3-32b", 64 * 2 * 8 * 128 * 2),
    ("deepseek-v3", 61 * (512 + 64) * 2),         # MLA latent, bf16
    ("mixtral-8x7b", 32 * 2 * 8 * 128 * 2),
])
def test_kv_bytes_per_token_of_presets(model_id, bytes_per_token):
    full, sliding = kv_bytes_per_token_split(model_catalog()[model_id], 1, 1)
    assert full + sliding == bytes_per_token


def test_sliding_window_presets():
    catalog = model_catalog()
    assert (catalog["gemma-3-27b"].sliding_window, catalog["gemma-3-27b"].sliding_window_layers) == (1024, 52)
    assert (catalog["gpt-oss-120b"].sliding_window, catalog["gpt-oss-120b"].sliding_window_layers) == (128, 18)


MODELS_2026 = {"qwen3.5-27b", "qwen3.5-35b-a3b", "qwen3.6-35b-a3b", "qwen3.5-122b-a10b", "nemotron-3-nano-30b-a3b",
               "nemotron-3-super-120b-a12b", "llama-4-scout", "llama-4-maverick", "gemma-4-31b", "glm-5",
               "minimax-m2.5", "kimi-k2.5", "deepseek-v3.2"}


@pytest.mark.parametrize("model_id", sorted(MODELS_2026))
def test_2026_presets_have_sources_hub_repos_and_counts_near_the_published(model_id):
    from napkinmath.core.specs.catalog import model_hub_repos

    spec = model_catalog()[model_id]
    assert spec.source and model_id in model_hub_repos()
    assert spec.params_b == pytest.approx(spec.published_params_b, rel=0.05)


def test_2026_hybrid_presets_keep_kv_on_attention_layers_only():
    catalog = model_catalog()
    qwen = catalog["qwen3.5-27b"]
    assert sum(kv_bytes_per_token_split(qwen, 1, 1)) == 16 * 2 * 4 * 256 * 2
    assert qwen.state_layers == 48 and qwen.state_bytes_per_layer == 3_207_168
    nano = catalog["nemotron-3-nano-30b-a3b"]
    assert sum(kv_bytes_per_token_split(nano, 1, 1)) == 6 * 2 * 2 * 128 * 2 and nano.state_layers == 23


def test_blackwell_ultra_gpus_beside_gb200():
    catalog = gpu_catalog()
    assert {"gb200", "b300", "gb300"} <= set(catalog)
    assert catalog["b300"].memory_gib == pytest.approx(275040 / 1024, abs=1e-3)
    assert catalog["gb300"].memory_gib == pytest.approx(284208 / 1024, abs=1e-3)
    for gpu_id in ("b300", "gb300"):  # Blackwell Ultra: more FP4 than B200/GB200, INT8 cut back
        assert catalog[gpu_id].tflops.fp4 > catalog["gb200"].tflops.fp4
        assert catalog[gpu_id].tflops.int8 < catalog["b200"].tflops.int8
