"""Properties of the physics that must hold for every profile (hypothesis)."""

from __future__ import annotations

import math
from dataclasses import asdict

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.files import profile_from_toml_text, profile_to_toml
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.catalog import gpu_catalog, model_catalog
from napkinmath.core.specs.precisions import Precision

GPU_IDS = sorted(gpu_catalog())
MODEL_IDS = sorted(model_catalog())
DTYPES = [p.value for p in Precision]

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def profile_data(draw) -> dict:
    """A profile as plain data: a catalog GPU and model with random deployment and workload."""
    tensor = draw(st.sampled_from([1, 2, 4, 8]))
    pipeline = draw(st.sampled_from([1, 1, 2, 4]))
    data = draw(st.sampled_from([1, 1, 2, 8]))
    replicas = draw(st.integers(1, 4))
    max_context = draw(st.integers(1, 300_000))
    return {
        "hardware": {"gpu": draw(st.sampled_from(GPU_IDS)), "count": tensor * pipeline * data * replicas},
        "model": {"preset": draw(st.sampled_from(MODEL_IDS)), "weight_dtype": draw(st.sampled_from(DTYPES)),
                  "kv_dtype": draw(st.sampled_from(DTYPES))},
        "parallelism": {"tensor": tensor, "pipeline": pipeline, "data": data,
                        "expert": draw(st.sampled_from([1, tensor * data])), "replicas": replicas},
        "workload": {
            "max_context_tokens": max_context,
            "avg_context_tokens": draw(st.integers(1, max_context)),
            "prompt_tokens": draw(st.integers(0, 200_000)),
            "output_tokens": draw(st.integers(0, 10_000)),
            "prefix_cache_hit": draw(st.floats(0, 0.99)),
            "users": draw(st.integers(1, 100_000)),
            "duty_cycle": draw(st.floats(0.01, 1.0)),
            "target_tokens_per_s": draw(st.sampled_from([0.0, 5.0, 20.0, 60.0])),
            "ttft_target_s": draw(st.sampled_from([0.0, 1.0])),
            "concurrent_prefills": draw(st.integers(1, 32)),
        },
        "engine": {
            "gpu_memory_utilization": draw(st.floats(0.5, 1.0)),
            "block_tokens": draw(st.sampled_from([1, 16, 32, 128])),
            "mbu": draw(st.floats(0.1, 1.0)),
            "mfu": draw(st.floats(0.05, 1.0)),
            **draw(st.sampled_from([{}, {"activation_gib": 0.0, "overhead_gib": 0.0}])),
        },
    }


def valid(data: dict) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError:
        assume(False)
        raise


def with_field(data: dict, section: str, **fields) -> dict:
    return {**data, section: {**data[section], **fields}}


def assert_all_finite(value) -> None:
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for item in value.values():
            assert_all_finite(item)
    elif isinstance(value, list | tuple):
        for item in value:
            assert_all_finite(item)


@PROPERTY_SETTINGS
@given(profile_data())
def test_no_valid_profile_makes_plan_raise(data):
    result = plan(valid(data))
    assert_all_finite(asdict(result))
    assert 0 <= result.capacity.users_served <= data["workload"]["users"]
    assert result.decode.step_time > 0


@PROPERTY_SETTINGS
@given(profile_data(), st.floats(1.01, 4.0))
def test_more_memory_never_serves_fewer_users(data, factor):
    profile = valid(data)
    larger = valid(with_field(data, "hardware", memory_gib=profile.hardware.memory_gib * factor))
    assert plan(larger).capacity.users_served >= plan(profile).capacity.users_served
    assert plan(larger).capacity.capacity_users >= plan(profile).capacity.capacity_users


@PROPERTY_SETTINGS
@given(profile_data(), st.floats(1.01, 8.0))
def test_longer_context_never_serves_more_users(data, factor):
    work = data["workload"]
    longer_max = min(100_000_000, math.ceil(work["max_context_tokens"] * factor))
    longer_avg = min(longer_max, math.ceil(work["avg_context_tokens"] * factor))
    shorter, longer = valid(data), valid(with_field(data, "workload", max_context_tokens=longer_max,
                                                    avg_context_tokens=longer_avg))
    assert plan(longer).capacity.users_served <= plan(shorter).capacity.users_served


@PROPERTY_SETTINGS
@given(profile_data(), st.floats(1.01, 4.0))
def test_more_bandwidth_never_slows_decode(data, factor):
    data = with_field(data, "workload", target_tokens_per_s=0.0)  # same batch on both sides
    profile = valid(data)
    faster = valid(with_field(data, "hardware", bandwidth_tb_s=profile.hardware.bandwidth_tb_s * factor))
    slow, fast = plan(profile).decode, plan(faster).decode
    assert fast.tokens_per_s_per_user >= slow.tokens_per_s_per_user * (1 - 1e-12)
    assert fast.tokens_per_s_single_user >= slow.tokens_per_s_single_user * (1 - 1e-12)


@PROPERTY_SETTINGS
@given(profile_data())
def test_save_then_load_returns_an_equal_profile(data):
    profile = valid(data)
    assert profile_from_toml_text(profile_to_toml(profile)) == profile


@st.composite
def custom_model(draw) -> dict:
    """An arbitrary architecture: GQA or MLA, dense or MoE, with or without sliding layers."""
    layers = draw(st.integers(1, 200))
    heads = draw(st.sampled_from([1, 4, 8, 32, 64, 128]))
    params = draw(st.floats(0.05, 3000))
    model = {"params_b": params, "layers": layers, "hidden_size": draw(st.integers(64, 20_000)),
             "attention_heads": heads, "weight_dtype": draw(st.sampled_from(DTYPES)),
             "kv_dtype": draw(st.sampled_from(DTYPES))}
    if draw(st.booleans()):
        model |= {"attention": "mla", "kv_lora_rank": draw(st.integers(16, 1024)),
                  "qk_rope_head_dim": draw(st.integers(0, 128)) or 1}
    else:
        model |= {"kv_heads": draw(st.sampled_from([h for h in (1, 2, 4, 8, heads) if h <= heads])),
                  "head_dim": draw(st.integers(16, 512))}
        if draw(st.booleans()):
            model |= {"sliding_window": draw(st.integers(1, 10_000)), "sliding_window_layers": draw(st.integers(0, layers))}
    if draw(st.booleans()):
        experts = draw(st.integers(2, 512))
        model |= {"experts": experts, "experts_per_token": draw(st.integers(1, experts)),
                  "active_params_b": params * draw(st.floats(0.01, 1.0))}
        if draw(st.booleans()):
            model["expert_params_b"] = params * draw(st.floats(0.0, 0.99))
    return model


@PROPERTY_SETTINGS
@given(profile_data(), custom_model(), st.floats(1, 300), st.floats(0.1, 20))
def test_no_custom_architecture_makes_plan_raise(data, model, memory_gib, bandwidth):
    data = {**data, "model": model,
            "hardware": {"count": data["hardware"]["count"], "memory_gib": memory_gib, "bandwidth_tb_s": bandwidth,
                         "tflops": {"bf16": 100.0, "fp8": 200.0}, "interconnect_gb_s": 50.0}}
    result = plan(valid(data))
    assert_all_finite(asdict(result))
