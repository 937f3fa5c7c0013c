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
    (79.647, 1, 1, round(1 - 13_440 / 81_559, 3)),  # H100, 81,559 MiB: 512 + 1.5 x 8,192 + 2 x 256 + 1,024 / 8
    (79.647, 8, 1, round(1 - 14_848 / 81_559, 3)),  # 512 + 12,288 + 2 x 512 + 1,024
    (140.401, 1, 8, round(1 - 33_280 / 143_771, 3)),  # H200, DP attention 8: + 3 x 512 x 8 + 1.5 x 512 x 8
    (179.062, 8, 1, round(1 - 27_136 / 183_359, 3)),  # B200: 512 + 1.5 x 16,384 + 2 x 512 + 1,024
    (40.0, 1, 1, round(1 - 6_848 / 40_960, 3)),  # 40 GiB: 512 + 1.5 x 4,096 + 2 x 32 + 128, under the 60 GiB floor
    (24.0, 1, 1, round(1 - 3_760 / 24_576, 3)),  # 24 GiB: 512 + 1.5 x 2,048 + 2 x 24 + 128
])
def test_sglang_mem_fraction_static_default_follows_server_args(memory_gib, tensor, data, expected):
    """sgl-project/sglang server_args.py ``_handle_gpu_memory_settings`` since 0.5.3 (PR #10975): reserve in MiB
    512 + 1.5 x chunked_prefill_size + 2 x cuda_graph_max_bs + 1,024 x tp x pp / 8 (+ DP-attention terms), at
    least 10 GiB above 60 GiB; fraction = (memory - reserve) / memory, to 3 places."""
    assert default_mem_fraction_static(memory_gib, tensor, 1, data) == pytest.approx(expected)


@pytest.mark.parametrize(("memory_gib", "tensor", "data", "expected"), [
    (79.647, 8, 1, round((79.647 - 13.5) / 79.647, 3)),  # H100: 9.5 + 8/2 GiB reserved
    (139.8, 8, 1, round((139.8 - 16) / 139.8, 3)),  # H200: 12 + 8/2
    (179.062, 8, 1, round((179.062 - 32) / 179.062, 3)),  # B200: 32
    (139.8, 1, 8, round((139.8 - 16.5) / 139.8, 3)),  # data-parallel attention: 4 more
])
def test_sglang_before_0_5_3_reserved_a_fixed_share(memory_gib, tensor, data, expected):
    """Before 0.5.3: (9.5 | 12) + tp*pp/2 GiB below 90 | 160 GiB, 32 GiB above, 4 GiB more with DP attention."""
    assert default_mem_fraction_static(memory_gib, tensor, 1, data, "0.5.2") == pytest.approx(expected)


def test_sglang_default_fraction_is_within_the_piecewise_graphs_of_a_measured_one():
    """SGLang issue #29092 (2026-06): mem_fraction_static 0.828 measured on an H100 serving Qwen3-32B. The planner
    leaves out the piecewise CUDA graphs' 8 MiB per captured size (74 sizes up to 8,192 tokens: 592 MiB, 0.007 of
    the fraction), which that release reserves (core/engines/sglang.py)."""
    profile = Profile.model_validate({"hardware": {"gpu": "h100-sxm", "count": 1}, "model": {"preset": "qwen3-32b"},
                                      "engine": {"name": "sglang"}})
    assert profile.engine.gpu_memory_utilization == pytest.approx(0.828, abs=0.0075)  # 0.835 here


def test_sglang_chunked_prefill_default_by_gpu_memory():
    assert default_chunked_prefill_size(24, 1) == 2048
    assert default_chunked_prefill_size(40, 1) == 4096  # from 0.5.3 (8,192 before)
    assert default_chunked_prefill_size(40, 1, "0.5.2") == 8192
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
