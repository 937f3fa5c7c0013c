"""Hybrid models in the plan: per-sequence state in the pool, the plan JSON and vLLM's start-up lines."""

from __future__ import annotations

from math import floor

import pytest
from independent_counts import CONFIGS

from napkinmath.core.engines.vllm_pool import pipeline_stages, vllm_report
from napkinmath.core.plan.compose import plan
from napkinmath.core.plan.json_view import plan_to_dict
from napkinmath.core.profile.schema import Profile
from napkinmath.core.sources.hf_config import model_from_config
from napkinmath.core.specs.catalog import gpu_entry
from napkinmath.core.specs.specs import ModelSpec


def qwen35(**update) -> dict:
    model, _ = model_from_config(CONFIGS / "Qwen--Qwen3.5-27B.json")
    return {**model, "weight_dtype": "fp8", **update}


def profile(model: dict, engine: str = "vllm", users: int = 1000, tensor: int = 1) -> Profile:
    gpu = {key: value for key, value in gpu_entry("h200").items() if key != "detect"}
    return Profile.model_validate({
        "name": "hybrid", "hardware": {**gpu, "count": tensor}, "model": model,
        "parallelism": {"tensor": tensor},
        "workload": {"max_context_tokens": 32768, "avg_context_tokens": 8192, "users": users},
        "engine": {"name": engine, "version": "0.30"} if engine == "vllm" else {"name": engine},
    })


@pytest.mark.parametrize("engine", ["vllm", "generic"])
def test_sequences_per_pool_count_kv_and_state(engine):
    result = plan(profile(qwen35(), engine))
    state = 48 * 3_207_168
    assert result.kv.state_bytes_per_sequence == state
    assert result.kv.bytes_per_sequence_avg_context > state
    assert result.capacity.concurrent_by_memory == floor(result.memory.per_gpu.kv_budget
                                                         / result.kv.bytes_per_sequence_avg_context + 1e-9)
    data = plan_to_dict(result)
    assert data["kv"]["state_bytes_per_sequence"] == state
    assert 0 < data["memory"]["per_gpu"]["state_used"] < data["memory"]["per_gpu"]["kv_used"]
    assert any("state per sequence" in note for note in result.notes)


def test_counting_every_layer_as_attention_serves_far_fewer_users():
    right = plan(profile(qwen35(), "generic", users=100_000))
    every_layer = plan(profile(qwen35(state_layers=0, state_bytes_per_layer=0), "generic", users=100_000))
    assert right.kv.bytes_per_token * 4 == every_layer.kv.bytes_per_token
    assert right.capacity.users_served > 2 * every_layer.capacity.users_served


def test_vllm_lines_as_logged_for_qwen35_27b_on_h200():
    # A public vLLM server log in the code index (id 68353222501; the repository is not named by the index):
    # Qwen3.5-27B FP8 on one H200, mamba cache mode "align", max_num_batched_tokens 8192: "Setting attention
    # block size to 784 tokens", "GPU KV cache size: 1,400,832 tokens, Maximum concurrency for 32,768 tokens
    # per request: 42.75x". 16 attention + 48 GDN layers: groups of 16 (1 attention, 3 state), 784-token
    # pages of 4,096 B per token: a block is 16 x 784 x 4,096 B; 42.75 x (42 + 3 x 2) = 2,052 blocks.
    model = ModelSpec.model_validate(qwen35())
    stage = pipeline_stages(model, 1)[0]
    block_bytes = 16 * 784 * 4096
    for available in (2052 * block_bytes, 2053 * block_bytes - 1):
        report = vllm_report(model, available_kv=available, tensor=1, stage=stage, max_model_len=32768,
                             batched_tokens=8192, sequences=1024, block_tokens=16, cuda_graph_charged=0.0,
                             version="0.30")
        assert report.block_tokens == 784 and report.groups == 4
        assert report.kv_cache_size_line == "GPU KV cache size: 1,400,832 tokens"
        assert report.max_concurrency_line == "Maximum concurrency for 32,768 tokens per request: 42.75x"


def test_state_takes_one_page_per_request_without_prefix_caching():
    model = ModelSpec.model_validate(qwen35())
    stage = pipeline_stages(model, 1)[0]
    report = vllm_report(model, available_kv=2052 * 16 * 784 * 4096, tensor=1, stage=stage, max_model_len=32768,
                         batched_tokens=8192, sequences=1024, block_tokens=16, cuda_graph_charged=0.0,
                         version="0.26")
    assert report.blocks_per_request == 42 + 3 and report.max_concurrency == pytest.approx(2052 / 45)


def test_gemma4_pages_unify_by_block():
    model = ModelSpec.model_validate(model_from_config(CONFIGS / "nvidia--Gemma-4-31B-IT-NVFP4.json")[0])
    stage = pipeline_stages(model, 1)[0]
    report = vllm_report(model, available_kv=80e9, tensor=1, stage=stage, max_model_len=32768, batched_tokens=8192,
                         sequences=1024, block_tokens=16, cuda_graph_charged=0.0, version="0.30")
    # sliding pages (16 x 16 heads x 256 x 2 x 2 B) are twice the full ones (4 heads x 512): full layers get
    # 32-token blocks; 10 full and 50 sliding layers form groups of 10 (1 full, 5 sliding)
    assert report.page_bytes == 16 * 2 * 16 * 256 * 2 and report.groups == 6 and report.group_layers == 10
    per_request = 32768 // 32 + 5 * (-(-(1023 + 8192) // 16) + 1)
    assert report.blocks_per_request == per_request


def test_the_vision_tower_is_held_but_not_read_per_decode_step():
    with_tower = plan(profile(qwen35(), "generic", users=1))
    without = plan(profile(qwen35(vision_params_b=None), "generic", users=1))
    tower = 0.4607 * 1e9 * 2  # Qwen3.5-27B's tower at 16 bits
    assert with_tower.memory.per_gpu.weights - without.memory.per_gpu.weights == pytest.approx(tower, rel=1e-3)
    assert with_tower.decode.batch == without.decode.batch == 1
    assert with_tower.decode.bytes_per_step == without.decode.bytes_per_step
