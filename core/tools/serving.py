"""Closed-loop serving throughput: what a load test (``vllm bench serve --max-concurrency C``) measures.

A benchmark keeps C requests of ``input_tokens`` in and ``output_tokens`` out in flight. Under
continuous batching with chunked prefill each engine step decodes one token for every running
sequence and also prefills the prompts of the requests that replace finished ones: per output token,
input/output prompt tokens (docs/accuracy.md, "Serving throughput"). So, per KV pool,

    running      = min(C / pools, sequences that fit at context input + output / 2)
    step         = decode_step(running) + running * (input / output) * (1 - prefix hit) / prefill_rate_per_pool
    output tok/s = pools * running / step

The ideal figure is the same at peak spec (mbu = mfu = 1): a measurement above it means the profile
is not the measured system. One measured point back-solves the engine's own time per step (or the
memory-bandwidth utilization, when the roofline alone is already slower); two or more fit that time as
a fixed part plus a part per running sequence (``fit_engine_time``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ProfileError
from ..plan.compose import plan
from ..profile.edit import edit_profile, with_section
from ..profile.schema import Profile
from .loadtest import load_test

BISECTION_STEPS = 48


@dataclass(frozen=True, slots=True)
class ServingEstimate:
    output_tokens_per_s: float  # the whole deployment, at the profile's mbu/mfu
    output_tokens_per_s_ideal: float  # at peak spec
    running_per_pool: float  # sequences decoding together in one KV pool (C, or what fits)
    step_time: float  # seconds per engine step, prefill share included


def serving_profile(profile: Profile, concurrency: int, input_tokens: int, output_tokens: int) -> Profile:
    """The profile with its workload set to a closed-loop benchmark of ``concurrency`` requests."""
    workload = {**profile.workload.model_dump(), "max_context_tokens": input_tokens + output_tokens,
                "avg_context_tokens": max(1, input_tokens + output_tokens // 2), "prompt_tokens": input_tokens,
                "output_tokens": output_tokens, "users": concurrency, "duty_cycle": 1.0,
                "target_tokens_per_s": 0.0, "ttft_target_s": 0.0}
    return with_section(profile, "workload", workload)


def serving_throughput(profile: Profile, concurrency: int, input_tokens: int, output_tokens: int) -> ServingEstimate:
    """Output tokens/s of the whole deployment under a closed-loop benchmark (see the module docstring)."""
    if concurrency < 1 or input_tokens < 0 or output_tokens < 1:
        raise ProfileError("a serving benchmark needs concurrency >= 1, input >= 0 and output >= 1 tokens")
    at = serving_profile(profile, concurrency, input_tokens, output_tokens)
    if profile.engine.speed == "fitted":  # the fitted model's closed loop (core/tools/loadtest.py)
        test = load_test(at, concurrency, input_tokens, output_tokens)
        return ServingEstimate(test.output_tokens_per_s.expected, test.output_tokens_per_s.ideal,
                               test.running_per_instance, test.tpot_s.expected)
    return _estimate(at)


def _estimate(at: Profile) -> ServingEstimate:
    """``serving_throughput`` for a profile whose workload is already the benchmark's."""
    result = plan(at)
    if result.capacity.concurrent_sequences < 1:
        return ServingEstimate(0.0, 0.0, 0.0, float("inf"))
    pools, running = result.capacity.kv_groups, result.decode.batch
    work = at.workload
    prompt_per_output = work.prompt_tokens * (1 - work.prefix_cache_hit) / work.output_tokens

    def rate(step: float, prefill_tokens_per_s: float) -> tuple[float, float]:
        total = step + running * prompt_per_output / (prefill_tokens_per_s / at.parallelism.data)
        return pools * running / total, total

    expected, step = rate(result.decode.step_time, result.prefill.tokens_per_s)
    ideal, _ = rate(result.decode.step_time_ideal, result.prefill.tokens_per_s_ideal)
    return ServingEstimate(expected, ideal, running, step)


def _bisect(rate_at, measured: float, low: float, high: float, rising: bool) -> float:
    """The argument in [low, high] where ``rate_at`` crosses ``measured`` (monotonic either way)."""
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        below = rate_at(middle) < measured
        low, high = (middle, high) if below == rising else (low, middle)
    return (low + high) / 2


def _below_the_ceiling(measured: float, concurrency: int, estimate: ServingEstimate) -> None:
    """ProfileError when a measurement is faster than the profile's peak-spec ceiling: not the same system."""
    if measured > estimate.output_tokens_per_s_ideal * (1 + 1e-9):
        raise ProfileError(f"{measured:,.0f} output tok/s at {concurrency} concurrent requests is above this profile's "
                           f"peak-spec ceiling of {estimate.output_tokens_per_s_ideal:,.0f} tok/s: check the GPU, the "
                           f"model and the precisions")


def calibrate_serving_point(profile: Profile, measured_output_tokens_per_s: float, concurrency: int,
                            input_tokens: int, output_tokens: int) -> tuple[str, float]:
    """What one closed-loop measurement says about the engine: ("step_overhead_ms", value) when the
    profile's roofline (at its mbu/mfu) is faster than measured, the gap being the engine's own time
    per step; else ("mbu", value), the bandwidth utilization that explains it with no overhead.
    ProfileError above the peak-spec ceiling."""
    if measured_output_tokens_per_s <= 0:
        raise ProfileError("a measured throughput must be above 0 tok/s")
    without_overhead = edit_profile(profile, "engine.step_overhead_ms", 0.0)
    at = serving_profile(without_overhead, concurrency, input_tokens, output_tokens)
    base = _estimate(at)
    _below_the_ceiling(measured_output_tokens_per_s, concurrency, base)

    def rate(field: str, value: float) -> float:
        return _estimate(edit_profile(at, field, value)).output_tokens_per_s

    if base.output_tokens_per_s >= measured_output_tokens_per_s:
        return "step_overhead_ms", _bisect(lambda ms: rate("engine.step_overhead_ms", ms), measured_output_tokens_per_s,
                                           0.0, 10_000.0, rising=False)
    if rate("engine.mbu", 1.0) < measured_output_tokens_per_s:
        raise ProfileError(f"{measured_output_tokens_per_s:,.0f} output tok/s needs a higher FLOPs utilization than "
                           f"the profile's {profile.engine.mfu:.0%}: the prefill share alone is slower")
    return "mbu", _bisect(lambda mbu: rate("engine.mbu", mbu), measured_output_tokens_per_s, 1e-4, 1.0, rising=True)


@dataclass(frozen=True, slots=True)
class EngineTimeFit:
    """The engine's own time per step, beyond the roofline: ``overhead_ms + per_sequence_us * running``."""

    overhead_ms: float
    per_sequence_us: float
    worst_error: float  # largest |predicted / measured - 1| over the measured points


def _nonnegative_least_squares(rows: Sequence[tuple[float, float, float]]) -> tuple[float, float]:
    """(x, y) >= 0 minimising sum (a x + c y - target)^2 over rows (a, c, target): the unconstrained
    solution when it is feasible, else the best with one or both held at 0 (exact for two unknowns)."""
    s_aa = sum(a * a for a, _, _ in rows)
    s_cc = sum(c * c for _, c, _ in rows)
    s_ac = sum(a * c for a, c, _ in rows)
    r_a = sum(a * t for a, _, t in rows)
    r_c = sum(c * t for _, c, t in rows)
    candidates = [(0.0, 0.0), (max(0.0, r_a / s_aa), 0.0), (0.0, max(0.0, r_c / s_cc))]
    determinant = s_aa * s_cc - s_ac * s_ac
    if determinant > 1e-12 * s_aa * s_cc:
        x, y = (r_a * s_cc - r_c * s_ac) / determinant, (s_aa * r_c - s_ac * r_a) / determinant
        if x >= 0 and y >= 0:
            candidates.append((x, y))

    def squared_error(solution: tuple[float, float]) -> float:
        return sum((a * solution[0] + c * solution[1] - t) ** 2 for a, c, t in rows)

    return min(candidates, key=squared_error)


def fit_engine_time(profile: Profile, points: Sequence[tuple[float, int]], input_tokens: int,
                    output_tokens: int) -> EngineTimeFit:
    """Fit the engine's time per step to two or more load-test points ``(output tok/s, concurrency)``.

    Each point's measured step is pools * running / measured; the plan's step with no engine time is
    T0; the fit chooses overhead o >= 0 and per-sequence time b >= 0 so that T0 + o + b * running
    matches the measured steps with the least squared relative error (docs/accuracy.md, "Calibration").
    """
    if len(points) < 2:
        raise ProfileError("fitting the engine's time per sequence needs two or more measured points")
    bare = edit_profile(profile, "engine.step_overhead_ms", 0.0)
    bare = edit_profile(bare, "engine.step_overhead_per_sequence_us", 0.0)
    rows, measured_steps = [], []
    for measured, concurrency in points:
        if measured <= 0 or concurrency < 1:
            raise ProfileError(f"{measured:g} tok/s at {concurrency} concurrent requests: a measured point needs "
                               f"tok/s > 0 at a concurrency of at least 1")
        estimate = serving_throughput(bare, concurrency, input_tokens, output_tokens)
        _below_the_ceiling(measured, concurrency, estimate)
        step = estimate.step_time * estimate.output_tokens_per_s / measured  # pools * running / measured
        rows.append((1 / step, estimate.running_per_pool / step, 1 - estimate.step_time / step))
        measured_steps.append((estimate.running_per_pool, estimate.step_time, step))
    if len({running for running, _, _ in measured_steps}) < 2:
        why = ("what fits in the KV cache caps the batch; measure at lower concurrency"
               if len({concurrency for _, concurrency in points}) > 1 else "measure at two or more concurrencies")
        raise ProfileError(f"every point runs {measured_steps[0][0]:g} sequences per KV pool, so a time per sequence "
                           f"cannot be told from a time per step: {why}")
    overhead_s, per_sequence_s = _nonnegative_least_squares(rows)
    if overhead_s == 0 and per_sequence_s == 0:
        raise ProfileError(f"the profile's roofline (mbu {profile.engine.mbu:g}, mfu {profile.engine.mfu:g}) is "
                           "already "
                           f"slower than every measured point: calibrate on one point, which raises the bandwidth "
                           f"utilization, or raise engine.mbu and engine.mfu")
    worst = max(abs(step / (bare_step + overhead_s + per_sequence_s * running) - 1)
                for running, bare_step, step in measured_steps)
    return EngineTimeFit(overhead_s * 1e3, per_sequence_s * 1e6, worst)
