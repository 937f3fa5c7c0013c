"""Calibrate a profile from what the user measured: a vLLM start-up log, or a throughput figure.

From a log, the engine's own memory accounting replaces the empirical defaults: the profiled
activation peak, the non-torch (and CUDA graph) memory, the memory utilization, and the weights as
loaded (which become the checkpoint's exact size). From a measured figure on the fitted performance
model (``engine.speed = "fitted"``), ``engine.speed_scale`` rescales the fitted step time to reproduce it
(a load test, decode, prefill or TTFT figure; two or more load-test points also refit the engine's time);
on ``speed = "roofline"`` the achieved memory-bandwidth utilization (decode) or model-FLOPs utilization
(prefill, TTFT) is back-solved.
Whatever was calibrated is written into [engine] with where it came from (``engine.calibration``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import isfinite

from ..engines.vllm import driver_reserved
from ..errors import ProfileError
from ..plan.compose import plan
from ..plan.result import Plan
from ..profile.edit import edit_profile, with_section
from ..profile.files import profile_to_dict
from ..profile.schema import Profile
from ..specs.specs import GIB
from .fitted_calibration import calibrate_fitted
from .serving import calibrate_serving_point, fit_engine_time

MAX_PLAUSIBLE_RESERVED_GIB = 2.0  # more between the profile's GPU and the log's means another GPU


@dataclass(frozen=True)
class Calibrated:
    profile: Profile
    changes: tuple[str, ...]  # one line per value set, with its source


CALIBRATION_NOTE_CHARS = 2000  # Engine.calibration's limit
LOOSE_FIT = 0.10  # a two-or-more-point fit further than this from a measured point says so
RESCALE_STEPS = 8  # fixed-point steps of speed_scale *= measured / predicted (exact in one without added time)


def _note(profile: Profile, line: str) -> str:
    """The profile's calibration note with ``line`` added; the oldest entries go first when it is full,
    so the newest calibration is always there whole."""
    parts = [part for part in profile.engine.calibration.split("; ") if part] + [line]
    while len(parts) > 1 and len("; ".join(parts)) > CALIBRATION_NOTE_CHARS:
        parts.pop(0)
    return "; ".join(parts)[-CALIBRATION_NOTE_CHARS:]


def _calibrated(profile: Profile, values: dict[str, float], line: str, facts: dict | None = None) -> Profile:
    """The profile with the [engine] ``values`` set, recorded as calibrated (``Engine.calibrated``), and
    ``line`` added to the calibration note; ``facts``: [engine] settings read from a log, set as they are."""
    engine = {**profile_to_dict(profile)["engine"], **(facts or {}), **values}
    engine["calibrated"] = {**profile.engine.calibrated, **values}
    engine["calibration"] = _note(profile, line)
    return with_section(profile, "engine", engine)


def calibrate_from_log(profile: Profile, facts, source: str = "vLLM log") -> Calibrated:
    """Take the engine's accounting from a parsed vLLM start-up log (``core.sources.vllm_log.VllmLogFacts``)."""
    changes: list[str] = []
    settings: dict[str, float] = {}  # what the deployment was set to
    measured: dict[str, float] = {}  # the engine's memory terms the log gives (recorded as calibrated)
    if facts.gpu_memory_utilization is not None:
        settings["gpu_memory_utilization"] = facts.gpu_memory_utilization
        changes.append(f"gpu_memory_utilization {facts.gpu_memory_utilization:g} (from the log)")
    if facts.activation_peak_gib is not None:
        measured["activation_gib"] = facts.activation_peak_gib
        changes.append(f"activation_gib {facts.activation_peak_gib:g} (the profiled activation peak)")
    overhead = sum(x for x in (facts.non_torch_gib, facts.cuda_graph_gib) if x is not None)
    if facts.non_torch_gib is not None or facts.cuda_graph_gib is not None:
        measured["overhead_gib"] = overhead
        changes.append(f"overhead_gib {overhead:g} (non-torch memory and CUDA graphs)")
    result = profile
    if facts.total_gpu_memory_gib is not None:  # the memory vLLM saw, below the driver's figure
        hardware = dict(profile_to_dict(profile)["hardware"])
        seen = facts.total_gpu_memory_gib
        hidden = hardware["memory_gib"] - seen
        if 0 <= hidden <= MAX_PLAUSIBLE_RESERVED_GIB:  # the same GPU: the log measures what its driver keeps
            hardware["driver_reserved_gib"] = round(hidden, 4)
            changes.append(f"driver_reserved_gib {hidden:.2f} (memory_gib less the {seen:g} GiB vLLM saw)")
        else:  # the log ran on a GPU of another size
            reserved = driver_reserved(hardware.get("driver_reserved_gib"))
            hardware["memory_gib"] = round(seen + reserved, 4)
            changes.append(f"memory_gib {hardware['memory_gib']:g} (the {seen:g} GiB vLLM saw, plus the {reserved:g} "
                           f"GiB the driver keeps from it)")
        result = with_section(result, "hardware", hardware)
    if facts.weights_gib is not None:
        model = dict(profile_to_dict(result)["model"])
        model.pop("preset", None)
        tensor_ranks = facts.tensor_parallel_size or profile.parallelism.tensor
        model["checkpoint_gib"] = facts.weights_gib * tensor_ranks * profile.parallelism.pipeline
        model["checkpoint_weight_dtype"] = model["weight_dtype"]
        result = with_section(result, "model", model)
        changes.append(f"weights {facts.weights_gib:g} GiB per GPU as loaded (the checkpoint's exact size)")
    calibrated = _calibrated(result, measured, f"{source}: " + ", ".join(changes), settings) if changes else result
    if facts.available_kv_gib is not None and facts.activation_peak_gib is None:
        calibrated, line = _overhead_for_kv_memory(calibrated, facts.available_kv_gib, source)
        changes.append(line)
    if not changes:
        raise ProfileError(f"{source}: nothing to calibrate from (no memory profiling lines found)")
    return Calibrated(calibrated, tuple(changes))


def _overhead_for_kv_memory(profile: Profile, available_kv_gib: float, source: str) -> tuple[Profile, str]:
    """Back-solve the non-weight memory so the plan's KV budget equals what the engine logged."""
    memory = plan(profile).memory.per_gpu
    fixed = memory.usable - memory.weights - available_kv_gib * GIB
    if fixed < 0:
        raise ProfileError(f"{source}: {available_kv_gib:g} GiB of KV memory is more than this GPU's usable memory "
                           f"less the weights; is the profile the same deployment as the log?")
    line = f"activations + overhead {fixed / GIB:.2f} GiB (so the KV memory is the {available_kv_gib:g} GiB logged)"
    return _calibrated(profile, {"activation_gib": fixed / GIB, "overhead_gib": 0.0}, f"{source}: {line}"), line


def calibrate_decode(profile: Profile, tokens_per_s_aggregate: float, concurrency: int) -> Calibrated:
    """Back-solve the memory-bandwidth utilization from aggregate decode tokens/s at a concurrency.

    At ``concurrency`` sequences decoding together the step is memory time / mbu (plus collectives)
    when memory-bound: mbu = memory_time_at_full_bandwidth / (concurrency / measured - collectives).
    """
    if tokens_per_s_aggregate <= 0 or concurrency < 1:
        raise ProfileError("a decode measurement needs tokens/s > 0 at a concurrency of at least 1")
    if profile.engine.speed == "fitted":
        groups = profile.parallelism.data * profile.parallelism.replicas
        at = edit_profile(edit_profile(edit_profile(profile, "workload.target_tokens_per_s", 0.0),
                                       "workload.duty_cycle", 1.0), "workload.users", concurrency * groups)
        return _rescaled(at, profile, lambda r: r.decode.step_time, lambda r: r.decode.step_time_ideal,
                         concurrency / tokens_per_s_aggregate,
                         f"{tokens_per_s_aggregate:,.0f} decode tok/s measured at {concurrency} concurrent sequences")
    ideal = edit_profile(edit_profile(profile, "engine.mbu", 1.0), "workload.target_tokens_per_s", 0.0)
    groups = ideal.parallelism.data * ideal.parallelism.replicas  # KV pools, as plan() counts them
    at = edit_profile(edit_profile(ideal, "workload.duty_cycle", 1.0), "workload.users", concurrency * groups)
    result = plan(at)
    step = concurrency / tokens_per_s_aggregate
    memory_budget = step - result.decode.collective_time
    if memory_budget <= 0 or result.decode.memory_time > memory_budget * (1 + 1e-9):
        raise ProfileError(f"{tokens_per_s_aggregate:,.0f} tok/s at {concurrency} sequences is faster than this "
                           f"profile's peak-spec ceiling ({concurrency / result.decode.step_time:,.0f} tok/s): "
                           f"check the GPU, the model and the precisions")
    mbu = result.decode.memory_time / memory_budget
    line = (f"mbu {mbu:.3f} from {tokens_per_s_aggregate:,.0f} decode tok/s measured at {concurrency} concurrent "
            f"sequences")
    updated = _calibrated(profile, {"mbu": round(mbu, 4)}, line)
    return Calibrated(updated, (line,))


def calibrate_prefill(profile: Profile, tokens_per_s: float) -> Calibrated:
    """Back-solve the model-FLOPs utilization from measured prefill tokens/s at the workload's prompt."""
    if profile.engine.speed == "fitted":
        if not tokens_per_s > 0:
            raise ProfileError(f"{tokens_per_s:g} prefill tok/s: a prefill measurement needs tokens/s > 0")
        return _rescaled(profile, profile, lambda r: 1 / r.prefill.tokens_per_s,
                         lambda r: 1 / r.prefill.tokens_per_s_ideal, 1 / tokens_per_s,
                         f"{tokens_per_s:,.0f} prefill tok/s measured at {profile.workload.prompt_tokens:,}-token "
                         f"prompts")
    ideal = plan(edit_profile(profile, "engine.mfu", 1.0)).prefill.tokens_per_s
    if tokens_per_s <= 0 or tokens_per_s > ideal * (1 + 1e-9):
        raise ProfileError(f"{tokens_per_s:,.0f} prefill tok/s is not between 0 and this profile's peak-spec "
                           f"ceiling of {ideal:,.0f} tok/s")
    mfu = tokens_per_s / ideal
    prompt = profile.workload.prompt_tokens
    line = f"mfu {mfu:.3f} from {tokens_per_s:,.0f} prefill tok/s measured at {prompt:,}-token prompts"
    updated = _calibrated(profile, {"mfu": round(mfu, 4)}, line)
    return Calibrated(updated, (line,))


def calibrate_ttft(profile: Profile, ttft_s: float) -> Calibrated:
    """Back-solve the model-FLOPs utilization from a measured time to first token at the workload's prompt."""
    if profile.engine.speed == "fitted":
        if not ttft_s > 0:
            raise ProfileError(f"a TTFT of {ttft_s:g} s: a measured time to first token is above 0")
        return _rescaled(profile, profile, lambda r: r.prefill.ttft, lambda r: r.prefill.ttft_ideal, ttft_s,
                         f"a {ttft_s:g} s time to first token measured at {profile.workload.prompt_tokens:,}-token "
                         f"prompts")
    result = plan(profile)
    uncached = profile.workload.prompt_tokens * (1 - profile.workload.prefix_cache_hit)
    prefill_s = ttft_s - result.decode.step_time
    if uncached <= 0 or prefill_s <= 0:
        raise ProfileError(f"a TTFT of {ttft_s:g} s leaves no prefill time beyond one decode step "
                           f"({result.decode.step_time:.3f} s), or the prompt is empty")
    rate = uncached * profile.workload.concurrent_prefills / prefill_s
    return calibrate_prefill(profile, rate)


def _rescaled(at: Profile, profile: Profile, predicted: Callable[[Plan], float],
              ideal: Callable[[Plan], float], measured: float, what: str) -> Calibrated:
    """``profile`` with ``engine.speed_scale`` set so that ``predicted`` (a time, on ``at``: the profile at the
    measured load) equals ``measured``; refused below the peak-spec ``ideal``."""
    result = plan(at)
    if measured < ideal(result) * (1 - 1e-9):
        raise ProfileError(f"{what} is faster than this profile's peak-spec ceiling: check the GPU, the model and "
                           f"the precisions")
    scale = profile.engine.speed_scale
    for _ in range(RESCALE_STEPS):
        scale *= measured / predicted(result)
        if not 1e-3 <= scale <= 100:
            raise ProfileError(f"{what} cannot be reached by rescaling the fitted model (speed_scale {scale:.3g} "
                               f"is outside 0.001-100): check the GPU, the model and the precisions")
        result = plan(edit_profile(at, "engine.speed_scale", scale))
    line = f"speed_scale {scale:.3f} (the fitted step time times this) from {what}"
    return Calibrated(_calibrated(profile, {"speed_scale": round(scale, 5)}, line), (line,))


def calibrate_serving(profile: Profile, output_tokens_per_s: float, concurrency: int) -> Calibrated:
    """Calibrate from a load test (``vllm bench serve --max-concurrency C``) at the workload's prompt and
    output lengths: the engine's time per step, or the bandwidth utilization (core/tools/serving.py). The
    profile's time per running sequence, if any, is kept."""
    work = profile.workload
    if profile.engine.speed == "fitted":
        return _calibrate_fitted(profile, [(output_tokens_per_s, concurrency)])
    field, value = calibrate_serving_point(profile, output_tokens_per_s, concurrency, work.prompt_tokens,
                                           work.output_tokens)
    shown = f"{value:.2f} ms per step" if field == "step_overhead_ms" else f"{value:.3f}"
    line = (f"{field.replace('_ms', '')} {shown} from {output_tokens_per_s:,.0f} output tok/s measured at "
            f"{concurrency} concurrent requests of {work.prompt_tokens:,} in / {work.output_tokens:,} out")
    return Calibrated(_calibrated(profile, {"step_overhead_ms": 0.0, field: round(value, 4)}, line), (line,))


def calibrate_serving_points(profile: Profile, points: list[tuple[float, int]]) -> Calibrated:
    """Calibrate from two or more load-test points ``(output tok/s, concurrency)`` at the workload's
    prompt and output lengths: the engine's time per step as a fixed part plus a part per running
    sequence (``core.tools.serving.fit_engine_time``)."""
    work = profile.workload
    if profile.engine.speed == "fitted":
        return _calibrate_fitted(profile, points)
    fit = fit_engine_time(profile, points, work.prompt_tokens, work.output_tokens)
    (first_rate, first_concurrency), rest = points[0], points[1:]
    measured = ", ".join([f"{first_rate:,.0f} output tok/s at {first_concurrency} concurrent "
                          f"request{'s' * (first_concurrency != 1)}"]
                         + [f"{rate:,.0f} at {concurrency}" for rate, concurrency in rest])
    line = (f"step_overhead {fit.overhead_ms:.2f} ms per step + {fit.per_sequence_us:.1f} µs per running sequence "
            f"from {measured} ({work.prompt_tokens:,} in / {work.output_tokens:,} out; the fit is within "
            f"{fit.worst_error:.1%} of them)")
    if fit.worst_error > LOOSE_FIT:
        line += ("; a loose fit: check that the points come from one steady system, and the profile's bandwidth and "
                 "FLOPs use")
    values = {"step_overhead_ms": round(fit.overhead_ms, 4),
              "step_overhead_per_sequence_us": round(fit.per_sequence_us, 3)}
    return Calibrated(_calibrated(profile, values, line), (line,))


def _calibrate_fitted(profile: Profile, points: list[tuple[float, int]]) -> Calibrated:
    """Rescale the fitted model (one point) or rescale it and refit the engine's own time (two or more):
    core/tools/fitted_calibration.py."""
    work = profile.workload
    fit = calibrate_fitted(profile, points, work.prompt_tokens, work.output_tokens)
    (first_rate, first_concurrency), rest = points[0], points[1:]
    measured = ", ".join([f"{first_rate:,.0f} output tok/s at {first_concurrency} concurrent "
                          f"request{'s' * (first_concurrency != 1)}"]
                         + [f"{rate:,.0f} at {concurrency}" for rate, concurrency in rest])
    line = f"speed_scale {fit.speed_scale:.3f} (the fitted step time times this)"
    if len(points) > 1:
        line += (f" + {fit.step_overhead_ms:.2f} ms per step + {fit.per_sequence_us:.1f} µs per running sequence"
                 f" (within {fit.worst_error:.1%} of the points)")
        if fit.worst_error > LOOSE_FIT:
            line += "; a loose fit: check that the points come from one steady system"
    line += f" from {measured} ({work.prompt_tokens:,} in / {work.output_tokens:,} out)"
    values = {"speed_scale": round(fit.speed_scale, 5), "step_overhead_ms": round(fit.step_overhead_ms, 4),
              "step_overhead_per_sequence_us": round(fit.per_sequence_us, 3)}
    return Calibrated(_calibrated(profile, values, line), (line,))


def _finite(number: float) -> float:
    """``number``, or ValueError for nan and infinities (which parse as floats)."""
    if not isfinite(number):
        raise ValueError(number)
    return number


def _serving_points(text: str, value: str) -> list[tuple[float, int]]:
    """"920@64" or "1042@4,8428@64" as (output tok/s, concurrency) pairs."""
    points = []
    for part in value.split(","):
        rate, _, concurrency = part.strip().partition("@")
        try:
            points.append((_finite(float(rate)), int(concurrency)))
        except ValueError:
            raise ProfileError(f"{text!r}: each load-test point is OUTPUT_TOK_S@CONCURRENCY, e.g. serving=920@64 or "
                               f"serving=1042@4,8428@64 (got {part.strip()!r})") from None
    return points


def calibrate_measured(profile: Profile, text: str) -> Calibrated:
    """Calibrate from "serving=OUT_TOK_S@CONCURRENCY" (or several, comma-separated), "decode=TOK_S@CONCURRENCY",
    "prefill=TOK_S" or "ttft=SECONDS" (CLI and app)."""
    kind, _, value = text.strip().partition("=")
    kind = kind.strip().lower()
    if kind == "serving":
        points = _serving_points(text, value)
        if len(points) == 1:
            return calibrate_serving(profile, *points[0])
        return calibrate_serving_points(profile, points)
    rate, _, concurrency = value.partition("@")
    try:
        number, sequences = _finite(float(rate)), int(concurrency or 1)
    except ValueError:
        raise ProfileError(f"{text!r}: the value must be a number (serving=920@64, decode=1800@64, prefill=12000, "
                           "ttft=0.8)") from None
    if kind == "decode":
        return calibrate_decode(profile, number, sequences)
    if kind == "prefill":
        return calibrate_prefill(profile, number)
    if kind == "ttft":
        return calibrate_ttft(profile, number)
    raise ProfileError(f"{text!r}: use serving=OUTPUT_TOK_S@CONCURRENCY[,...], decode=TOK_S@CONCURRENCY, prefill=TOK_S "
                       f"or ttft=SECONDS")
