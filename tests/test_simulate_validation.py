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

import pytest
from serving_cases import nim_points, nim_runs, server_run

from napkinmath.core.tools.simulate.capacity import meets


@pytest.mark.parametrize("concurrency", [1, 5, 25, 50, 100, 150, 200, 250])
def test_nim_throughput_and_itl_at_every_concurrency(concurrency):
    point = next(p for p in nim_points() if p["concurrency"] == concurrency)
    run = nim_runs()[concurrency]
    assert run.output_tokens_per_s == pytest.approx(point["output_tokens_per_s"], rel=0.20)
    assert run.itl_s.mean * 1e3 == pytest.approx(point["itl_ms"], rel=0.15)


@pytest.mark.parametrize("concurrency", [
    1, 5,
    pytest.param(25, marks=pytest.mark.xfail(strict=True, reason="0.42 s against 0.69 s measured (-39%): the simulated "
                                                                 "prompts barely queue at 25 clients (0.41 s at 1), "
                                                                 "where the measured TTFT has grown by 0.28 s")),
    pytest.param(50, marks=pytest.mark.xfail(strict=True, reason="1.33 s against 0.83 s measured (+59%): 5,000-token "
                                                                 "prefills keep the engine busy most of the time and "
                                                                 "the simulated prompts queue for them")),
    100, 150, 200, 250])
def test_nim_ttft_including_the_wait_for_a_slot(concurrency):
    """From 100 clients the pool holds fewer than are in flight (TensorRT-LLM reserves each request's full
    length): the rest wait for a slot, and TTFT grows by tens of seconds, as measured."""
    point = next(p for p in nim_points() if p["concurrency"] == concurrency)
    assert nim_runs()[concurrency].ttft_s.mean * 1e3 == pytest.approx(point["ttft_ms"], rel=0.25)


@pytest.mark.parametrize("index", [0, 1], ids=["8xh100", "8xh200"])
def test_mlperf_the_measured_rate_meets_the_slo(index):
    """MLPerf ran VALID at this rate: the simulated deployment must meet the same p99 limits there."""
    run, slo = server_run(index, 1.0)
    assert meets(run, slo) and run.completed == run.requests


@pytest.mark.xfail(strict=True, reason="the simulated maximum is 33% and 36% above the measured one "
                                       "(98.9 against 74.42 and 136.6 against 100.35 requests/s): at these "
                                       "batches, beyond the fitting data's 512 sequences, the fitted step grows "
                                       "more slowly with the batch than the measured one (docs/accuracy.md)")
@pytest.mark.parametrize("index", [0, 1], ids=["8xh100", "8xh200"])
def test_mlperf_twenty_percent_more_misses_the_slo(index):
    """The simulated maximum is within 20% above the measured one (the search itself, run by
    tests/serving_cases.py for docs/accuracy.md, puts it at +33% and +38%)."""
    run, slo = server_run(index, 1.2)
    assert not meets(run, slo)
