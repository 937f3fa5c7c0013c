"""The load test the fit assumes (core/tools/loadtest.py) against the simulator stepping the same model.

The measured rows come from closed-loop benchmarks whose clients all start together, with equal prompt
and reply lengths, and send ``test_cycles`` requests each (docs/accuracy.md, "The closed loop"). The
simulator computes such a run exactly for given step costs; the analytic load test is what the fit and
the runtime use. Here both run with the request overhead and the arrival wait at 0, so that only the
scheduling is compared: engines that prefill first (SGLang's default) re-form the first burst every
cycle, and engines that mix decodes into prefill steps keep cohorts of requests together.
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from napkinmath.core.plan.performance import engine_performance
from napkinmath.core.profile.schema import Profile
from napkinmath.core.tools.loadtest import closed_loop
from napkinmath.core.tools.simulate.load import Deployment, Load
from napkinmath.core.tools.simulate.run import simulate
from napkinmath.core.tools.simulate.traffic import Lengths

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from performance_rows import generated_settings, load_rows  # noqa: E402

CYCLES = 20  # requests per client, as aiconfigurator's benchmark script sends (PROVENANCE.md)


def _bare(perf, cycles: float = CYCLES):
    """The instance's model with no time outside the engine and no wait before scheduling."""
    coefficients = replace(perf.step.coefficients, arrival_wait=0.0, request_s=0.0, test_cycles=cycles)
    return replace(perf, step=replace(perf.step, coefficients=coefficients), request_overhead_s=0.0)


def _simulated(perf, concurrency: int, prompt: int, reply: int, full_length: bool):
    deployment = Deployment(perf.step, replace(perf.limits, reserves_full_length=full_length), 1, 0.0)
    return simulate(deployment, Load(concurrency=concurrency, requests=CYCLES * concurrency,
                                     lengths=Lengths("fixed", prompt, reply)))


# A pool that holds 64 requests of 4,096 + 512 tokens whole (SGLang's default share, 0.834 since 0.5.3, leaves the
# last few tokens short, and the simulator then waits where the closed form does not): only the prefill-first steps
# are compared here.
PREFILL_FIRST = Profile.model_validate({"hardware": {"gpu": "h100-sxm", "count": 2}, "parallelism": {"tensor": 2},
                                        "model": {"preset": "qwen3-32b"},
                                        "engine": {"name": "sglang", "gpu_memory_utilization": 0.874}})


@pytest.mark.parametrize("concurrency", [4, 16, 64])
@pytest.mark.parametrize("prompt, reply", [(1024, 128), (4096, 512)])
def test_a_prefill_first_engine_re_forms_the_burst_every_cycle(concurrency, prompt, reply):
    perf = _bare(engine_performance(PREFILL_FIRST))
    assert not perf.limits.mixed_batches
    loop = closed_loop(perf, concurrency, prompt, reply)
    run = _simulated(perf, concurrency, prompt, reply, full_length=False)
    assert loop.ttft_s == pytest.approx(run.ttft_s.mean, rel=0.02)
    assert loop.tpot_s == pytest.approx(run.tpot_s.mean, rel=0.02)


def test_on_the_measured_deployments_the_load_test_follows_the_simulator():
    """Every 40th fitted row, where every client runs: the analytic TTFT within 10% of the simulated one at
    the median (20% at the 90th percentile), TPOT within 2% (measured: docs/accuracy.md)."""
    rows, _ = load_rows(every=40)  # read here, not at import: every pytest-xdist worker imports this module
    ttft, tpot = [], []
    for row in rows:
        perf = _bare(engine_performance(row.profile))
        concurrency, prompt, reply = int(row.concurrency), int(row.input_tokens), int(row.output_tokens)
        loop = closed_loop(perf, concurrency, prompt, reply)
        if loop.waiting > 0:
            continue
        run = _simulated(perf, concurrency, prompt, reply, full_length=row.engine == "trtllm")
        ttft.append(abs(loop.ttft_s / run.ttft_s.mean - 1))
        tpot.append(abs(loop.tpot_s / run.tpot_s.mean - 1))
    assert len(ttft) >= 40
    assert statistics.median(ttft) <= 0.10 and sorted(ttft)[int(0.9 * len(ttft))] <= 0.20
    assert statistics.median(tpot) <= 0.02


def _row(backend: str, version: str = "") -> dict:
    return {"backend": backend, "backend_version": version, "batch_size": "16", "isl": "1024"}


def test_the_rows_run_the_scheduler_settings_aiconfigurator_generates():
    assert generated_settings(_row("vllm"), 80, 1) == {"max_num_batched_tokens": 16 + 1024 + 1500}
    assert generated_settings(_row("trtllm"), 80, 1) == {"max_num_batched_tokens": 2560}  # 2,540 to whole blocks
    assert generated_settings(_row("sglang", "0.5.9"), 80, 1) == {"max_num_batched_tokens": 2524,
                                                                  "mixed_batches": True}
    assert generated_settings(_row("sglang", "0.5.1.post1"), 80, 1) == {}  # before the generator knew SGLang


def test_a_profile_may_mix_decodes_into_sglang_prefill_steps():
    assert not engine_performance(PREFILL_FIRST).limits.mixed_batches
    mixed = PREFILL_FIRST.model_copy(update={"engine": PREFILL_FIRST.engine.model_copy(
        update={"mixed_batches": True})})
    assert engine_performance(mixed).limits.mixed_batches
