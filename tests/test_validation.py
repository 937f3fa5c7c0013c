"""Prediction against published measurement (tests/validation_cases.py; table in docs/validation.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from validation_cases import (
    KV_GOAL,
    evaluate_case,
    evaluate_system,
    markdown,
    output_tokens_per_s,
    system_profile,
    throughput_systems,
    vllm_cases,
)

from napkinmath.core.calibrate import calibrate_serving
from napkinmath.core.serving import serving_profile, serving_throughput

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


def test_calibrated_on_one_point_four_systems_predict_the_others_within_20_percent():
    meeting = [system_id for system_id, result in RESULTS.items() if result.meets_goal]
    assert len(meeting) >= 4, meeting


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
    """The issue's goal is 3% on every case; it holds where the pool is large (Qwen3-0.6B on an A100,
    gpt-oss-120b at TP2) and not yet on small pools, where 0.2-0.5 GiB of non-torch or hidden memory
    is 3-10% of the pool (docs/validation.md). This guards what is reached: every case within 12%, at
    least two within 3%."""
    assert len(PREDICTED) >= 5
    errors = {result.case["id"]: result.error for result in PREDICTED}
    assert all(abs(error) <= 0.12 for error in errors.values()), errors
    assert sum(abs(error) <= KV_GOAL for error in errors.values()) >= 2, errors


def test_the_docs_table_is_current():
    table = Path(__file__).parent.parent / "docs" / "validation.md"
    assert table.read_text() == markdown(), "regenerate: python tests/validation_cases.py > docs/validation.md"
