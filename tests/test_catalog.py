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
