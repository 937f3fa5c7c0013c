"""What a closed-loop load test would measure: ``vllm bench serve --max-concurrency C`` (or genai-perf /
aiperf ``--concurrency C``) with prompts of ``input`` tokens and replies of ``output`` tokens.

A mean-value model of continuous batching on the fitted step time (core/plan/performance.py), per engine
instance with ``C / instances`` requests in flight (docs/accuracy.md, "The closed loop"):

- ``running`` sequences decode together: the concurrency, at most ``max_num_seqs`` and what the KV pool
  holds at an average context of input + output/2 (at input + output where admission reserves a request's
  whole length: TensorRT-LLM); the rest wait for a slot.
- Requests that finish in the same step are replaced together, so their prompts share prefill steps: a
  cohort of ``cohort × min(running, budget / input)`` prompts per prefill step, ``budget`` being the
  step's token budget less the decodes (whole prompts only without chunked prefill). Clients spread out
  (``test_cycles`` infinite) form no cohorts: one prompt per prefill step.
- Over one request's life of ``output − 1`` decode steps, ``running × input / prefill per step`` steps also
  prefill; TPOT is the mean step (engines that mix decodes into prefill steps). When prefill cannot keep
  up every step prefills and requests queue for it.
- TTFT = ``arrival_wait`` steps before the first prefill step (the replacement arrives as a step starts;
  engines that schedule a step ahead add one before the prompt is scheduled and one before its first
  token is returned) + the prompt's own prefill steps + that queue, and — weighted
  by 1 / ``test_cycles`` — the first burst, when all C requests arrive at once and wait for each other's
  prefills; plus the request's time outside the engine, and the wait for a KV slot.
- Engines whose prefill steps carry no decodes (SGLang's default) prefill every waiting prompt first, so
  a test whose clients start together with equal lengths re-forms the burst each cycle: all decode and
  finish together. TTFT is the burst's mean wait, and TPOT the decode step plus the burst's steps after a
  request's own (half of them on average). With clients spread out (``test_cycles`` infinite, the
  simulator's steady state) each request's decodes instead wait for every other prompt's prefill steps.

The ideal is the peak-spec step with nothing waiting: a measurement is never better. The band is the
held-out 10th-90th percentile of measured / predicted (engines/performance_data.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import floor, isfinite

from ..errors import ProfileError
from ..plan.performance import EnginePerformance, engine_performance
from ..profile.schema import Profile


@dataclass(frozen=True, slots=True)
class Figure:
    """An expected value with its band and the peak-spec ideal (seconds, or tokens/s)."""

    expected: float
    low: float
    high: float
    ideal: float


@dataclass(frozen=True, slots=True)
class LoadTest:
    concurrency: int
    input_tokens: int
    output_tokens: int
    ttft_s: Figure
    tpot_s: Figure
    output_tokens_per_s: Figure
    running_per_instance: float  # sequences decoding together on one engine instance
    waiting_per_instance: float  # requests waiting for a KV slot
    kind: str  # fitted, calibrated, assumed or extrapolated


@dataclass(frozen=True, slots=True)
class ClosedLoop:
    """The mean-value solution for one instance (seconds)."""

    ttft_s: float
    tpot_s: float
    running: float
    waiting: float


def _check(concurrency: float, input_tokens: float, output_tokens: float) -> None:
    for name, value, lowest in (("concurrency", concurrency, 1), ("input tokens", input_tokens, 0),
                                ("output tokens", output_tokens, 1)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not isfinite(value) or value < lowest:
            raise ProfileError(f"{name} must be a whole number of at least {lowest}, got {value!r}")
        if value != int(value) or value > 100_000_000:
            raise ProfileError(f"{name} must be a whole number up to 100,000,000, got {value!r}")


def running_sequences(perf: EnginePerformance, per_instance: float, input_tokens: float,
                      output_tokens: float) -> float:
    """Sequences one instance runs at once: the requests in flight, at most max_num_seqs and what the KV
    pool holds at an average context of input + output/2, or at their whole length where admission reserves
    it (TensorRT-LLM's GUARANTEED_NO_EVICT: ``SchedulerLimits.reserves_full_length``). 0 when not even one
    sequence fits."""
    limits = perf.limits
    per_sequence = input_tokens + (output_tokens if limits.reserves_full_length else output_tokens / 2)
    held = limits.kv_capacity_tokens / max(1.0, per_sequence)
    if limits.kv_capacity_tokens < input_tokens + output_tokens:
        return 0.0
    return max(1.0, min(per_instance, limits.max_num_seqs, floor(held)))


def closed_loop(perf: EnginePerformance, per_instance: float, input_tokens: float, output_tokens: float,
                cached_fraction: float = 0.0) -> ClosedLoop:
    """TTFT and TPOT of a closed loop with ``per_instance`` requests in flight (module docstring)."""
    step, limits, c = perf.step, perf.limits, perf.step.coefficients
    running = running_sequences(perf, per_instance, input_tokens, output_tokens)
    if running <= 0:
        return ClosedLoop(float("inf"), float("inf"), 0.0, per_instance)
    prompt = max(1.0, input_tokens * (1 - cached_fraction))  # at least the last token is computed
    prefix = input_tokens - prompt if input_tokens > prompt else 0.0
    decodes, context = running, running * (input_tokens + output_tokens / 2)
    budget = max(1.0, limits.max_num_batched_tokens - (decodes if limits.mixed_batches else 0.0))
    per_step = budget if limits.chunked_prefill else max(prompt, floor(budget / prompt) * prompt)
    # clients spread out (test_cycles infinite, the simulator's steady state) form no cohorts
    cohort = max(1.0, (c.cohort if isfinite(c.test_cycles) else 0.0) * min(running, per_step / prompt))
    shared = min(per_step, cohort * prompt)  # prefill tokens of a steady-state prefill step
    burst = min(per_step, running * prompt)  # of a step in the first burst
    own_steps, prefill_steps = max(1.0, prompt / shared), running * prompt / shared
    mixed_decodes = decodes if limits.mixed_batches else 0.0
    mixed_context = context if limits.mixed_batches else 0.0
    decode_s = step.step_time_s(decodes, context)
    prefill_s = step.step_time_s(mixed_decodes, mixed_context, shared, shared * (prefix + prompt / 2))
    burst_s = step.step_time_s(mixed_decodes, mixed_context, burst, burst * (prefix + prompt / 2))
    life = output_tokens - 1 + own_steps + c.arrival_wait
    steps = max(life, prefill_steps)
    burst_steps, own_burst_steps = running * prompt / burst, max(1.0, prompt / burst)
    first = max(own_burst_steps, (burst_steps + 1) / 2) * burst_s
    if limits.mixed_batches:
        tpot = prefill_steps / steps * prefill_s + (1 - prefill_steps / steps) * decode_s
        steady = c.arrival_wait * tpot + own_steps * prefill_s + (steps - life) * tpot
        ttft = first / c.test_cycles + steady * (1 - 1 / c.test_cycles)
    elif isfinite(c.test_cycles):  # prefill first, clients started together: every cycle is the first burst
        tpot = decode_s + max(burst_steps - own_burst_steps, 0.0) / 2 * burst_s / max(output_tokens - 1, 1.0)
        ttft = first
    else:  # clients spread out: each request's decodes wait for the others' prefill steps
        tpot = decode_s + max(prefill_steps - own_steps, 0.0) * prefill_s / max(output_tokens - 1, 1.0)
        ttft = c.arrival_wait * tpot + own_steps * prefill_s
    ttft += perf.request_overhead_s
    waiting = max(per_instance - running, 0.0)
    ttft += waiting / running * (ttft + (output_tokens - 1) * tpot)
    return ClosedLoop(ttft, tpot, running, waiting)


def ideal_closed_loop(perf: EnginePerformance, per_instance: float, input_tokens: float, output_tokens: float,
                      cached_fraction: float = 0.0) -> ClosedLoop:
    """The peak-spec bound: the prompt prefilled alone, decodes at the running batch, nobody waiting."""
    step = perf.step
    running = running_sequences(perf, per_instance, input_tokens, output_tokens)
    if running <= 0:
        return ClosedLoop(float("inf"), float("inf"), 0.0, per_instance)
    prompt = max(1.0, input_tokens * (1 - cached_fraction))
    prefix = input_tokens - prompt if input_tokens > prompt else 0.0
    ttft = step.ideal_step_time_s(0.0, 0.0, prompt, prompt * (prefix + prompt / 2))
    tpot = step.ideal_step_time_s(running, running * (input_tokens + output_tokens / 2))
    return ClosedLoop(ttft, tpot, running, 0.0)


def _rate(per_instance: float, instances: int, output_tokens: float, loop: ClosedLoop) -> float:
    """Output tokens/s of the deployment: every request in flight delivers ``output`` tokens per life."""
    life = loop.ttft_s + (output_tokens - 1) * loop.tpot_s
    return instances * per_instance * output_tokens / life if life > 0 and isfinite(life) else 0.0


def load_test(profile: Profile, concurrency: int, input_tokens: int, output_tokens: int,
              perf: EnginePerformance | None = None) -> LoadTest:
    """A closed-loop load test of the whole deployment (see the module docstring). ProfileError on bad input."""
    _check(concurrency, input_tokens, output_tokens)
    perf = perf or engine_performance(profile)
    per_instance = concurrency / perf.instances
    cached = profile.workload.prefix_cache_hit
    loop = closed_loop(perf, per_instance, input_tokens, output_tokens, cached)
    ideal = ideal_closed_loop(perf, per_instance, input_tokens, output_tokens, cached)
    band = perf.bands
    rate = _rate(per_instance, perf.instances, output_tokens, loop)
    # the ideal counts only what runs at once: requests the KV pool or max_num_seqs cannot hold add no output
    rate_ideal = _rate(min(per_instance, ideal.running), perf.instances, output_tokens, ideal)

    return LoadTest(
        concurrency=concurrency, input_tokens=input_tokens, output_tokens=output_tokens,
        ttft_s=Figure(loop.ttft_s, *band.ttft.around_time(loop.ttft_s, ideal.ttft_s), ideal.ttft_s),
        tpot_s=Figure(loop.tpot_s, *band.tpot.around_time(loop.tpot_s, ideal.tpot_s), ideal.tpot_s),
        output_tokens_per_s=Figure(rate, *band.throughput.around_rate(rate, rate_ideal), rate_ideal),
        running_per_instance=loop.running, waiting_per_instance=loop.waiting, kind=perf.kind)
