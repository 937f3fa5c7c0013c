"""vLLM's start-up accounting (core/engines/vllm.py) against the numbers vLLM printed in real logs."""

from __future__ import annotations

import pytest

from napkinmath.core.engines.vllm import (
    DEFAULT_DRIVER_RESERVED_GIB,
    activation_peak_bytes,
    default_gpu_memory_utilization,
    default_sampler,
    default_scheduler_limits,
    engine_visible_bytes,
    forward_activation_bytes,
    loaded_expert_bytes,
    mxfp4_backend,
    sampler_activation_bytes,
)
from napkinmath.core.engines.vllm_pool import (
    binding_stage,
    block_tokens_for,
    kv_groups,
    pipeline_layer_split,
    pipeline_stages,
    stage_activation_bytes,
    stage_weight_bytes,
    vllm_report,
)
from napkinmath.core.physics.memory import weight_bytes_per_gpu
from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.edit import edit_profile
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.catalog import model_entry
from napkinmath.core.specs.specs import GIB, ModelSpec

LLAMA_8B = ModelSpec(params_b=8.03, layers=32, hidden_size=4096, intermediate_size=14336, vocab_size=128256,
                     attention_heads=32, kv_heads=8, head_dim=128)
QWEN3_14B = ModelSpec(params_b=14.8, layers=40, hidden_size=5120, intermediate_size=17408, vocab_size=151936,
                      attention_heads=40, kv_heads=8, head_dim=128)
STARCODER2_3B = ModelSpec(params_b=3.03, layers=30, hidden_size=3072, intermediate_size=12288, vocab_size=49152,
                          attention_heads=24, kv_heads=2, head_dim=128, sliding_window=4096, sliding_window_layers=30)
GPT_OSS_120B = ModelSpec(params_b=116.8, active_params_b=5.7, expert_params_b=114.7, layers=36, hidden_size=2880,
                         vocab_size=201088, attention_heads=64, kv_heads=8, head_dim=64, sliding_window=128,
                         sliding_window_layers=18, experts=128, experts_per_token=4, weight_dtype="mxfp4")


def report(model, available_gib, max_model_len, version, batched=8192, sequences=1024, tensor=1):
    return vllm_report(model, available_kv=available_gib * GIB, tensor=tensor, stage=pipeline_stages(model, 1)[0],
                       max_model_len=max_model_len,
                       batched_tokens=batched, sequences=sequences, block_tokens=block_tokens_for(model, None), cuda_graph_charged=0.0,
                       version=version)


def test_qwen3_14b_pool_and_concurrency_as_logged():
    # LMCache issue #1739 (vLLM ~0.11): "Available KV cache memory: 6.51 GiB", "GPU KV cache size: 42,656
    # tokens", "Maximum concurrency for 32,768 tokens per request: 1.30x"
    logged = report(QWEN3_14B, 6.51, 32768, "0.11")
    assert logged.kv_cache_tokens == 42_656
    assert logged.kv_cache_size_line == "GPU KV cache size: 42,656 tokens"
    assert logged.max_concurrency_line == "Maximum concurrency for 32,768 tokens per request: 1.30x"


def test_sliding_window_concurrency_counts_the_window_and_the_batched_tokens():
    # vLLM PR #19029, bigcode/starcoder2-3b (every layer a 4,096 window), max_model_len 16,384:
    # 2,198,512 tokens and 178.68x (blocks / (cdiv(min(4095 + 8192, 16384), 16) + 1)); 134.19x before the PR
    pool_gib = 2_198_512 // 16 * 16 * STARCODER2_3B.layers * 2 * 2 * 128 * 2 / GIB
    after = report(STARCODER2_3B, pool_gib, 16384, "0.9")
    assert after.kv_cache_tokens == 2_198_512
    assert f"{after.max_concurrency:.2f}" == "178.68"
    before = report(STARCODER2_3B, pool_gib, 16384, "0.8")
    assert f"{before.max_concurrency:.2f}" == "134.19"


def test_hybrid_allocator_pool_for_gpt_oss():
    # hf-mem issue #60: "Available KV cache memory: 5.38 GiB" -> "GPU KV cache size: 78,384 tokens"
    # (18 sliding + 18 full layers in two groups sharing one pool)
    assert kv_groups(18, 18, "0.11") == kv_groups(18, 18, "0.19")
    assert kv_groups(18, 18, "0.11").groups == 2
    # the log rounds to 0.01 GiB: 5.38 is 5.375-5.385 GiB, i.e. 9,793-9,802 blocks of 16 tokens x 18 layers
    assert report(GPT_OSS_120B, 5.3825, 131072, "0.11").kv_cache_tokens == 78_384
    assert report(GPT_OSS_120B, 5.38, 131072, "0.11").kv_cache_tokens == pytest.approx(78_384, rel=0.001)


def test_gemma3_groups_pad_the_full_layers():
    # 52 sliding + 10 full layers: groups of 10, 6 sliding groups (8 padding layers) and 1 full
    layout = kv_groups(10, 52, "0.11")
    assert (layout.group_layers, layout.full_groups, layout.sliding_groups) == (10, 1, 6)
    assert kv_groups(10, 52, "0.9").groups == 1  # before the hybrid allocator: one full-attention group


def test_newest_versions_print_tokens_from_the_concurrency():
    # from ~v0.20 "GPU KV cache size" is int(concurrency * max_model_len), not a multiple of the block
    newest = report(QWEN3_14B, 6.51, 32768, "0.30")
    assert newest.kv_cache_tokens == int(newest.max_concurrency * 32768)
    assert newest.num_blocks == report(QWEN3_14B, 6.51, 32768, "0.11").num_blocks


@pytest.mark.parametrize("tokens, logged_gib", [(20000, 17.06 - 14.99), (29000, 17.98 - 14.99)])
def test_forward_activation_peak_matches_v0_logs(tokens, logged_gib):
    # vLLM issue #10517 (V0 0.6.4, RTX 3090, Llama-3.1-8B): peak_torch_memory less the 14.99 GiB of weights
    predicted = activation_peak_bytes(LLAMA_8B, tokens, 256, 1, 1, "0.6") / GIB
    assert predicted == pytest.approx(logged_gib, rel=0.03)
    assert forward_activation_bytes(LLAMA_8B, tokens, 1) / GIB == pytest.approx(logged_gib, rel=0.03)


def test_sampler_sets_the_peak_at_short_batches():
    # PR #10511 (V0 0.6.5, H100, Llama-3-8B, 8,192 batched tokens): 1.26 GiB, above the forward pass's 0.84
    assert forward_activation_bytes(LLAMA_8B, 8192, 1) / GIB == pytest.approx(0.84, abs=0.01)
    assert activation_peak_bytes(LLAMA_8B, 8192, 256, 1, 1, "0.6") / GIB == pytest.approx(1.26, rel=0.03)


def test_scheduler_defaults_follow_the_gpu_and_usage():
    assert default_scheduler_limits("0.11", 79.2, "NVIDIA H100 80GB HBM3", "serve", 32768) == (8192, 1024)
    assert default_scheduler_limits("0.11", 79.2, "NVIDIA H100 80GB HBM3", "llm", 32768) == (16384, 1024)
    assert default_scheduler_limits("0.11", 79.2, "NVIDIA A100-SXM4-80GB", "serve", 32768) == (2048, 256)
    assert default_scheduler_limits("0.8", 79.2, "NVIDIA A100-SXM4-80GB", "serve", 32768) == (8192, 1024)
    assert default_scheduler_limits("0.11", 22.0, "NVIDIA L4", "serve", 32768) == (2048, 256)
    assert default_scheduler_limits("0.11", 79.2, "H100", "serve", 4) == (4096, 1024)  # capped at seqs * len
    assert default_scheduler_limits("0.6", 79.2, "H100", "serve", 29000) == (29000, 256)
    assert default_gpu_memory_utilization("0.20") == 0.9 and default_gpu_memory_utilization("0.21") == 0.92


def test_the_plan_carries_the_engine_lines_and_the_generic_engine_does_not():
    profile = Profile.model_validate({"hardware": {"gpu": "h100-sxm"}, "model": {"preset": "llama-3.1-8b"},
                                      "workload": {"max_context_tokens": 8192, "avg_context_tokens": 2048}})
    assert profile.engine.name == "vllm" and profile.engine.gpu_memory_utilization == 0.92  # current default
    result = plan(profile)
    assert result.engine.kv_cache_tokens == result.kv.tokens_capacity
    assert result.engine.max_model_len == 8192
    assert result.engine.cuda_graph_charged > 0
    eager = plan(edit_profile(profile, "engine.cuda_graphs", False))
    assert eager.engine.cuda_graph_charged == 0 and eager.kv.tokens_capacity > result.kv.tokens_capacity
    older = Profile.model_validate({**profile.model_dump(by_alias=True), "engine": {"version": "0.11"}})
    assert older.engine.gpu_memory_utilization == 0.9 and plan(older).engine.cuda_graph_charged == 0
    generic = plan(edit_profile(profile, "engine.name", "generic"))
    assert generic.engine is None and generic.memory.activations_source.startswith("empirical default")


@pytest.mark.parametrize("bad", ["banana", "1", "0.11.2.3", ""])
def test_a_version_that_is_not_a_release_number_is_refused_with_its_field(bad):
    from napkinmath.core.errors import ProfileError
    profile = Profile.model_validate({"hardware": {"gpu": "l4"}, "model": {"preset": "llama-3.1-8b"}})
    with pytest.raises(ProfileError, match="engine.version"):
        edit_profile(profile, "engine.version", bad)


@pytest.mark.parametrize(("layers", "pipeline", "split"), [
    (27, 2, [14, 13]), (22, 4, [5, 6, 6, 5]), (61, 4, [15, 15, 16, 15]), (32, 4, [8, 8, 8, 8]), (5, 3, [2, 2, 1])])
def test_pipeline_layers_split_as_vllm_does(layers, pipeline, split):
    # vllm/distributed/utils.py get_pp_indices: the remainder goes to the stages before the last
    assert pipeline_layer_split(layers, pipeline) == split


def test_pipeline_stages_hold_their_layers_and_the_ends_hold_embedding_and_head():
    stages = pipeline_stages(GPT_OSS_120B, 4)
    assert [s.layers for s in stages] == [9, 9, 9, 9] and sum(s.sliding_layers for s in stages) == 18
    assert [(s.first, s.last) for s in stages] == [(True, False), (False, False), (False, False), (False, True)]
    whole, vocab = 80e9, 2e9
    weights = [stage_weight_bytes(s, GPT_OSS_120B, whole, vocab) for s in stages]
    assert sum(weights) == pytest.approx(whole)
    assert weights[0] == weights[-1] > weights[1] == weights[2]
    single = pipeline_stages(GPT_OSS_120B, 1)[0]
    assert stage_weight_bytes(single, GPT_OSS_120B, whole, vocab) == whole


def test_only_the_last_pipeline_stage_runs_the_sampler():
    stages = pipeline_stages(LLAMA_8B, 2)
    first, last = (stage_activation_bytes(s, LLAMA_8B, 2048, 256, 1, 1, "0.12") for s in stages)
    assert first == forward_activation_bytes(LLAMA_8B, 2048, 1)
    assert last == activation_peak_bytes(LLAMA_8B, 2048, 256, 1, 1, "0.12") > first


def test_the_stage_with_fewest_blocks_binds():
    # Llama-3.1-8B over 2 stages: equal layers, so the last stage (head and sampler) has the least room
    weights = sum(weight_bytes_per_gpu(LLAMA_8B, 1, 1, 1, 1))
    binding = binding_stage(LLAMA_8B, usable=20 * GIB, overhead=0.3 * GIB, weights_per_rank=weights, tensor=1,
                            pipeline=2, expert=1, batched_tokens=2048, sequences=256, version="0.12", block_tokens=16)
    assert binding.stage.last
    pinned = binding_stage(LLAMA_8B, usable=20 * GIB, overhead=0.3 * GIB, weights_per_rank=weights, tensor=1,
                           pipeline=2, expert=1, batched_tokens=2048, sequences=256, version="0.12", block_tokens=16,
                           activations=1 * GIB)
    assert pinned.activations == 1 * GIB


def test_mla_page_size_follows_the_kernel_the_gpu_runs():
    mla = ModelSpec(params_b=16, layers=27, hidden_size=2048, attention_heads=16, attention="mla", kv_lora_rank=512,
                    qk_rope_head_dim=64)
    assert block_tokens_for(mla, None, "NVIDIA H100 80GB HBM3", "hopper") == 64  # FlashMLA
    assert block_tokens_for(mla, None, "NVIDIA B200", "blackwell") == 64
    assert block_tokens_for(mla, None, "NVIDIA GeForce RTX 5090", "blackwell") == 16
    assert block_tokens_for(mla, None, "NVIDIA L4", "ada") == 16  # Triton MLA
    assert block_tokens_for(mla, 32, "NVIDIA H100 80GB HBM3", "hopper") == 32  # the profile's wins
    assert block_tokens_for(LLAMA_8B, None, "NVIDIA H100 80GB HBM3", "hopper") == 16


@pytest.mark.parametrize(("preset", "tensor", "architecture", "version", "logged_gib"), [
    ("gpt-oss-120b", 1, "hopper", "0.10.1", 65.9651),  # vLLM issue #23278: Marlin (torch 2.7 pin)
    ("gpt-oss-120b", 2, "ampere", "0.12.0", 34.38),  # blackfish issue #162, per rank
    ("gpt-oss-20b", 1, "ampere", "0.19.0", 13.72),  # myoceane.fr, vLLM 0.19.0 on an A100
])
def test_mxfp4_weights_as_loaded_match_the_logs(preset, tensor, architecture, version, logged_gib):
    model = ModelSpec.model_validate(model_entry(preset))
    dense, experts = weight_bytes_per_gpu(model, tensor, 1, 1, 1)
    loaded = loaded_expert_bytes(model, tensor, 1, version, architecture)
    assert loaded > experts  # the padding
    assert (dense + loaded) / GIB == pytest.approx(logged_gib, abs=0.1)


def test_mxfp4_layout_by_gpu_and_version():
    model = ModelSpec.model_validate(model_entry("gpt-oss-120b"))
    assert mxfp4_backend("hopper", "0.11") == "marlin" and mxfp4_backend("hopper", "0.12") == "triton"
    assert mxfp4_backend("ampere", "0.19") == "marlin" and mxfp4_backend("cdna3", "0.19") is None
    triton = loaded_expert_bytes(model, 1, 1, "0.12", "hopper")
    marlin = loaded_expert_bytes(model, 1, 1, "0.11", "hopper")
    assert triton < marlin  # Triton pads the width to 64 and leaves the hidden size alone
    assert loaded_expert_bytes(model, 1, 1, "0.12", "cdna3") is None
    assert loaded_expert_bytes(LLAMA_8B, 1, 1, "0.12", "hopper") is None


def test_sampler_pass_bytes_by_kernel_and_version():
    rows, vocab = 256, GPT_OSS_120B.vocab_size
    assert sampler_activation_bytes(GPT_OSS_120B, rows, "0.12") == rows * vocab * 38  # native sort from 0.11.1
    assert sampler_activation_bytes(GPT_OSS_120B, rows, "0.12", "flashinfer") == rows * vocab * 14
    assert default_sampler("0.12") == "native" and default_sampler("0.19") == default_sampler("0.30") == "flashinfer"
    assert sampler_activation_bytes(GPT_OSS_120B, rows, "0.6") == rows * vocab * 41  # V0 builds logprobs too
    # blackfish issue #162: 0.69 GiB logged for gpt-oss-120b at TP2 on A100s (256 rows), the FlashInfer pass
    peak = activation_peak_bytes(GPT_OSS_120B, 2048, 256, 2, 1, "0.12", "flashinfer")
    assert peak / GIB == pytest.approx(0.69, abs=0.03)


def test_the_driver_keeps_memory_from_cuda_per_gpu():
    h100 = Profile.model_validate({"hardware": {"gpu": "h100-sxm"}, "model": {"preset": "llama-3.1-8b"},
                                   "engine": {"version": "0.12"}})
    assert h100.hardware.driver_reserved_gib == pytest.approx(0.43)
    assert plan(h100).memory.per_gpu.usable == pytest.approx((79.647 - 0.43) * 0.9 * GIB)
    a100 = edit_profile(h100, "hardware.gpu", "a100-80gb")
    assert plan(a100).memory.per_gpu.usable == pytest.approx((80 - 0.75) * 0.9 * GIB)
    assert engine_visible_bytes(24.0) == pytest.approx((24.0 - DEFAULT_DRIVER_RESERVED_GIB) * GIB)


def test_a_bad_sampler_is_refused_with_its_field():
    from napkinmath.core.errors import ProfileError
    profile = Profile.model_validate({"hardware": {"gpu": "l4"}, "model": {"preset": "llama-3.1-8b"}})
    with pytest.raises(ProfileError, match="engine.sampler"):
        edit_profile(profile, "engine.sampler", "fastest")
    assert plan(edit_profile(profile, "engine.sampler", "flashinfer")).memory.per_gpu.activations < \
        plan(edit_profile(profile, "engine.sampler", "native")).memory.per_gpu.activations
