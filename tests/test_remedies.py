"""Plans that cannot run say so, and every remedy they name is a shape or a context that runs when planned again."""

from __future__ import annotations

import re

import pytest
from conftest import shipped

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.edit import edit_profile
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.catalog import gpu_catalog, model_catalog


def _profile(gpu: str, model: str, count: int = 1, tensor: int = 1, **workload) -> Profile:
    return Profile.model_validate({"hardware": {"gpu": gpu, "count": count}, "model": {"preset": model},
                                   "parallelism": {"tensor": tensor}, "workload": workload})


def _errors(result) -> list[str]:
    return [problem.message for problem in result.problems if problem.severity == "error"]


def _shape(message: str) -> tuple[int, int] | None:
    match = re.search(r"\(TP (\d+)(?: × PP (\d+))?\)", message)
    return (int(match.group(1)), int(match.group(2) or 1)) if match else None


def _reshaped(profile: Profile, tensor: int, pipeline: int) -> Profile:
    data = profile.model_dump(by_alias=True)
    data["parallelism"] = {**data["parallelism"], "tensor": tensor, "pipeline": pipeline, "replicas": 1}
    data["hardware"]["count"] = tensor * pipeline * profile.parallelism.data
    return Profile.model_validate(data)


def test_llama_70b_bf16_on_two_h100s_at_32k_will_not_start_and_says_what_would():
    """The issue's example: vLLM's pool holds ~17k tokens, less than one 32,768-token request."""
    profile = _profile("h100-sxm", "llama-3.1-70b", count=2, tensor=2, max_context_tokens=32_768,
                       avg_context_tokens=8_192)
    result = plan(profile)
    assert result.memory.fits and not result.runs
    [error] = _errors(result)
    assert "refuses to start" in error and "32,768-token request" in error
    assert result.decode.meets_target is None and result.prefill.meets_target is None
    assert result.capacity.users_served == 0 and result.capacity.limited_by == "engine"
    longest = result.kv.longest_context_that_fits
    assert 8_192 < longest < 32_768 and f"at most {longest:,} tokens" in error
    assert plan(edit_profile(profile, "workload.max_context_tokens", longest)).runs
    assert not plan(edit_profile(profile, "workload.max_context_tokens", longest + 2_048)).runs
    tensor, pipeline = _shape(error)
    shape = result.memory.shape_to_start  # the remedy is the plan's data; the message words it
    assert shape is not None and (shape.tensor, shape.pipeline) == (tensor, pipeline)
    assert shape.gpus_per_replica == tensor * pipeline and result.memory.gpus_needed_per_replica is None
    reshaped = plan(_reshaped(profile, tensor, pipeline))
    assert reshaped.runs and reshaped.memory.shape_to_start is None


def test_a_plan_that_will_not_start_with_data_ranks_counts_them_in_the_shape():
    """GPUs per replica are tensor x pipeline x data (as ``gpus_needed_per_replica`` counts them)."""
    profile = Profile.model_validate({"hardware": {"gpu": "h100-sxm", "count": 4}, "model": {"preset": "llama-3.1-70b"},
                                      "parallelism": {"tensor": 2, "data": 2},
                                      "workload": {"max_context_tokens": 32_768, "avg_context_tokens": 8_192}})
    result = plan(profile)
    shape = result.memory.shape_to_start
    assert result.memory.fits and not result.runs and shape is not None
    assert shape.gpus_per_replica == shape.tensor * shape.pipeline * 2
    reshaped = plan(_reshaped(profile, shape.tensor, shape.pipeline))
    assert reshaped.runs and reshaped.gpus == shape.gpus_per_replica
    # the problem message counts the same GPUs and names the data ranks (it said TP x PP GPUs, "now 4")
    split = f"TP {shape.tensor}" + (f" × PP {shape.pipeline}" if shape.pipeline > 1 else "") + " × DP 2"
    assert f"use {shape.gpus_per_replica} × {profile.hardware.name} per replica ({split})" in " ".join(result.warnings)


def test_deepseek_v3_on_two_h100s_shows_no_speed_check_and_a_shape_that_exists():
    profile = _profile("h100-sxm", "deepseek-v3", count=2, tensor=2, target_tokens_per_s=10, ttft_target_s=5)
    result = plan(profile)
    assert not result.memory.fits and not result.runs
    assert result.capacity.limited_by == "weights"
    assert result.decode.meets_target is None and result.prefill.meets_target is None
    assert result.cost.per_user_month is None
    tensor, pipeline = result.memory.tensor_needed, result.memory.pipeline_needed
    assert tensor is not None and pipeline is not None and 128 % tensor == 0  # 128 heads split evenly
    assert f"TP {tensor}" in _errors(result)[0]
    assert plan(_reshaped(profile, tensor, pipeline)).memory.fits


def test_a_tensor_size_that_does_not_split_the_heads_is_refused_with_the_sizes_that_do():
    result = plan(_profile("h100-sxm", "llama-3.1-70b", count=3, tensor=3))
    errors = _errors(result)
    assert not result.runs
    assert any("does not divide the 64 attention heads" in e and "1, 2, 4, 8" not in e and "2, 4, 8" in e for e in errors)


@pytest.mark.parametrize(("gpu", "model", "field", "value", "text"), [
    ("h100-sxm", "llama-3.1-8b", "model.kv_dtype", "fp4", "not fp4"),
    ("h100-sxm", "llama-3.1-8b", "model.kv_dtype", "int8", "not int8"),
    ("mi355x", "llama-3.1-8b", "model.weight_dtype", "nvfp4", "NVIDIA GPUs only"),
])
def test_formats_the_engine_refuses_are_errors(gpu, model, field, value, text):
    result = plan(edit_profile(_profile(gpu, model), field, value))
    assert not result.runs and any(text in e for e in _errors(result))


def test_a_plan_that_runs_has_no_error_and_keeps_its_checks():
    result = plan(_profile("h100-sxm", "llama-3.1-8b", target_tokens_per_s=10))
    assert result.runs and not _errors(result) and result.decode.meets_target is True


@pytest.mark.parametrize("gpu", ["l4", "h100-sxm", "mi300x"])
def test_every_catalog_model_that_does_not_fit_names_a_shape_that_does(gpu):
    """The remedy is estimated from the plan's own figures; planning it again must confirm it."""
    checked = 0
    for model in model_catalog():
        profile = _profile(gpu, model, max_context_tokens=8_192, avg_context_tokens=4_096)
        result = plan(profile)
        if result.memory.fits or result.memory.tensor_needed is None:
            continue
        fixed = plan(_reshaped(profile, result.memory.tensor_needed, result.memory.pipeline_needed))
        assert fixed.memory.fits and fixed.runs, (gpu, model, result.memory.tensor_needed)
        checked += 1
    assert checked >= 3 or gpu == "mi300x"
    assert gpu in gpu_catalog()


@pytest.mark.parametrize("gpu", ["l4", "h100-sxm", "mi300x"])
def test_every_catalog_model_that_will_not_start_carries_a_shape_that_runs(gpu):
    """The weights fit but one long request does not: the plan carries the shape that would hold it
    (``memory.shape_to_start``), and planning that shape again starts. Plans that run, and plans whose
    weights do not fit, carry none."""
    checked = 0
    for model in model_catalog():
        for context in (131_072, 1_048_576):
            profile = _profile(gpu, model, max_context_tokens=context, avg_context_tokens=4_096)
            result = plan(profile)
            shape = result.memory.shape_to_start
            wont_start = result.memory.fits and result.capacity.max_sequences_full_context == 0
            if not wont_start:
                assert shape is None, (gpu, model, context)
                continue
            assert not result.runs and shape is not None, (gpu, model, context)
            assert f"(TP {shape.tensor}" in _errors(result)[-1]
            fixed = plan(_reshaped(profile, shape.tensor, shape.pipeline))
            assert fixed.runs and fixed.memory.shape_to_start is None, (gpu, model, context, shape)
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize(("version", "text"), [("0.99", "newer than"), ("0.4.2", "older than")])
def test_a_vllm_release_outside_the_checked_ones_is_named_with_the_ones_known(version, text):
    result = plan(edit_profile(_profile("h100-sxm", "llama-3.1-8b"), "engine.version", version))
    [warning] = [w for w in result.warnings if "vLLM" in w]
    assert text in warning and "0.30" in warning and "0.6" in warning and result.runs


def test_a_checked_release_has_no_version_warning():
    result = plan(edit_profile(_profile("h100-sxm", "llama-3.1-8b"), "engine.version", "0.11.2"))
    assert not any("releases whose accounting" in w for w in result.warnings)


def test_the_peak_spec_note_only_for_roofline_speeds():
    """'figures are peak-spec ceilings' was said of every plan with mbu = mfu = 1, also where the speeds come from
    the fitted model (the default), which is no ceiling: the Problems list contradicted the roofline panel."""
    fitted = shipped("llama-3.1-70b-2xh100-fp8.toml")
    assert fitted.engine.speed == "fitted"
    assert not any("peak-spec ceilings" in note for note in plan(fitted).notes)
    roofline = fitted.model_copy(update={"engine": fitted.engine.model_copy(update={"speed": "roofline"})})
    assert any("peak-spec ceilings" in note for note in plan(roofline).notes)
