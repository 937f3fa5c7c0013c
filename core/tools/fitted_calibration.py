"""Calibration on top of the fitted performance model (docs/accuracy.md, "Calibration").

One measured load-test point rescales the fitted model: ``engine.speed_scale`` multiplies every term of
the fitted step time, back-solved so that the load test (core/tools/loadtest.py) reproduces the
measured output tokens/s. Two or more points also refit the engine's own time: the scale and an engine
time per running sequence (``engine.step_overhead_per_sequence_us``, >= 0), or per step
(``engine.step_overhead_ms``) when that fits better, by least squares on log(predicted / measured).

The searches reuse one ``engine_performance`` and change only its coefficients, so a fit costs
milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from math import exp, log

from ..errors import ProfileError
from ..plan.performance import EnginePerformance, engine_performance
from ..profile.edit import edit_profile
from ..profile.schema import Profile
from .loadtest import closed_loop, ideal_closed_loop

SCALE_RANGE = (0.02, 50.0)
PER_SEQUENCE_RANGE_S = (0.0, 5e-3)
PER_STEP_RANGE_S = (0.0, 0.2)
BISECTION_STEPS = 40
GOLDEN_STEPS = 32


@dataclass(frozen=True, slots=True)
class FittedCalibration:
    speed_scale: float
    step_overhead_ms: float
    per_sequence_us: float
    worst_error: float  # largest |predicted / measured - 1| over the points


def _bare(profile: Profile) -> Profile:
    """The profile with its previous calibration undone (scale 1, no added engine time)."""
    for field, value in (("engine.speed_scale", 1.0), ("engine.step_overhead_ms", 0.0),
                         ("engine.step_overhead_per_sequence_us", 0.0)):
        if getattr(profile.engine, field.split(".")[1]) != value:
            profile = edit_profile(profile, field, value)
    return profile


def _tokens_per_s(perf: EnginePerformance, per_instance: float, output_tokens: int, ttft_s: float,
                  tpot_s: float) -> float:
    """Output tok/s of ``per_instance`` closed-loop requests on each instance, each living
    TTFT + (output - 1) x TPOT (Little's law); 0 for a request that takes no time."""
    life = ttft_s + (output_tokens - 1) * tpot_s
    return perf.instances * per_instance * output_tokens / life if life > 0 else 0.0


def _rate(perf: EnginePerformance, concurrency: int, input_tokens: int, output_tokens: int) -> float:
    per_instance = concurrency / perf.instances
    loop = closed_loop(perf, per_instance, input_tokens, output_tokens)
    return _tokens_per_s(perf, per_instance, output_tokens, loop.ttft_s, loop.tpot_s)


def _at(perf: EnginePerformance, scale: float, step_s: float, sequence_s: float) -> EnginePerformance:
    step = replace(perf.step, coefficients=perf.step.coefficients.scaled(scale, step_s, sequence_s))
    return replace(perf, step=step)


def _check_points(perf: EnginePerformance, points: Sequence[tuple[float, int]], input_tokens: int,
                  output_tokens: int) -> None:
    for measured, concurrency in points:
        if not measured > 0 or concurrency < 1:
            raise ProfileError(f"{measured:g} tok/s at {concurrency} concurrent requests: a measured point needs "
                               f"tok/s > 0 at a concurrency of at least 1")
        per_instance = concurrency / perf.instances
        bound = ideal_closed_loop(perf, per_instance, input_tokens, output_tokens)
        ceiling = _tokens_per_s(perf, per_instance, output_tokens, bound.ttft_s, bound.tpot_s)
        if measured > ceiling * (1 + 1e-9):
            raise ProfileError(f"{measured:,.0f} output tok/s at {concurrency} concurrent requests is above this "
                               f"profile's peak-spec ceiling of {ceiling:,.0f} tok/s: check the GPU, the model and "
                               f"the precisions")


def _scale_for(perf: EnginePerformance, points, input_tokens: int, output_tokens: int, step_s: float,
               sequence_s: float) -> float:
    """The scale at which the mean log error over the points is 0 (the rate falls as the scale grows)."""
    low, high = log(SCALE_RANGE[0]), log(SCALE_RANGE[1])
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        at = _at(perf, exp(middle), step_s, sequence_s)
        error = sum(log(_rate(at, c, input_tokens, output_tokens) / m) for m, c in points) / len(points)
        low, high = (middle, high) if error > 0 else (low, middle)
    return exp((low + high) / 2)


def _squared_error(perf, points, input_tokens, output_tokens, step_s, sequence_s) -> tuple[float, float]:
    scale = _scale_for(perf, points, input_tokens, output_tokens, step_s, sequence_s)
    at = _at(perf, scale, step_s, sequence_s)
    return sum(log(_rate(at, c, input_tokens, output_tokens) / m) ** 2 for m, c in points), scale


def _golden(cost, low: float, high: float) -> float:
    ratio = (5 ** 0.5 - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    cost_a, cost_b = cost(a), cost(b)
    for _ in range(GOLDEN_STEPS):
        if cost_a < cost_b:
            high, b, cost_b = b, a, cost_a
            a = high - ratio * (high - low)
            cost_a = cost(a)
        else:
            low, a, cost_a = a, b, cost_b
            b = low + ratio * (high - low)
            cost_b = cost(b)
    best = min((cost(low), low), (cost((a + b) / 2), (a + b) / 2))
    return best[1]


def calibrate_fitted(profile: Profile, points: Sequence[tuple[float, int]], input_tokens: int,
                     output_tokens: int) -> FittedCalibration:
    """Scale (one point) or scale and engine time (two or more) so the load test meets the points."""
    if not points:
        raise ProfileError("calibration needs at least one measured point")
    perf = engine_performance(_bare(profile))
    _check_points(perf, points, input_tokens, output_tokens)
    step_s = sequence_s = 0.0
    if len(points) == 1:
        scale = _scale_for(perf, points, input_tokens, output_tokens, 0.0, 0.0)
    else:
        if len({concurrency for _, concurrency in points}) < 2:
            raise ProfileError("every point was measured at the same concurrency: an engine time per running "
                               "sequence cannot be told from a time per step; measure at two or more concurrencies")

        def per_sequence(value: float) -> float:
            return _squared_error(perf, points, input_tokens, output_tokens, 0.0, value)[0]

        def per_step(value: float) -> float:
            return _squared_error(perf, points, input_tokens, output_tokens, value, 0.0)[0]

        sequence_s = _golden(per_sequence, *PER_SEQUENCE_RANGE_S)
        candidate_step = _golden(per_step, *PER_STEP_RANGE_S)
        if per_step(candidate_step) < per_sequence(sequence_s):
            step_s, sequence_s = candidate_step, 0.0
        scale = _scale_for(perf, points, input_tokens, output_tokens, step_s, sequence_s)
    at = _at(perf, scale, step_s, sequence_s)
    worst = max(abs(_rate(at, c, input_tokens, output_tokens) / m - 1) for m, c in points)
    return FittedCalibration(scale, step_s * 1e3, sequence_s * 1e6, worst)
