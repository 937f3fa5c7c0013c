"""Prediction against published measurement (tests/validation_cases.py; table in docs/validation.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from validation_cases import (
    KV_GOAL,
    case_memory_gib,
    default_errors,
    evaluate_case,
    evaluate_system,
    inside_band,
    markdown,
    output_tokens_per_s,
    system_profile,
    throughput_systems,
    vllm_cases,
)

from napkinmath.core.tools.calibrate import calibrate_serving
from napkinmath.core.tools.serving import serving_profile, serving_throughput

SYSTEMS = throughput_systems()
RESULTS = {system["id"]: evaluate_system(system) for system in SYSTEMS}


def test_the_set_covers_enough_systems_with_enough_points():
    assert len(SYSTEMS) >= 4
    for system in SYSTEMS:
        assert system["source"].startswith("https://")
        assert len([p for p in system["points"] if not p.get("excluded")]) >= 3, system["id"]


@pytest.mark.parametrize("system_id", sorted(RESULTS))
def test_the_ideal_ceiling_is_never_below_a_measurement(system_id):
    for point in RESULTS[system_id].points:
        assert point.ideal >= point.measured, (system_id, point.concurrency)


def test_calibrated_on_one_point_six_systems_predict_the_others_within_20_percent():
    """One point rescales the fitted model (it used to back-solve the bare roofline's engine time: 4 of 11)."""
    meeting = [system_id for system_id, result in RESULTS.items() if result.meets_goal]
    assert len(meeting) >= 6, meeting


def test_uncalibrated_the_fitted_model_is_within_20_percent_on_the_nvidia_systems_it_covers():
    """The default prediction, nothing measured, on the systems whose GPU generation and engine the fit covers
    (Hopper and Blackwell; vLLM, SGLang, TensorRT-LLM behind NIM), the single-GPU gpt-oss-20b runs left
    out: their asyncio client adds per-request time the engine does not (SOURCES.md)."""
    covered = [r for r in RESULTS.values() if r.system["gpu"] in ("h100-sxm", "h200", "b200")
               and not r.system["id"].startswith("gpt-oss-20b")]
    errors = sorted(abs(p.default_error) for r in covered for p in r.points if not p.excluded)
    assert len(errors) >= 15
    assert errors[len(errors) // 2] <= 0.20, errors


@pytest.mark.xfail(strict=True, reason="uncalibrated median over every published point is 27.5%: AMD and consumer "
                                       "GPUs are extrapolated, and the gpt-oss-20b client adds its own time "
                                       "(docs/accuracy.md)")
def test_uncalibrated_median_error_over_every_published_point_is_within_20_percent():
    errors = sorted(abs(e) for e in default_errors(list(RESULTS.values())))
    assert (errors[len(errors) // 2] + errors[(len(errors) - 1) // 2]) / 2 <= 0.20


def test_uncalibrated_the_nvidia_systems_the_fit_covers_fall_inside_the_band_70_percent_of_the_time():
    """Issue 14's band goal (at least 70% of measurements inside) on the systems of the test above."""
    covered = [r for r in RESULTS.values() if r.system["gpu"] in ("h100-sxm", "h200", "b200")
               and not r.system["id"].startswith("gpt-oss-20b")]
    inside, usable = inside_band(covered)
    assert usable >= 15 and inside / usable >= 0.70, (inside, usable)


@pytest.mark.xfail(strict=True, reason="27 of the 52 usable points (52%) fall inside the throughput band: the "
                                       "AMD and single-GPU gpt-oss-20b systems miss by more than the band's width "
                                       "(docs/accuracy.md)")
def test_uncalibrated_70_percent_of_every_published_point_falls_inside_the_band():
    inside, usable = inside_band(list(RESULTS.values()))
    assert inside / usable >= 0.70, (inside, usable)


def test_calibrated_on_two_points_nine_systems_predict_the_points_between_within_20_percent():
    """The lowest and highest usable concurrencies fit the engine's time per step and per running sequence;
    the points between are predicted (docs/validation.md names the two systems that miss, and why)."""
    meeting = [system_id for system_id, result in RESULTS.items() if result.two_point_meets_goal]
    assert len(meeting) >= 9, meeting
    assert all(any(p.two_point is not None for p in result.points) for result in RESULTS.values()
               if len([p for p in result.points if not p.excluded]) >= 3)


def test_calibration_reproduces_its_own_point():
    system = SYSTEMS[0]
    point = system["points"][1]
    at = serving_profile(system_profile(system), point["concurrency"], system["input_tokens"], system["output_tokens"])
    calibrated = calibrate_serving(at, output_tokens_per_s(system, point), point["concurrency"])
    again = serving_throughput(calibrated.profile, point["concurrency"], system["input_tokens"], system["output_tokens"])
    assert again.output_tokens_per_s == pytest.approx(output_tokens_per_s(system, point), rel=1e-3)


CASES = vllm_cases()


def test_the_log_set_covers_moe_mla_and_sliding_window():
    configs = {case["config"] for case in CASES if case.get("config")}
    assert len(CASES) >= 6
    assert any("deepseek" in name for name in configs)  # MLA (and MoE)
    assert any("gpt-oss" in name or "gemma" in name for name in configs)  # sliding window
    assert any("qwen3-30b" in name or "gpt-oss" in name or "deepseek" in name for name in configs)  # MoE


@pytest.mark.parametrize("case", [c for c in CASES if c.get("config") and c.get("logged_kv_cache_tokens")
                                  and c.get("logged_available_kv_gib")],
                         ids=lambda c: c["id"])
def test_page_arithmetic_from_the_logged_memory_gives_the_logged_tokens(case):
    result = evaluate_case(case)
    assert result.tokens_from_logged_memory == pytest.approx(case["logged_kv_cache_tokens"], rel=0.005)


PREDICTED = [evaluate_case(c) for c in CASES if c.get("config") and c.get("logged_kv_cache_tokens")]
PREDICTED = [result for result in PREDICTED if result.error is not None]


def test_kv_tokens_from_defaults_against_the_logs():
    """The issue's goal: the "GPU KV cache size" vLLM logged, within 3%, from the deployment and vLLM's
    defaults alone, on every case with a logged token count and a known GPU (docs/validation.md)."""
    assert len(PREDICTED) >= 5
    errors = {result.case["id"]: result.error for result in PREDICTED}
    assert all(abs(error) <= KV_GOAL for error in errors.values()), errors


GIB_ONLY = [evaluate_case(c) for c in CASES if c.get("config") and not c.get("logged_kv_cache_tokens")
            and c.get("logged_available_kv_gib") is not None and case_memory_gib(c) is not None]


# Documented misses: the goal is asserted and expected to fail until the planner models the case.
KNOWN_KV_MISSES = {
    "deepseek-v3-0324-awq": "the DeepSeek-V3 AWQ log ran vLLM 0.8's V0 engine, which the 0.8 era's V1 accounting "
                            "does not model",
}


def _gib_only_case(result):
    miss = next((why for key, why in KNOWN_KV_MISSES.items() if key in result.case["id"]), None)
    marks = [pytest.mark.xfail(strict=True, reason=miss)] if miss else []
    return pytest.param(result, id=result.case["id"], marks=marks)


@pytest.mark.parametrize("result", [_gib_only_case(result) for result in GIB_ONLY])
def test_available_kv_memory_where_the_log_gives_no_token_count(result):
    """Logs that print only "Available KV cache memory": within 3% of it where the pool is a real one
    (5 GiB or more); near-failed and failed starts (a pool under 5 GiB, or negative) within 0.3 GiB,
    so the plan says whether the engine starts. Known misses (KNOWN_KV_MISSES) are strict xfails."""
    logged, predicted = result.case["logged_available_kv_gib"], result.predicted_available_gib
    if logged >= 5:
        assert predicted / logged - 1 == pytest.approx(0, abs=KV_GOAL)
    else:
        assert predicted == pytest.approx(logged, abs=0.3)


def test_the_docs_table_is_current():
    table = Path(__file__).parent.parent / "docs" / "validation.md"
    assert table.read_text() == markdown(), "regenerate: python tests/validation_cases.py > docs/validation.md"
