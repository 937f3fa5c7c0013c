"""The small physics functions, one behaviour each (docs/design/physics.md)."""

from __future__ import annotations

import pytest

from napkinmath.core.physics.decode import StepModel, critical_batch, moe_fraction_touched
from napkinmath.core.physics.memory import (
    expert_params_split,
    kv_bytes_per_token_split,
    kv_heads_per_gpu,
    paged_tokens,
    sequence_kv_bytes,
    weight_bytes_per_gpu,
)
from napkinmath.core.physics.prefill import attention_flops_per_token_prefill, mean_attended_tokens
from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.specs import ModelSpec, Tflops

LLAMA_8B = ModelSpec(params_b=8.03, layers=32, hidden_size=4096, attention_heads=32, kv_heads=8, head_dim=128)


def test_kv_per_token_llama_8b_bf16_is_128_kib():
    assert kv_bytes_per_token_split(LLAMA_8B, 1, 1) == (131_072, 0)


def test_tensor_parallel_divides_kv_heads_until_one_per_rank():
    assert kv_heads_per_gpu(8, 2) == 4
    assert kv_heads_per_gpu(8, 8) == 1
    assert kv_heads_per_gpu(8, 16) == 1  # replicated, vLLM-style
    assert kv_bytes_per_token_split(LLAMA_8B, 16, 1)[0] == kv_bytes_per_token_split(LLAMA_8B, 8, 1)[0]


def test_pipeline_divides_layers():
    assert kv_bytes_per_token_split(LLAMA_8B, 1, 4)[0] == 131_072 / 4


def test_mla_latent_is_whole_on_every_tensor_rank():
    mla = ModelSpec(params_b=671, active_params_b=37, layers=61, hidden_size=7168, attention_heads=128, attention="mla",
                    kv_lora_rank=512, qk_rope_head_dim=64, kv_dtype="bf16", experts=256, experts_per_token=8)
    assert kv_bytes_per_token_split(mla, 1, 1)[0] == kv_bytes_per_token_split(mla, 8, 1)[0] == 61 * 576 * 2


def test_sliding_window_layers_hold_only_the_window():
    gemma = ModelSpec(params_b=27, layers=62, hidden_size=5376, attention_heads=32, kv_heads=16, head_dim=128,
                      sliding_window=1024, sliding_window_layers=52)
    full, sliding = kv_bytes_per_token_split(gemma, 1, 1)
    assert full == 10 * 2 * 16 * 128 * 2 and sliding == 52 * 2 * 16 * 128 * 2
    at_128k = sequence_kv_bytes(full, sliding, 131_072, 1024, 16)
    assert at_128k == full * 131_072 + sliding * 1024
    assert (full + sliding) * 131_072 / at_128k > 5  # a window-blind count over-counts ~5.7x


def test_paged_tokens_round_up_to_blocks():
    assert paged_tokens(1, 16) == 16
    assert paged_tokens(16, 16) == 16
    assert paged_tokens(25_000, 16) == 25_008


def test_moe_fraction_touched():
    assert moe_fraction_touched(1, 8, 2) == pytest.approx(0.25)
    assert moe_fraction_touched(0, 8, 2) == 0
    assert moe_fraction_touched(1000, 8, 2) == pytest.approx(1.0)
    assert moe_fraction_touched(5, 0, 0) == 0


def test_expert_split_derived_without_expert_params():
    model = ModelSpec(params_b=1000, active_params_b=32, layers=61, hidden_size=7168, attention_heads=64,
                      experts=384, experts_per_token=8)
    dense, experts = expert_params_split(model)
    assert dense + experts == pytest.approx(1000e9)
    assert dense + experts * 8 / 384 == pytest.approx(32e9)  # reproduces the active count


def test_known_expert_split_replicates_dense_weights_per_data_rank():
    model = ModelSpec(params_b=100, active_params_b=10, expert_params_b=90, layers=10, hidden_size=1024,
                      attention_heads=8, experts=64, experts_per_token=4, weight_dtype="fp8")
    dense, experts = weight_bytes_per_gpu(model, tensor=1, pipeline=1, data=8, expert=8)
    assert dense == pytest.approx(10e9)  # each attention-DP rank holds all dense weights
    assert experts == pytest.approx(90e9 / 8)


def test_unquantized_parameters_count_two_bytes_and_stay_dense():
    spec = dict(params_b=100, active_params_b=10, expert_params_b=90, layers=10, hidden_size=1024,
                attention_heads=8, experts=64, experts_per_token=4, weight_dtype="fp8")
    dense, experts = weight_bytes_per_gpu(ModelSpec(**spec, unquantized_params_b=4), tensor=2, pipeline=1, data=1, expert=1)
    assert dense == pytest.approx((6e9 * 1 + 4e9 * 2) / 2)
    assert experts == pytest.approx(90e9 / 2)
    bf16 = ModelSpec(**{**spec, "weight_dtype": "bf16"}, unquantized_params_b=4)  # nothing to keep at 16 bits
    assert weight_bytes_per_gpu(bf16, tensor=1, pipeline=1, data=1, expert=1)[0] == pytest.approx(20e9)
    with pytest.raises(ValueError, match="unquantized_params_b .* cannot exceed the parameters outside the routed"):
        ModelSpec(**spec, unquantized_params_b=11)


def test_compute_path_falls_back_to_bf16_without_native_path():
    ampere = Tflops(bf16=312, int8=624)
    assert ampere.compute_path("fp8") == "bf16"
    assert ampere.compute_path("int8") == "int8"
    assert ampere.compute_path("int4") == "bf16"
    hopper = Tflops(bf16=989, fp8=1979)
    assert hopper.compute_path("fp4") == "bf16"
    assert hopper.compute_path("fp8") == "fp8"


def test_mean_attended_tokens_under_a_window():
    assert mean_attended_tokens(1000, None) == 500
    assert mean_attended_tokens(1000, 4096) == 500
    assert mean_attended_tokens(10_000, 1000) == pytest.approx(1000 - 1000 * 1000 / 20_000)


def test_prefill_attention_flops_match_the_closed_form():
    # 2 * layers * q_heads * head_dim * prompt (physics.md)
    assert attention_flops_per_token_prefill(LLAMA_8B, 8192) == 2 * 32 * 32 * 128 * 8192


def _step(**fields) -> StepModel:
    base = dict(dense_read_s=4e-3, expert_read_s=0.0, experts=0, experts_per_token=0, tokens_per_pool_sequence=1,
                kv_read_s_per_sequence=1e-6, compute_s_per_sequence=2e-5, weight_compute_s_per_sequence=1.5e-5,
                collective_s_per_sequence=0.0)
    return StepModel(**{**base, **fields})


def test_critical_batch_dense_closed_form():
    step = _step()
    assert critical_batch(step) == pytest.approx(4e-3 / (2e-5 - 1e-6))
    assert critical_batch(step, include_kv=False) == pytest.approx(4e-3 / 1.5e-5)


def test_critical_batch_none_when_kv_traffic_outgrows_compute():
    assert critical_batch(_step(kv_read_s_per_sequence=3e-5)) is None
    assert critical_batch(_step(kv_read_s_per_sequence=3e-5, experts=64, experts_per_token=4, expert_read_s=0.02)) is None


@pytest.mark.parametrize(("experts", "k", "data"), [(8, 2, 1), (64, 4, 1), (384, 8, 8), (128, 4, 2), (8, 8, 1)])
def test_critical_batch_moe_is_the_crossing(experts, k, data):
    step = _step(expert_read_s=0.03, experts=experts, experts_per_token=k, tokens_per_pool_sequence=data)
    crossing = critical_batch(step)
    assert crossing is not None
    assert step.compute_time_s(crossing) == pytest.approx(step.memory_time_s(crossing), rel=1e-6)
    assert step.compute_time_s(crossing * 0.99) < step.memory_time_s(crossing * 0.99)


def _profile(**workload) -> Profile:
    return Profile.model_validate({
        "hardware": {"gpu": "h100-sxm"},
        "model": {"preset": "llama-3.1-8b"},
        "workload": {"max_context_tokens": 8192, "avg_context_tokens": 2048, **workload},
    })


def test_speed_target_limits_the_batch():
    relaxed = plan(_profile(users=10_000))
    strict = plan(_profile(users=10_000, target_tokens_per_s=100))
    assert strict.capacity.limited_by == "speed"
    assert strict.capacity.concurrent_sequences < relaxed.capacity.concurrent_sequences
    assert strict.decode.tokens_per_s_per_user >= 100
    assert strict.capacity.replicas_needed > relaxed.capacity.replicas_needed


def test_unreachable_speed_target_serves_nobody_and_says_why():
    result = plan(_profile(users=10, target_tokens_per_s=100_000))
    assert result.capacity.concurrent_by_speed == 0
    assert result.capacity.users_served == 0 and result.capacity.limited_by == "speed"
    assert result.decode.meets_target is False
    assert any("below the 100000 tokens/s target" in w for w in result.warnings)


def test_moe_bytes_per_token_fall_as_the_batch_grows():
    base = {"hardware": {"gpu": "h100-sxm"}, "model": {"preset": "qwen3-30b-a3b"},
            "workload": {"max_context_tokens": 4096, "avg_context_tokens": 1024, "duty_cycle": 1.0}}
    one = plan(Profile.model_validate({**base, "workload": {**base["workload"], "users": 1}}))
    many = plan(Profile.model_validate({**base, "workload": {**base["workload"], "users": 64}}))
    assert many.decode.bytes_per_step / many.decode.batch < one.decode.bytes_per_step / 4


def test_a_model_that_does_not_fit_is_still_a_plan():
    result = plan(Profile.model_validate({"hardware": {"gpu": "l4"}, "model": {"preset": "llama-3.1-70b"}}))
    assert not result.memory.fits
    assert result.capacity.users_served == 0
    assert result.cost.per_user_month is None
    assert result.warnings[0].startswith("the model does not fit")
    # 131.4 GiB of bf16 weights over ~19 GiB of room: 7 GPUs would do, but 7 does not split 64 heads
    assert "use 8 × NVIDIA L4 per replica (TP 8)" in result.warnings[0]


def test_without_expert_parallelism_tensor_ranks_shard_the_experts():
    model = ModelSpec(params_b=100, active_params_b=10, expert_params_b=90, layers=10, hidden_size=1024,
                      attention_heads=8, experts=64, experts_per_token=4, weight_dtype="fp8")
    assert weight_bytes_per_gpu(model, tensor=8, pipeline=1, data=1, expert=1) == pytest.approx((10e9 / 8, 90e9 / 8))
