"""The simulator's closed loop against the analytic ``loadtest --concurrency`` (issue 15): at steady state
both must give the same throughput and TPOT within 5%.

Steady state on both sides: the simulator starts its clients spread over one request's duration and
counts only the part where all are busy (``Load.steady_state``); the load test's first-burst term (the
benchmark's start, weighted 1/test_cycles) is switched off by taking test_cycles to infinity. Only
points where every client runs (the KV pool does not bind) are compared: there the load test assumes
a pool at average context with no preemption, a regime the simulator does not have (docs/accuracy.md,
"Tail latency").
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
from conftest import shipped

from napkinmath.core.plan.performance import engine_performance
from napkinmath.core.tools.loadtest import load_test
from napkinmath.core.tools.simulate.profile_load import deployment_for
from napkinmath.core.tools.simulate.run import Load, simulate
from napkinmath.core.tools.simulate.traffic import Lengths

PROFILES = ("llama-3.1-70b-2xh100-fp8.toml", "qwen3-30b-a3b-1xh100.toml", "llama-3.1-8b-1xl4.toml",
            "b200-32b-chat-25k.toml", "kimi-k2-8xb200-32k.toml")
LENGTHS = ((1_000, 200), (2_000, 500), (200, 1_000))
CONCURRENCIES = (1, 4, 16, 64)
# The KV pool binds (fewer run than are in flight): outside the comparison (module docstring).
POOL_BINDS = {("qwen3-30b-a3b-1xh100.toml", 64, 2_000, 500), ("llama-3.1-8b-1xl4.toml", 64, 2_000, 500)}
# One or two requests per instance (kimi-k2 runs 8 attention data-parallel instances): the load test's TPOT
# averages every prefill step over a request's life, its own included, but a request's own prefill is over
# before its first token; with a 1,000-2,000-token prompt on this MoE the prefill step is 15-30x a decode
# step, so the load test's TPOT is 7-8% above the simulator's (which follows TPOT's definition) at one
# request or fewer, and at two (16 clients, 1,000/200) the simulated throughput is 5.5% above the load test's.
OWN_PREFILL = ({("kimi-k2-8xb200-32k.toml", c, i, o) for c in (1, 4) for i, o in ((1_000, 200), (2_000, 500))}
               | {("kimi-k2-8xb200-32k.toml", 16, 1_000, 200)})


def _points():
    for name in PROFILES:
        for concurrency in CONCURRENCIES:
            for prompt, reply in LENGTHS:
                point = (name, concurrency, prompt, reply)
                if point in POOL_BINDS:
                    continue
                marks = [pytest.mark.xfail(strict=True, reason="the load test's TPOT counts the request's own "
                                                               "prefill step")] if point in OWN_PREFILL else []
                yield pytest.param(*point, marks=marks, id=f"{name.removesuffix('.toml')}-c{concurrency}-{prompt}-{reply}")


@cache
def _performance(name: str):
    profile = shipped(name)
    return profile, engine_performance(profile)


@pytest.mark.parametrize("name, concurrency, prompt, reply", list(_points()))
def test_steady_closed_loop_agrees_with_the_load_test(name, concurrency, prompt, reply):
    profile, performance = _performance(name)
    coefficients = replace(performance.step.coefficients, test_cycles=float("inf"))
    steady = replace(performance, step=replace(performance.step, coefficients=coefficients))
    analytic = load_test(profile, concurrency, prompt, reply, perf=steady)
    assert analytic.running_per_instance >= concurrency / performance.instances  # every client runs
    run = simulate(deployment_for(profile, performance),
                   Load(concurrency=concurrency, requests=max(400, 12 * concurrency), steady_state=True,
                        lengths=Lengths("fixed", prompt, reply), prefix_cache_hit=profile.workload.prefix_cache_hit))
    assert run.output_tokens_per_s == pytest.approx(analytic.output_tokens_per_s.expected, rel=0.05)
    assert run.tpot_s.mean == pytest.approx(analytic.tpot_s.expected, rel=0.05)


@pytest.mark.parametrize("point", sorted(POOL_BINDS))
def test_the_excluded_points_are_those_where_the_pool_binds(point):
    name, concurrency, prompt, reply = point
    profile, performance = _performance(name)
    analytic = load_test(profile, concurrency, prompt, reply, perf=performance)
    assert analytic.running_per_instance < concurrency / performance.instances
