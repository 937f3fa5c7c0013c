"""Calibration: back-solving MBU/MFU from measurements, and the engine's memory terms from a log."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.edit import edit_profile
from napkinmath.core.profile.files import load_profile, profile_from_toml_text, profile_to_toml
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.specs import GIB
from napkinmath.core.tools.calibrate import (
    calibrate_decode,
    calibrate_from_log,
    calibrate_measured,
    calibrate_prefill,
    calibrate_ttft,
)
from napkinmath.core.tools.serving import fit_engine_time, serving_throughput

LLAMA_70B = shipped_profile("llama-3.1-70b-2xh100-fp8.toml")


def roofline() -> Profile:
    """The shipped Llama 3.1 70B profile on the bare roofline at the efficiencies it shipped with before the
    fitted model (bandwidth 80%, FLOPs 50%): the roofline calibrations these tests check
    (tests/test_loadtest.py checks the calibration of the fitted model)."""
    base = edit_profile(load_profile(LLAMA_70B), "engine.speed", "roofline")
    return edit_profile(edit_profile(base, "engine.mbu", 0.8), "engine.mfu", 0.5)


def facts(**given):
    fields = dict(version=None, model=None, tensor_parallel_size=None, gpu_memory_utilization=None,
                  total_gpu_memory_gib=None, weights_gib=None, activation_peak_gib=None, non_torch_gib=None,
                  cuda_graph_gib=None, available_kv_gib=None, kv_cache_tokens=None, max_concurrency=None,
                  gpu_blocks=None, kv_cache_dtype=None, max_model_len=None, lines_used=1)
    return SimpleNamespace(**{**fields, **given})


@pytest.mark.parametrize("mbu", [0.35, 0.62, 0.9])
def test_decode_measurement_recovers_the_mbu_that_produced_it(mbu):
    truth = edit_profile(roofline(), "engine.mbu", mbu)
    at = edit_profile(edit_profile(edit_profile(truth, "workload.duty_cycle", 1.0), "workload.users", 32),
                      "workload.target_tokens_per_s", 0.0)
    measured = plan(at).decode.tokens_per_s_aggregate
    calibrated = calibrate_decode(edit_profile(truth, "engine.mbu", 1.0), measured, concurrency=32)
    assert calibrated.profile.engine.mbu == pytest.approx(mbu, abs=1e-3)
    assert "32 concurrent" in calibrated.profile.engine.calibration


def test_prefill_and_ttft_recover_the_mfu():
    truth = edit_profile(roofline(), "engine.mfu", 0.4)
    result = plan(truth)
    assert calibrate_prefill(edit_profile(truth, "engine.mfu", 1.0), result.prefill.tokens_per_s).profile.engine.mfu \
        == pytest.approx(0.4, abs=1e-3)
    assert calibrate_ttft(edit_profile(truth, "engine.mfu", 1.0), result.prefill.ttft).profile.engine.mfu \
        == pytest.approx(0.4, abs=1e-3)


@pytest.mark.parametrize("scale", [1.25, 2.0])
def test_on_the_fitted_model_a_decode_prefill_or_ttft_figure_recovers_the_speed_scale_that_produced_it(scale):
    """A fitted profile is not given an mbu or mfu on top of coefficients that already hold the engine's
    efficiency: each figure rescales the fitted step time."""
    fitted = load_profile(LLAMA_70B)
    truth = edit_profile(fitted, "engine.speed_scale", scale)
    at = edit_profile(edit_profile(edit_profile(truth, "workload.duty_cycle", 1.0), "workload.users", 32),
                      "workload.target_tokens_per_s", 0.0)
    result = plan(truth)
    for calibrated in (calibrate_decode(fitted, plan(at).decode.tokens_per_s_aggregate, concurrency=32),
                       calibrate_prefill(fitted, result.prefill.tokens_per_s),
                       calibrate_ttft(fitted, result.prefill.ttft)):
        engine = calibrated.profile.engine
        assert engine.speed_scale == pytest.approx(scale, rel=1e-4) and engine.mbu == fitted.engine.mbu
        assert engine.is_calibrated("speed_scale") and "speed_scale" in engine.calibration
    with pytest.raises(ProfileError, match="faster than this profile's peak-spec ceiling"):
        calibrate_decode(fitted, 1e9, concurrency=8)
    with pytest.raises(ProfileError, match="peak-spec ceiling"):
        calibrate_ttft(fitted, 1e-4)


def test_a_measurement_beyond_the_peak_ceiling_is_refused():
    profile = roofline()
    with pytest.raises(ProfileError, match="faster than this profile's peak-spec ceiling"):
        calibrate_decode(profile, 1e9, concurrency=8)
    with pytest.raises(ProfileError, match="peak-spec ceiling"):
        calibrate_prefill(profile, 1e12)


def test_a_log_replaces_the_empirical_memory_defaults():
    profile = roofline()
    log = facts(gpu_memory_utilization=0.92, weights_gib=33.88, activation_peak_gib=4.1, non_torch_gib=0.62,
                cuda_graph_gib=0.4, tensor_parallel_size=2)
    calibrated = calibrate_from_log(profile, log, source="test.log")
    engine, model = calibrated.profile.engine, calibrated.profile.model
    assert (engine.gpu_memory_utilization, engine.activation_gib, engine.overhead_gib) == (0.92, 4.1, pytest.approx(1.02))
    assert model.checkpoint_gib == pytest.approx(33.88 * 2) and model.uses_checkpoint_bytes
    result = plan(calibrated.profile)
    assert result.memory.per_gpu.weights == pytest.approx(33.88 * GIB, rel=1e-6)
    assert result.memory.activations_source == "profile"
    assert "test.log" in engine.calibration
    again = profile_from_toml_text(profile_to_toml(calibrated.profile))  # stored in the profile
    assert again == calibrated.profile


def test_available_kv_memory_alone_back_solves_the_overhead():
    profile = roofline()
    calibrated = calibrate_from_log(profile, facts(available_kv_gib=30.0))
    assert plan(calibrated.profile).memory.per_gpu.kv_budget == pytest.approx(30.0 * GIB, rel=1e-9)
    with pytest.raises(ProfileError, match="more than this GPU's usable memory"):
        calibrate_from_log(profile, facts(available_kv_gib=500.0))


def test_a_log_with_nothing_to_calibrate_is_refused():
    with pytest.raises(ProfileError, match="nothing to calibrate"):
        calibrate_from_log(roofline(), facts(kv_cache_tokens=1000))


def test_calibrate_command(tmp_path, capsys):
    from napkinmath.cli.main import main

    copy = tmp_path / "p.toml"
    copy.write_text(profile_to_toml(roofline()))
    assert main(["calibrate", str(copy), "--measured", "decode=900@32"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# calibrated: mbu 0.5") and "mbu = 0.5" in out
    assert load_profile(copy).engine.mbu == 0.8  # printed, not written
    assert main(["calibrate", str(copy), "--measured", "prefill=5000", "--write"]) == 0
    assert load_profile(copy).engine.mfu == pytest.approx(0.185, abs=1e-3)
    assert "5,000 prefill tok/s" in load_profile(copy).engine.calibration
    assert main(["calibrate", str(copy), "--measured", "decode=90000@32"]) == 2
    assert "peak-spec ceiling" in capsys.readouterr().err
    assert main(["calibrate", str(copy), "--measured", "speed=3"]) == 2


LOGS = Path(__file__).parent / "data" / "vllm_logs"


def test_real_log_llama3_8b_h100_reproduces_the_logged_kv_memory():
    # vllm PR #10511: Meta-Llama-3-8B on one H100, vLLM 0.6.5-dev memory profiling table
    from napkinmath.core.sources.vllm_log import parse_vllm_log

    profile = edit_profile(edit_profile(Profile.model_validate(
        {"hardware": {"gpu": "h100-sxm"}, "model": {"preset": "llama-3.1-8b"}}), "workload.max_context_tokens", 8192),
        "workload.avg_context_tokens", 8192)
    facts = parse_vllm_log((LOGS / "v0_llama3_8b_h100_profile_table.log").read_text())
    calibrated = calibrate_from_log(profile, facts, source="PR 10511").profile
    result = plan(calibrated)
    assert result.memory.per_gpu.kv_budget / GIB == pytest.approx(53.29, abs=0.01)  # what vLLM logged
    assert result.kv.tokens_capacity == pytest.approx(53.29 * GIB / 131_072, rel=2e-4)
    assert "PR 10511" in calibrated.engine.calibration
    # the log's total is what CUDA showed vLLM: on the profile's own GPU it measures what the driver keeps
    assert calibrated.hardware.memory_gib == 79.647
    assert calibrated.hardware.driver_reserved_gib == pytest.approx(79.647 - 79.22)


def test_a_log_from_a_gpu_of_another_size_resizes_the_profile_gpu():
    profile = Profile.model_validate({"hardware": {"gpu": "h100-sxm"}, "model": {"preset": "llama-3.1-8b"}})
    calibrated = calibrate_from_log(profile, facts(total_gpu_memory_gib=23.58), source="3090.log")
    assert calibrated.profile.hardware.memory_gib == pytest.approx(23.58 + 0.43)  # plus what the H100's driver keeps
    assert any("memory_gib" in change for change in calibrated.changes)


def test_real_log_qwen3_14b_kv_tokens_match_the_logged_pool():
    # LMCache #1739: Qwen3-14B on one GPU, vLLM V1: "Available KV cache memory: 6.51 GiB", "GPU KV cache size: 42,656 tokens"
    from napkinmath.core.sources.vllm_log import parse_vllm_log

    facts = parse_vllm_log((LOGS / "v1_qwen3_14b_single_gpu.log").read_text())
    profile = Profile.model_validate({"hardware": {"gpu": "h100-sxm"}, "model": {
        "name": "Qwen3-14B", "params_b": 14.77, "layers": 40, "hidden_size": 5120, "attention_heads": 40,
        "kv_heads": 8, "head_dim": 128}, "workload": {"max_context_tokens": 32768, "avg_context_tokens": 8192}})
    result = plan(calibrate_from_log(profile, facts).profile)
    assert result.kv.bytes_per_token == 163_840
    # 6.51 GiB is rounded to two decimals in the log: that alone allows +-0.08% on the token count
    assert result.kv.tokens_capacity == pytest.approx(facts.kv_cache_tokens, rel=1e-3)


@pytest.mark.parametrize("mbu, mfu", [(1.0, 1.0), (0.6, 1.0), (1.0, 0.4), (0.7, 0.5)])
def test_ideal_figures_are_the_same_plan_at_peak_spec(mbu, mfu):
    expected_profile = edit_profile(edit_profile(roofline(), "engine.mbu", mbu), "engine.mfu", mfu)
    at_peak = plan(edit_profile(edit_profile(expected_profile, "engine.mbu", 1.0), "engine.mfu", 1.0))
    expected = plan(expected_profile)
    if expected.capacity.users_served == at_peak.capacity.users_served:  # same users: same batch, same step
        assert expected.decode.step_time_ideal == pytest.approx(at_peak.decode.step_time)
        assert expected.decode.tokens_per_s_aggregate_ideal == pytest.approx(at_peak.decode.tokens_per_s_aggregate)
        assert expected.prefill.ttft_ideal == pytest.approx(at_peak.prefill.ttft)
    assert expected.decode.step_time_ideal <= expected.decode.step_time
    assert expected.prefill.ttft_ideal <= expected.prefill.ttft
    assert (expected.decode.step_time_ideal < expected.decode.step_time) == (mbu < 1)


def test_a_full_calibration_note_drops_the_oldest_entries_not_the_newest():
    profile = edit_profile(roofline(), "engine.calibration", "; ".join(["mbu 0.800 from an old run"] * 74))
    assert len(profile.engine.calibration) > 1990
    calibrated = calibrate_prefill(profile, plan(profile).prefill.tokens_per_s * 0.9).profile
    note = calibrated.engine.calibration
    assert len(note) <= 2000 and note.endswith("-token prompts") and "; mfu " in note
    assert plan(calibrated).provenance.prefill == "calibrated"


SERVING = {"input_tokens": 2000, "output_tokens": 500}


@pytest.mark.parametrize(("overhead_ms", "per_sequence_us"), [(3.0, 50.0), (0.5, 400.0), (8.0, 0.0)])
def test_two_load_test_points_recover_the_engine_time_that_produced_them(overhead_ms, per_sequence_us):
    bare = roofline()
    truth = edit_profile(edit_profile(bare, "engine.step_overhead_ms", overhead_ms),
                         "engine.step_overhead_per_sequence_us", per_sequence_us)
    points = [(serving_throughput(truth, c, **SERVING).output_tokens_per_s, c) for c in (4, 32)]
    calibrated = calibrate_measured(bare, "serving=" + ",".join(f"{rate!r}@{c}" for rate, c in points))
    engine = calibrated.profile.engine
    assert engine.step_overhead_ms == pytest.approx(overhead_ms, abs=1e-3)
    assert engine.step_overhead_per_sequence_us == pytest.approx(per_sequence_us, abs=0.01)
    assert "within 0.0%" in engine.calibration and "loose" not in engine.calibration
    assert plan(calibrated.profile).provenance.decode == "calibrated"
    between = serving_throughput(calibrated.profile, 16, **SERVING).output_tokens_per_s
    assert between == pytest.approx(serving_throughput(truth, 16, **SERVING).output_tokens_per_s, rel=1e-4)


def test_engine_time_per_sequence_slows_large_batches_more_than_small_ones():
    base = roofline()
    slowed = edit_profile(base, "engine.step_overhead_per_sequence_us", 200.0)
    ratio = {c: serving_throughput(slowed, c, **SERVING).step_time / serving_throughput(base, c, **SERVING).step_time
             for c in (1, 32)}
    assert 1 < ratio[1] < ratio[32]
    assert serving_throughput(slowed, 32, **SERVING).output_tokens_per_s_ideal == pytest.approx(
        serving_throughput(base, 32, **SERVING).output_tokens_per_s_ideal)  # the peak-spec ceiling leaves it out


def test_the_fit_never_goes_negative():
    """Points whose slope the roofline already overstates fit a fixed time alone, and say how far off they are."""
    bare = roofline()
    fast_at_high = edit_profile(bare, "engine.step_overhead_ms", 4.0)
    low = serving_throughput(fast_at_high, 4, **SERVING).output_tokens_per_s
    high = serving_throughput(edit_profile(bare, "engine.mbu", min(1.0, bare.engine.mbu * 1.2)), 32,
                              **SERVING).output_tokens_per_s
    fit = fit_engine_time(bare, [(low, 4), (high, 32)], **SERVING)
    assert fit.per_sequence_us == 0 and fit.overhead_ms > 0
    assert fit.worst_error > 0.001
    loose = calibrate_measured(bare, f"serving={low / 1.3!r}@4,{high!r}@32")
    assert "a loose fit" in loose.changes[0]


@pytest.mark.parametrize(("text", "says"), [
    ("serving=300@4,", "each load-test point"),
    ("serving=300", "each load-test point"),
    ("serving=nan@4", "each load-test point"),
    ("serving=300@4,inf@8", "each load-test point"),
    ("decode=nan@5", "must be a number"),
    ("prefill=inf", "must be a number"),
    ("serving=250@4,260@4", "two or more concurrencies"),
    ("serving=1e9@4,2e9@8", "peak-spec ceiling"),
    ("serving=-5@4,300@8", "tok/s > 0"),
    ("serving=300@0,400@8", "at least 1"),
    ("throughput=300@4", "use serving="),
])
def test_bad_measurements_are_refused_with_the_rule(text, says):
    with pytest.raises(ProfileError, match=says):
        calibrate_measured(roofline(), text)


def test_a_roofline_slower_than_every_point_is_refused_for_two_points():
    slow = edit_profile(roofline(), "engine.mbu", 0.05)
    points = [(serving_throughput(roofline(), c, **SERVING).output_tokens_per_s, c) for c in (4, 32)]
    with pytest.raises(ProfileError, match="already slower than every measured point"):
        fit_engine_time(slow, points, **SERVING)


def test_a_calibrated_value_edited_by_hand_is_no_longer_called_calibrated():
    calibrated = calibrate_measured(roofline(), "decode=1500@64").profile
    assert plan(calibrated).provenance.bandwidth == "calibrated"
    reloaded = profile_from_toml_text(profile_to_toml(calibrated))
    assert reloaded.engine.calibrated == calibrated.engine.calibrated
    assert plan(reloaded).provenance.decode == "calibrated"
    edited = edit_profile(reloaded, "engine.mbu", 0.5)
    assert (plan(edited).provenance.bandwidth, plan(edited).provenance.decode) == ("assumed", "assumed")
    assert "mbu 0.532" in edited.engine.calibration  # the note keeps the history


def test_engine_time_is_calibrated_only_while_every_part_of_it_is():
    bare = roofline()
    points = [(serving_throughput(edit_profile(bare, "engine.step_overhead_ms", 3.0), c, **SERVING).output_tokens_per_s, c)
              for c in (4, 32)]
    fitted = calibrate_measured(bare, "serving=" + ",".join(f"{rate!r}@{c}" for rate, c in points)).profile
    assert plan(fitted).provenance.engine_time == "calibrated"
    assert plan(edit_profile(fitted, "engine.step_overhead_per_sequence_us", 40.0)).provenance.engine_time == "assumed"
    assert plan(bare).provenance.engine_time == "none"


def test_an_unknown_calibrated_name_is_refused_by_name():
    text = profile_to_toml(roofline()) + "\n[engine.calibrated]\nrent = 2.0\n"
    with pytest.raises(ProfileError, match="rent: not calibrated values"):
        profile_from_toml_text(text)
