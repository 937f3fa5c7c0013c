"""The fitted step-time model: its shape, and that the shipped coefficients reproduce the fit on the data
they were fitted on (a sample of tests/data/measured-serving, with the plain-Python runtime)."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napkinmath.core.engines.performance_data import bands, coefficients_for, cross_validation, performance_table
from napkinmath.core.plan.compose import plan
from napkinmath.core.plan.performance import engine_performance
from napkinmath.core.profile.schema import Profile
from napkinmath.core.tools.loadtest import closed_loop, ideal_closed_loop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from performance_rows import exclusion, load_rows  # noqa: E402

MOE = Profile.model_validate({"hardware": {"gpu": "b200", "count": 8}, "parallelism": {"tensor": 8},
                              "model": {"preset": "deepseek-v3"}, "engine": {"name": "sglang"}})
DENSE = Profile.model_validate({"hardware": {"gpu": "h100-sxm", "count": 2}, "parallelism": {"tensor": 2},
                                "model": {"preset": "llama-3.1-70b", "weight_dtype": "fp8"}})


@settings(max_examples=60, deadline=None)
@given(decodes=st.floats(0, 512), context=st.floats(0, 32768), prefill=st.floats(0, 16384),
       position=st.floats(0, 32768), which=st.sampled_from(["moe", "dense"]),
       grow=st.sampled_from(["decodes", "context", "prefill", "position"]))
def test_a_step_takes_longer_with_more_work_and_never_less_than_the_ideal(decodes, context, prefill, position,
                                                                         which, grow):
    step = engine_performance(MOE if which == "moe" else DENSE).step
    arguments = {"decodes": decodes, "context": decodes * context, "prefill": prefill, "position": prefill * position}
    bigger = {**arguments, grow: arguments[grow] * 1.5 + 1}
    before, after = (step.step_time_s(a["decodes"], a["context"], a["prefill"], a["position"])
                     for a in (arguments, bigger))
    assert after >= before * (1 - 1e-12)
    assert before >= step.ideal_step_time_s(arguments["decodes"], arguments["context"], arguments["prefill"],
                                            arguments["position"])


def test_the_plans_decode_step_is_the_step_model_at_the_planned_batch():
    result = plan(DENSE)
    step = engine_performance(DENSE).step
    batch, context = result.decode.batch, DENSE.workload.avg_context_tokens
    assert result.decode.step_time == pytest.approx(step.step_time_s(batch, batch * context), rel=1e-9)
    assert result.decode.step_time_ideal == pytest.approx(step.ideal_step_time_s(batch, batch * context), rel=1e-9)


def test_every_engine_and_generation_has_coefficients_and_an_unknown_gpu_borrows_hopper():
    for engine in ("vllm", "sglang", "trtllm", "generic"):
        for generation in ("hopper", "blackwell"):
            c = coefficients_for(engine, generation)
            assert c.weights >= 1 and c.kv >= 1 and c.gemm_decode >= 1 and c.attention >= 1
            assert 0 <= c.arrival_wait <= 4 and 0 <= c.cohort <= 1 and c.test_cycles >= 1
    assert coefficients_for("vllm", "ampere") == coefficients_for("vllm", "hopper")
    assert coefficients_for("generic", "blackwell") == coefficients_for("lmdeploy", "blackwell")


def test_the_bands_bracket_the_expected_value_and_the_file_says_where_it_came_from():
    for band in (bands().tpot, bands().ttft, bands().throughput):
        assert 0 < band.low < 1 < band.high
    table = performance_table()
    assert "aiconfigurator" in table["source"]["data"] and table["source"]["rows_fitted"] > 1000
    assert set(cross_validation()) >= {"leave_one_gpu_out", "leave_one_model_out", "in_sample"}


ROWS, _ = load_rows(every=25)


def test_the_shipped_coefficients_reproduce_the_fit_on_a_sample_of_its_rows():
    """The plain-Python runtime, on every 25th row the fit used, is as close to the measurements as the fit
    says it is in sample (performance.toml), within sampling noise; and never faster than the peak-spec
    ideal allows."""
    errors_tpot, errors_ttft = [], []
    for row in ROWS:
        perf = engine_performance(row.profile)
        loop = closed_loop(perf, row.concurrency, row.input_tokens, row.output_tokens)
        bound = ideal_closed_loop(perf, row.concurrency, row.input_tokens, row.output_tokens)
        assert bound.tpot_s <= row.tpot_s and bound.ttft_s <= row.ttft_s, row.source["id"]
        errors_tpot.append(abs(loop.tpot_s / row.tpot_s - 1))
        errors_ttft.append(abs(loop.ttft_s / row.ttft_s - 1))
    in_sample = cross_validation()["in_sample"]
    assert len(ROWS) >= 60
    assert statistics.median(errors_tpot) <= in_sample["tpot"] + 0.04
    assert statistics.median(errors_ttft) <= in_sample["ttft"] + 0.08


def test_each_row_runs_the_kv_cache_aiconfigurators_generator_writes():
    """The rows do not record their KV cache dtype; the deployments ran the one aiconfigurator's generator writes for
    every engine: fp8 for fp8 and nvfp4 checkpoints, bf16 for the rest (scripts/performance_rows.py
    ``generated_kv_dtype``), not each engine's own default (bf16 on vLLM and SGLang, fp8 on TensorRT-LLM for fp4)."""
    seen = {(row.engine, str(row.profile.model.weight_dtype)): str(row.profile.model.kv_dtype) for row in ROWS}
    assert seen[("vllm", "fp8")] == seen[("sglang", "fp8")] == seen[("vllm", "nvfp4")] == "fp8"
    assert seen[("trtllm", "mxfp4")] == seen[("vllm", "mxfp4")] == seen[("trtllm", "bf16")] == "bf16"
    assert all(kv == ("fp8" if weights in ("fp8", "nvfp4") else "bf16") for (_, weights), kv in seen.items())


def test_a_measurement_copied_into_another_file_at_two_decimals_is_fitted_once():
    """The gap-analysis CSVs copy database rows with the milliseconds rounded to 2 decimals (231.85 for
    231.8478822...): the copy is a duplicate, fitted once, where a different measurement of the same configuration
    (3.6% apart in TTFT at the median) is kept."""
    raw = {"mode": "agg", "tp_size": "8", "attention_dp_size": "1", "pp_size": "1", "batch_size": "4",
           "silicon_data_source": "db-dump; silicon_concurrency=4", "system": "b200_sxm", "backend": "sglang",
           "isl": "1024", "osl": "1024", "silicon_ttft_ms": "231.8478822184261", "silicon_tpot_ms": "8.065206402314423"}
    seen: dict = {}
    assert exclusion(raw, seen) is None
    copy = {**raw, "silicon_data_source": "source_file=gap-analysis.csv", "silicon_ttft_ms": "231.85",
            "silicon_tpot_ms": "8.07"}
    assert exclusion(copy, seen) == "duplicate of a row from another source file"
    rerun = {**raw, "silicon_ttft_ms": "240.2", "silicon_tpot_ms": "8.07"}
    assert exclusion(rerun, seen) is None


@pytest.mark.xfail(strict=True, reason="cross-validated median |TPOT error| is 12.2% leaving one GPU out and 13.3% "
                                       "leaving one model out (docs/accuracy.md): the goal is 10%")
def test_cross_validated_tpot_is_within_10_percent():
    """The issue's goal on the fitting data, as scripts/fit_performance.py measured it (performance.toml)."""
    figures = cross_validation()
    assert max(figures["leave_one_gpu_out"]["tpot"], figures["leave_one_model_out"]["tpot"]) <= 0.10


@pytest.mark.xfail(strict=True, reason="cross-validated median |TTFT error| is 27.2% leaving one GPU out and 27.7% "
                                       "leaving one model out (docs/accuracy.md): the goal is 20%")
def test_cross_validated_ttft_is_within_20_percent():
    figures = cross_validation()
    assert max(figures["leave_one_gpu_out"]["ttft"], figures["leave_one_model_out"]["ttft"]) <= 0.20


@pytest.mark.parametrize(("gpu", "kind"), [("h100-sxm", "fitted"), ("h200", "fitted"), ("b200", "fitted"),
                                           ("h100-pcie", "extrapolated"), ("gb200", "extrapolated"),
                                           ("rtx-5090", "extrapolated"), ("mi300x", "extrapolated")])
def test_only_the_measured_gpus_are_fitted(gpu, kind):
    """The speed is "fitted" only on a GPU the fitting rows measured (H100 SXM, H200, B200); another GPU of the
    same generation (an RTX 5090 is Blackwell, with GDDR7 and no NVLink) takes its generation's coefficients
    as an extrapolation, and says so."""
    from napkinmath.core.plan.compose import plan
    from napkinmath.core.profile.schema import Profile

    profile = Profile.model_validate({"hardware": {"gpu": gpu, "count": 8}, "model": {"preset": "llama-3.1-8b"},
                                      "parallelism": {"tensor": 1}})
    assert plan(profile).provenance.speed == kind
