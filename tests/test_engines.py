"""SGLang and TensorRT-LLM: defaults and memory accounting as their sources show (core/engines/)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from napkinmath.core.engines.sglang import default_chunked_prefill_size, default_mem_fraction_static
from napkinmath.core.plan.compose import plan
from napkinmath.core.plan.performance import engine_performance
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.specs import GIB


def _profile(engine: dict, gpu: str = "h200", tensor: int = 8, **model) -> Profile:
    return Profile.model_validate({"hardware": {"gpu": gpu, "count": tensor}, "parallelism": {"tensor": tensor},
                                   "model": {"preset": "llama-3.1-70b", **model}, "engine": engine})


@pytest.mark.parametrize(("memory_gib", "tensor", "data", "expected"), [
    (79.647, 8, 1, round((79.647 - 13.5) / 79.647, 3)),  # H100: 9.5 + 8/2 GiB reserved
    (139.8, 8, 1, round((139.8 - 16) / 139.8, 3)),  # H200: 12 + 8/2
    (179.062, 8, 1, round((179.062 - 32) / 179.062, 3)),  # B200: 32
    (139.8, 1, 8, round((139.8 - 16.5) / 139.8, 3)),  # data-parallel attention: 4 more
])
def test_sglang_mem_fraction_static_default_follows_server_args(memory_gib, tensor, data, expected):
    """sgl-project/sglang server_args.py ``_handle_gpu_memory_settings``: reserve (9.5 | 12) + tp*pp/2 GiB
    below 90 | 160 GiB, 32 GiB above, 4 GiB more with DP attention; fraction = (memory - reserve) / memory."""
    assert default_mem_fraction_static(memory_gib, tensor, 1, data) == pytest.approx(expected)


def test_sglang_chunked_prefill_default_by_gpu_memory():
    assert default_chunked_prefill_size(24, 1) == 2048
    assert default_chunked_prefill_size(79.6, 1) == 8192
    assert default_chunked_prefill_size(139.8, 1) == 8192
    assert default_chunked_prefill_size(179.1, 1) == 16384
    assert default_chunked_prefill_size(179.1, 8) == 2048  # divided over data-parallel attention ranks


def test_sglang_pool_is_its_fraction_of_the_gpu_less_the_weights():
    profile = _profile({"name": "sglang"}, weight_dtype="fp8")
    result = plan(profile)
    fraction = profile.engine.gpu_memory_utilization
    assert fraction == pytest.approx(default_mem_fraction_static(profile.hardware.memory_gib, 8, 1, 1))
    expected = profile.hardware.memory_gib * GIB * fraction - result.memory.per_gpu.weights
    assert result.memory.per_gpu.kv_budget == pytest.approx(expected)


def test_trtllm_pool_is_its_fraction_of_what_is_free_after_weights_and_buffers():
    profile = _profile({"name": "trtllm"}, weight_dtype="fp8")
    per_gpu = plan(profile).memory.per_gpu
    free = per_gpu.total - per_gpu.weights - per_gpu.activations - per_gpu.overhead
    assert profile.engine.gpu_memory_utilization == 0.9  # trtllm-serve --kv_cache_free_gpu_memory_fraction
    assert per_gpu.kv_budget == pytest.approx(0.9 * free)


def test_trtllm_defaults_to_an_fp8_kv_cache_for_fp8_or_fp4_weights_only():
    assert _profile({"name": "trtllm"}, weight_dtype="fp8").model.kv_dtype == "fp8"
    assert _profile({"name": "trtllm"}, weight_dtype="nvfp4", gpu="b200").model.kv_dtype == "fp8"
    assert _profile({"name": "trtllm"}).model.kv_dtype == "bf16"
    assert _profile({"name": "vllm"}, weight_dtype="fp8").model.kv_dtype == "bf16"
    assert _profile({"name": "trtllm"}, weight_dtype="fp8", kv_dtype="bf16").model.kv_dtype == "bf16"  # stated


def test_each_engine_brings_its_scheduler():
    vllm, sglang, trtllm = (engine_performance(_profile({"name": name}, weight_dtype="fp8")).limits
                            for name in ("vllm", "sglang", "trtllm"))
    assert (vllm.max_num_batched_tokens, vllm.max_num_seqs, vllm.chunked_prefill, vllm.mixed_batches) == (
        8192, 1024, True, True)
    assert (sglang.max_num_batched_tokens, sglang.chunked_prefill, sglang.mixed_batches) == (8192, True, False)
    assert (trtllm.max_num_batched_tokens, trtllm.max_num_seqs, trtllm.chunked_prefill, trtllm.mixed_batches) == (
        8192, 2048, False, True)


@pytest.mark.parametrize(("name", "version", "accepted"), [
    ("sglang", "0.5.6.post2", True), ("sglang", "1.2.0rc6", False), ("trtllm", "1.2.0rc6.post2", True),
    ("trtllm", "0.8.1.post1", True), ("vllm", "0.11.2", True), ("vllm", "1.2.0rc6", False),
    ("trtllm", "nightly", False),
])
def test_versions_follow_each_engines_numbering(name, version, accepted):
    if accepted:
        assert _profile({"name": name, "version": version}).engine.version == version
    else:
        with pytest.raises(ValidationError, match="release number"):
            _profile({"name": name, "version": version})


def test_an_engine_name_outside_the_list_is_refused():
    with pytest.raises(ValidationError, match="vllm"):
        _profile({"name": "llama.cpp"})
