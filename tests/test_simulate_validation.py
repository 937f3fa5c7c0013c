"""The simulator on the fitted model, judged by published serving results it was never fitted on
(issue 15; docs/accuracy.md, "Tail latency"). Goals are the issue's independent-check goals: TPOT (here
ITL) within 15%, TTFT within 25%, throughput within 20%; known misses are strict xfails.

- NVIDIA NIM 1.8.0, Llama 3.3 70B, 2 x H100 fp8 TP 2, 5,000 in / 500 out, closed loop at 1-250 clients
  (tests/data/validation/throughput.toml; the performance fit uses none of it).
- MLPerf Inference v4.1 Server, Llama 2 70B on 8 x H100 and 8 x H200 with TensorRT-LLM: Poisson arrivals
  on MLPerf's OpenOrca lengths, valid while p99 TTFT <= 2 s and p99 TPOT <= 0.2 s
  (tests/data/serving/mlperf_server.toml and openorca_llama2_70b_lengths.csv).
"""

from __future__ import annotations

import csv
import random
import tomllib
from functools import cache
from pathlib import Path

import pytest

from napkinmath.core.plan.performance import engine_performance
from napkinmath.core.profile.schema import Profile
from napkinmath.core.tools.simulate.capacity import meets
from napkinmath.core.tools.simulate.profile_load import deployment_for
from napkinmath.core.tools.simulate.run import Load, simulate
from napkinmath.core.tools.simulate.traffic import Lengths

DATA = Path(__file__).parent / "data"
LLAMA_2_VOCAB = 32_000
LLAMA_31_70B_PARAMS_B, LLAMA_31_VOCAB, HIDDEN = 70.553706496, 128_256, 8_192  # core/specs/data/models.toml


@cache
def nim_points() -> list[dict]:
    systems = tomllib.loads((DATA / "validation" / "throughput.toml").read_text())["system"]
    return next(s for s in systems if s["id"] == "llama-3.3-70b-2xh100-fp8-tp2-nim-1.8.0")["points"]


@cache
def nim_runs():
    """NIM's backend is TensorRT-LLM (its docs); the closed loop at its steady state."""
    profile = Profile.model_validate({
        "name": "NIM Llama 3.3 70B", "hardware": {"gpu": "h100-sxm", "count": 2},
        "model": {"preset": "llama-3.1-70b", "weight_dtype": "fp8"}, "parallelism": {"tensor": 2},
        "workload": {"max_context_tokens": 5_500, "avg_context_tokens": 5_250, "prompt_tokens": 5_000,
                     "output_tokens": 500},
        "engine": {"name": "trtllm"}})
    deployment = deployment_for(profile, engine_performance(profile))
    return {point["concurrency"]: simulate(deployment, Load(
        concurrency=point["concurrency"], requests=max(200, 8 * point["concurrency"]), steady_state=True,
        lengths=Lengths("fixed", 5_000, 500))) for point in nim_points()}


@pytest.mark.parametrize("concurrency", [1, 5, 25, 50, 100, 150, 200, 250])
def test_nim_throughput_and_itl_at_every_concurrency(concurrency):
    point = next(p for p in nim_points() if p["concurrency"] == concurrency)
    run = nim_runs()[concurrency]
    assert run.output_tokens_per_s == pytest.approx(point["output_tokens_per_s"], rel=0.20)
    assert run.itl_s.mean * 1e3 == pytest.approx(point["itl_ms"], rel=0.15)


@pytest.mark.parametrize("concurrency", [
    1, 5, 25,
    pytest.param(50, marks=pytest.mark.xfail(strict=True, reason="2.2x the measured TTFT: 5,000-token prefills keep "
                                                                 "the engine busy ~64% of the time and prompts queue "
                                                                 "for them (the analytic load test gives 2.4x)")),
    100, 150, 200, 250])
def test_nim_ttft_including_the_wait_for_a_slot(concurrency):
    """From 100 clients the pool holds fewer than are in flight (TensorRT-LLM reserves each request's full
    length): the rest wait for a slot, and TTFT grows by tens of seconds, as measured."""
    point = next(p for p in nim_points() if p["concurrency"] == concurrency)
    assert nim_runs()[concurrency].ttft_s.mean * 1e3 == pytest.approx(point["ttft_ms"], rel=0.25)


@cache
def mlperf(index: int):
    """(result, deployment, lengths): OpenOrca's prompts, its replies scaled to the run's tokens per sample
    (Llama 2 writes longer answers than the dataset's), in LoadGen's order: sampled at random."""
    result = tomllib.loads((DATA / "serving" / "mlperf_server.toml").read_text())["result"][index]
    with (DATA / "serving" / "openorca_llama2_70b_lengths.csv").open() as handle:
        rows = [(int(row["input_length"]), int(row["output_length"])) for row in csv.DictReader(handle)]
    random.Random(0).shuffle(rows)
    per_sample = result["completed_tokens_per_s"] / result["completed_samples_per_s"]
    scale = per_sample / (sum(out for _, out in rows) / len(rows))
    trace = tuple((prompt, max(1, round(out * scale))) for prompt, out in rows)
    lengths = Lengths("trace", sum(p for p, _ in trace) // len(trace), sum(o for _, o in trace) // len(trace),
                      trace_rows=trace)
    params = LLAMA_31_70B_PARAMS_B - 2 * (LLAMA_31_VOCAB - LLAMA_2_VOCAB) * HIDDEN / 1e9  # untied embeddings
    profile = Profile.model_validate({
        "name": result["id"], "hardware": {"gpu": result["gpu"], "count": result["gpus"]},
        "model": {"preset": "llama-3.1-70b", "name": "Llama 2 70B", "vocab_size": LLAMA_2_VOCAB, "params_b": params,
                  "active_params_b": params, "max_context_tokens": 4_096, "weight_dtype": result["weight_dtype"]},
        "parallelism": {"tensor": result["tensor_parallel_size"], "replicas": result["instances"]},
        "workload": {"max_context_tokens": 2_048, "avg_context_tokens": 367, "prompt_tokens": lengths.input_tokens,
                     "output_tokens": lengths.output_tokens},
        "engine": {"name": "trtllm", "gpu_memory_utilization": result["kvcache_free_gpu_mem_frac"],
                   "max_num_seqs": result["gpu_batch_size"]}})
    return result, deployment_for(profile, engine_performance(profile)), lengths


def _server_run(index: int, rate_factor: float):
    result, deployment, lengths = mlperf(index)
    slo = {"ttft_p99": result["ttft_limit_s"], "tpot_p99": result["tpot_limit_s"]}
    run = simulate(deployment, Load(rate_per_s=rate_factor * result["completed_samples_per_s"], requests=16_000,
                                    lengths=lengths))
    return run, slo


@pytest.mark.parametrize("index", [0, 1], ids=["8xh100", "8xh200"])
def test_mlperf_the_measured_rate_meets_the_slo(index):
    """MLPerf ran VALID at this rate: the simulated deployment must meet the same p99 limits there."""
    run, slo = _server_run(index, 1.0)
    assert meets(run, slo) and run.completed == run.requests


@pytest.mark.xfail(strict=True, reason="the fitted step model is too fast at MLPerf's batches (~840 sequences per "
                                       "engine, beyond the fitting data's 512): 20% above the measured rate the "
                                       "simulated deployment still meets the SLO (its maximum is 25-31% higher)")
@pytest.mark.parametrize("index", [0, 1], ids=["8xh100", "8xh200"])
def test_mlperf_twenty_percent_more_misses_the_slo(index):
    run, slo = _server_run(index, 1.2)
    assert not meets(run, slo)
