"""``plan(profile) -> Plan``: every figure of a deployment, computed once, frozen.

A short composition of stages in the order of docs/design/physics.md: memory per GPU, KV cache and
capacity, the decode step, prefill, cost; then the advice (warnings and notes). Each stage is a small
function over the profile and the stages before it. A model that does not fit still gets a plan that
says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from ..engines.vllm_pool import VllmReport, vllm_report
from ..physics.capacity import (
    capacity_users,
    kv_tokens_capacity,
    replicas_needed,
    sequences_that_fit,
)
from ..physics.cost import (
    cost_per_hour,
    cost_per_million_tokens,
    cost_per_user_month,
    own_cost_per_hour,
    own_lifetime_cost_per_user,
)
from ..physics.decode import (
    NVLINK_COLLECTIVE_LATENCY_US,
    PCIE_COLLECTIVE_LATENCY_US,
    StepModel,
    all_reduce_bytes_per_step,
    attention_flops_per_token_decode,
    collectives_per_step,
    critical_batch,
    largest_batch_meeting,
    moe_fraction_touched,
    ridge_flops_per_byte,
    round_batch,
    stage_send_bytes_per_step,
    weight_flops_per_token,
)
from ..physics.memory import (
    kv_bytes_per_token_split,
    sequence_kv_bytes,
    sequence_kv_bytes_read,
    state_bytes_per_sequence,
)
from ..physics.prefill import (
    attention_flops_per_token_prefill,
    prefill_tokens_per_s,
    ttft_s,
)
from ..profile.schema import Profile
from . import advice
from .memory_stage import MemoryStage, memory_figures, memory_stage
from .performance import EnginePerformance, engine_performance
from .provenance import provenance
from .remedies import longest_context_that_fits
from .result import (
    CapacityFigures,
    CostFigures,
    DecodeFigures,
    KvFigures,
    Plan,
    PrefillFigures,
    RooflineFigures,
)

__all__ = ["Plan", "plan"]


# _Kv and _Decode are built on every plan and never leave it: unfrozen, as a frozen dataclass costs
# ~1.5k instructions a field to build (object.__setattr__ field by field).
@dataclass(slots=True)
class _Kv:
    """KV bytes of the profile's model and workload, per token and per sequence."""

    full_per_token: float
    sliding_per_token: float
    window: int | None
    sequence_avg: float
    sequence_max: float
    sequence_read: float  # KV bytes one average sequence reads per decode step (+ its state, read and written)
    report: VllmReport | None
    state: float = 0.0  # recurrent state one sequence holds on one GPU


@dataclass(slots=True)
class _Decode:
    """The decode step models (expected and ideal) and their compute paths."""

    step: StepModel
    ideal_step: StepModel
    weight_path: str
    attention_path: str
    weight_flops: float
    attention_flops: float
    weight_flops_per_s: float
    attention_flops_per_s: float
    performance: EnginePerformance | None  # the fitted model (engine.speed == "fitted")


def _step_model(profile: Profile, dense_bytes: float, expert_bytes: float, sequence_read_bytes: float,
                weight_flops: float, attention_flops: float, weight_flops_per_s: float,
                attention_flops_per_s: float, mbu: float, mfu: float, engine_time: bool) -> StepModel:
    """Decode-step coefficients for the busiest GPU: pipeline stages run in turn, TP ranks in parallel.
    ``engine_time`` adds the engine's own time per step (fixed and per running sequence); the peak-spec
    step leaves it out."""
    hardware, model, par, engine = profile.hardware, profile.model, profile.parallelism, profile.engine
    bandwidth = hardware.bandwidth_bytes_per_s * mbu
    stages = par.pipeline
    weight_compute = weight_flops / (par.tensor * weight_flops_per_s * mfu)
    link = hardware.interconnect_gb_s * 1e9
    per_sequence_bytes = (all_reduce_bytes_per_step(1, model.hidden_size, par.tensor, model.layers)
                          + stage_send_bytes_per_step(1, model.hidden_size, par.pipeline))
    collective = per_sequence_bytes / link if link else 0.0
    latency_us = engine.collective_latency_us
    if latency_us is None:
        pcie = "pcie" in hardware.interconnect.lower()
        latency_us = PCIE_COLLECTIVE_LATENCY_US if pcie else NVLINK_COLLECTIVE_LATENCY_US
    fixed = collectives_per_step(par.tensor, par.pipeline, model.layers) * latency_us * 1e-6
    return StepModel(
        dense_read_s=stages * dense_bytes / bandwidth,
        expert_read_s=stages * expert_bytes / bandwidth,
        experts=model.experts,
        experts_per_token=model.experts_per_token,
        tokens_per_pool_sequence=par.data,
        kv_read_s_per_sequence=stages * sequence_read_bytes / bandwidth,
        compute_s_per_sequence=weight_compute + attention_flops / (par.tensor * attention_flops_per_s * mfu),
        weight_compute_s_per_sequence=weight_compute,
        collective_s_per_sequence=collective,
        collective_fixed_s=fixed,
        overhead_s=engine.step_overhead_ms * 1e-3 if engine_time else 0.0,
        overhead_s_per_sequence=engine.step_overhead_per_sequence_us * 1e-6 if engine_time else 0.0,
    )


def _kv(profile: Profile, memory: MemoryStage) -> _Kv:
    """KV bytes per token and per sequence (physics.md, "KV cache bytes per token"), and vLLM's pool report."""
    model, par, work, engine = profile.model, profile.parallelism, profile.workload, profile.engine
    full, sliding = kv_bytes_per_token_split(model, par.tensor, par.pipeline, memory.kv_per_layer)
    window = model.sliding_window if model.sliding_window_layers else None
    report = None
    if engine.name == "vllm" and memory.stage is not None:
        report = vllm_report(model, available_kv=memory.budget, tensor=par.tensor, stage=memory.stage,
                             max_model_len=work.max_context_tokens, batched_tokens=memory.batched_tokens,
                             sequences=memory.sequences, block_tokens=memory.block_tokens,
                             cuda_graph_charged=memory.cuda_graphs, version=engine.version, layout=memory.layout)
    state = state_bytes_per_sequence(model, par.tensor, par.pipeline)
    # A sequence holds its KV and its state; a decode step reads its KV and reads and rewrites its state.
    return _Kv(full_per_token=full, sliding_per_token=sliding, window=window, state=state,
               sequence_avg=sequence_kv_bytes(full, sliding, work.avg_context_tokens, window, memory.block_tokens)
               + state,
               sequence_max=sequence_kv_bytes(full, sliding, work.max_context_tokens, window, memory.block_tokens)
               + state,
               sequence_read=sequence_kv_bytes_read(full, sliding, work.avg_context_tokens, window) + 2 * state,
               report=report)


def _decode(profile: Profile, memory: MemoryStage, kv: _Kv) -> _Decode:
    """The decode step as coefficients of the batch (physics.md, "Decode"), expected and at peak spec."""
    hardware, model, engine = profile.hardware, profile.model, profile.engine
    weight_path = hardware.tflops.compute_path(model.weight_dtype)
    attention_path = hardware.tflops.compute_path(model.kv_dtype)
    weight_flops_per_s = hardware.tflops.flops_per_s(weight_path)
    attention_flops_per_s = hardware.tflops.flops_per_s(attention_path)
    weight_flops = weight_flops_per_token(model)
    attention_flops = attention_flops_per_token_decode(model, profile.workload.avg_context_tokens)

    performance = None
    if engine.speed == "fitted":
        performance = engine_performance(profile, memory, kv.report.kv_cache_tokens if kv.report else None)
        context = profile.workload.avg_context_tokens
        step, ideal = performance.step.decode_step_model(context), performance.step.decode_step_model(context, True)
    else:
        def step_at(mbu: float, mfu: float, engine_time: bool) -> StepModel:
            return _step_model(profile, memory.dense_bytes, memory.expert_bytes, kv.sequence_read, weight_flops,
                               attention_flops, weight_flops_per_s, attention_flops_per_s, mbu, mfu, engine_time)

        step = step_at(engine.mbu, engine.mfu, True)
        has_engine_time = engine.step_overhead_ms > 0 or engine.step_overhead_per_sequence_us > 0
        ideal = step_at(1.0, 1.0, False) if engine.mbu < 1 or engine.mfu < 1 or has_engine_time else step
    return _Decode(step=step, ideal_step=ideal, weight_path=weight_path, attention_path=attention_path,
                   weight_flops=weight_flops, attention_flops=attention_flops,
                   weight_flops_per_s=weight_flops_per_s, attention_flops_per_s=attention_flops_per_s,
                   performance=performance)


def _capacity(profile: Profile, memory: MemoryStage, kv: _Kv, decode: _Decode) -> CapacityFigures:
    """Sequences and users that fit (physics.md, "Capacity"), bounded by the speed target where it binds."""
    par, work = profile.parallelism, profile.workload
    by_memory = sequences_that_fit(memory.budget, kv.sequence_avg)
    by_speed = None
    if work.target_tokens_per_s > 0 and by_memory > 0:
        by_speed = largest_batch_meeting(decode.step, work.target_tokens_per_s, by_memory)
    speed_binds = by_speed is not None and by_speed < by_memory
    concurrent = by_speed if speed_binds and by_speed is not None else by_memory
    kv_groups = par.data * par.replicas
    capacity = capacity_users(kv_groups, concurrent, work.duty_cycle)
    limited_by = "users" if work.users <= capacity else ("speed" if speed_binds else "memory")
    return CapacityFigures(
        max_sequences_full_context=sequences_that_fit(memory.budget, kv.sequence_max), concurrent_sequences=concurrent,
        concurrent_by_memory=by_memory, concurrent_by_speed=by_speed, kv_groups=kv_groups, capacity_users=capacity,
        users_served=min(work.users, capacity),
        replicas_needed=replicas_needed(work.users, work.duty_cycle, par.data, concurrent), limited_by=limited_by)


def _decode_figures(profile: Profile, memory: MemoryStage, kv: _Kv, decode: _Decode,
                    capacity: CapacityFigures) -> tuple[DecodeFigures, RooflineFigures]:
    """The decode step at the planned batch, and where it sits on the roofline (physics.md, "Roofline")."""
    model, par, work = profile.model, profile.parallelism, profile.workload
    step = decode.step
    concurrent, users_served = capacity.concurrent_sequences, capacity.users_served
    batch = max(1.0, min(float(concurrent) if concurrent else 1.0, users_served * work.duty_cycle / capacity.kv_groups))
    memory_time, compute_time, collective_time, engine_time = step.times_s(batch)
    step_time = max(memory_time, compute_time) + collective_time + engine_time  # step.step_time_s(batch)
    step_time_ideal = step_time if decode.ideal_step is step else decode.ideal_step.step_time_s(batch)
    touched = moe_fraction_touched(batch * par.data, model.experts, model.experts_per_token)
    bytes_per_step = memory.dense_bytes + memory.expert_bytes * touched + batch * kv.sequence_read
    flops_per_step = batch * (decode.weight_flops + decode.attention_flops) / (par.tensor * par.pipeline)
    running = users_served * work.duty_cycle
    # The band around the speeds: speed = 1 / time, so its low end is the step's slowest time.
    band = None if decode.performance is None else decode.performance.bands.tpot
    fastest_s, slowest_s = (step_time, step_time) if band is None else band.around_time(step_time, step_time_ideal)
    figures = DecodeFigures(
        batch=batch, step_time=step_time, memory_time=memory_time, compute_time=compute_time,
        collective_time=collective_time, communication_fraction=collective_time / step_time,
        engine_time=engine_time, tokens_per_s_per_user=1 / step_time,
        tokens_per_s_aggregate=running / step_time,  # the whole deployment; 0 when nobody fits
        tokens_per_s_single_user=1 / step.step_time_s(1.0), tokens_per_s_per_user_ideal=1 / step_time_ideal,
        tokens_per_s_aggregate_ideal=running / step_time_ideal, step_time_ideal=step_time_ideal,
        bytes_per_step=bytes_per_step, bound="compute" if compute_time > memory_time else "memory",
        arithmetic_intensity=flops_per_step / bytes_per_step,
        meets_target=None if work.target_tokens_per_s <= 0 else 1 / step_time >= work.target_tokens_per_s,
        tokens_per_s_per_user_low=1 / slowest_s, tokens_per_s_per_user_high=1 / fastest_s,
        tokens_per_s_aggregate_low=running / slowest_s, tokens_per_s_aggregate_high=running / fastest_s)
    roofline = RooflineFigures(
        ridge=ridge_flops_per_byte(decode.weight_flops_per_s, profile.hardware.bandwidth_bytes_per_s),
        critical_batch=round_batch(critical_batch(step, include_kv=True)),
        critical_batch_weights_only=round_batch(critical_batch(step, include_kv=False)),
        compute_busy_fraction=compute_time / step_time, weight_compute_path=decode.weight_path,
        attention_compute_path=decode.attention_path)
    return figures, roofline


def _fitted_prefill(profile: Profile, performance: EnginePerformance, prompt: float) -> tuple[float, float]:
    """(seconds, peak-spec seconds) to prefill the workload's uncached ``prompt`` (tokens, at least 1) alone on
    the fitted model, in chunks of the step's token budget (whole when the engine does not chunk): the prefill
    step yields the first token."""
    work, limits, step = profile.workload, performance.limits, performance.step
    prefix = work.prompt_tokens - prompt if work.prompt_tokens > prompt else 0.0
    chunks = ceil(prompt / limits.max_num_batched_tokens) if limits.chunked_prefill else 1
    chunk = prompt / chunks
    pairs = chunk * (prefix + prompt / 2)
    return chunks * step.step_time_s(0.0, 0.0, chunk, pairs), chunks * step.ideal_step_time_s(0.0, 0.0, chunk, pairs)


def _prefill(profile: Profile, memory: MemoryStage, kv: _Kv, decode: _Decode, figures: DecodeFigures) -> PrefillFigures:
    """Prefill rate and time to first token (physics.md, "Prefill and time to first token")."""
    model, par, work, engine = profile.model, profile.parallelism, profile.workload, profile.engine
    gpus = par.gpus_per_replica
    attention = attention_flops_per_token_prefill(model, work.prompt_tokens)
    # The prefill point on the roofline: one pass over the uncached prompt reads the weights once
    # and writes each token's KV, per GPU of the busiest stage.
    prompt_pass = max(1.0, work.prompt_tokens * (1 - work.prefix_cache_hit))
    pass_bytes = (memory.dense_bytes
                  + memory.expert_bytes * moe_fraction_touched(prompt_pass, model.experts, model.experts_per_token)
                  + prompt_pass * (kv.full_per_token + kv.sliding_per_token))
    intensity = prompt_pass * (decode.weight_flops + attention) / (par.tensor * par.pipeline) / pass_bytes
    performance = decode.performance
    if performance is not None:  # the fitted model: the prompt alone, in steps of the token budget
        seconds, seconds_ideal = _fitted_prefill(profile, performance, prompt_pass)
        rate, rate_ideal = prompt_pass * par.data / seconds, prompt_pass * par.data / seconds_ideal
        ttft = performance.request_overhead_s + seconds * work.concurrent_prefills
        ttft_ideal = seconds_ideal * work.concurrent_prefills
        ttft_low, ttft_high = performance.bands.ttft.around_time(ttft, ttft_ideal)
    else:
        # A prompt pass also reads the weights: a long prompt routes to every expert, so every expert is read
        # (physics.md, "Prefill and time to first token"); the pass takes the longer of its FLOPs and its bytes.
        flops_rate = prefill_tokens_per_s(gpus, decode.weight_flops, decode.weight_flops_per_s, attention,
                                          decode.attention_flops_per_s, engine.mfu)
        read_rate = prompt_pass / (par.pipeline * pass_bytes / profile.hardware.bandwidth_bytes_per_s)
        rate_ideal = min(flops_rate / engine.mfu, read_rate)
        rate = min(flops_rate, read_rate * engine.mbu)
        ttft = ttft_s(work.prompt_tokens, work.prefix_cache_hit, rate, work.concurrent_prefills, figures.step_time)
        ttft_ideal = ttft_s(work.prompt_tokens, work.prefix_cache_hit, rate_ideal, work.concurrent_prefills,
                            figures.step_time_ideal)
        ttft_low = ttft_high = ttft
    return PrefillFigures(tokens_per_s=rate, tokens_per_s_ideal=rate_ideal,
                          tokens_per_s_peak=gpus * decode.weight_flops_per_s / decode.weight_flops,
                          flops_per_token=decode.weight_flops + attention, arithmetic_intensity=intensity, ttft=ttft,
                          ttft_ideal=ttft_ideal,
                          meets_target=None if work.ttft_target_s <= 0 else ttft <= work.ttft_target_s,
                          ttft_low=ttft_low, ttft_high=ttft_high)


def _cost(profile: Profile, users_served: int, aggregate_tokens_per_s: float) -> CostFigures:
    """Rented and owned cost (physics.md, "Cost")."""
    hardware, gpus, cost = profile.hardware, profile.parallelism.gpus, profile.cost
    per_hour = cost_per_hour(gpus, hardware.price_per_gpu_hour)
    return CostFigures(
        per_hour=per_hour, per_user_month=cost_per_user_month(per_hour, users_served, cost.hours_per_month),
        per_million_tokens=cost_per_million_tokens(per_hour, aggregate_tokens_per_s),
        own_lifetime_per_user=own_lifetime_cost_per_user(gpus, hardware.purchase_price, users_served),
        own_per_hour=own_cost_per_hour(gpus, hardware.purchase_price, cost.lifetime_years, hardware.tdp_w, cost.pue,
                                       cost.power_price_kwh))


def _tokens_capacity(memory: MemoryStage, kv: _Kv) -> int:
    """Tokens the pool holds: budget / KV bytes per token, less the state of the full-length sequences
    that fit where the model keeps a recurrent state."""
    per_token = kv.full_per_token + kv.sliding_per_token
    held = sequences_that_fit(memory.budget, kv.sequence_max) * kv.state
    return kv_tokens_capacity(memory.budget - held, per_token)


def plan(profile: Profile) -> Plan:
    """Plan one profile (physics.md end to end). Never raises for a valid profile."""
    memory = memory_stage(profile)
    kv = _kv(profile, memory)
    decode = _decode(profile, memory, kv)
    capacity = _capacity(profile, memory, kv, decode)
    decode_figures, roofline = _decode_figures(profile, memory, kv, decode, capacity)
    result = Plan(
        gpus=profile.parallelism.gpus,
        memory=memory_figures(profile, memory, capacity, kv.sequence_avg, kv.sequence_max, kv.state, kv.report),
        kv=KvFigures(bytes_per_token=kv.full_per_token + kv.sliding_per_token, block_tokens=memory.block_tokens,
                     tokens_capacity=kv.report.kv_cache_tokens if kv.report else _tokens_capacity(memory, kv),
                     bytes_per_sequence_avg_context=kv.sequence_avg, bytes_per_sequence_max_context=kv.sequence_max,
                     longest_context_that_fits=longest_context_that_fits(  # a hybrid's state comes off first
                         (kv.report.available_kv if kv.report else memory.budget) - kv.state, kv.full_per_token,
                         kv.sliding_per_token, kv.window, memory.block_tokens),
                     state_bytes_per_sequence=kv.state),
        capacity=capacity,
        decode=decode_figures,
        roofline=roofline,
        prefill=_prefill(profile, memory, kv, decode, decode_figures),
        cost=_cost(profile, capacity.users_served, decode_figures.tokens_per_s_aggregate),
        provenance=provenance(profile, profile.engine.activation_gib is None or profile.engine.overhead_gib is None,
                              decode.performance.kind if decode.performance else None),
        engine=kv.report,
        problems=(),
        notes=(),
    )
    problems, notes = advice.advise(profile, result)
    if problems and problems[0].severity == "error":
        return advice.not_running(result, problems, notes)
    # The draft is this function's own and not yet shared: its advice goes in place, as a frozen dataclass's
    # __post_init__ would set it, rather than into a second Plan (12 fields set one by one).
    object.__setattr__(result, "problems", problems)
    object.__setattr__(result, "notes", notes)
    return result
